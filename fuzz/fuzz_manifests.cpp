// bytes -> parseManifestText (the `check` command's YAML/JSON reader). Never crashes or throws;
// every object is a JSON object with a line inside the text; every problem has a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/common.h"
#include "webhook/base/manifests.h"

using aw::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  aw::webhook::ManifestSet set;
  aw::webhook::parseManifestText(text, "fuzz.yaml", set);
  for (const aw::webhook::ManifestObject& o : set.objects) {
    if (!o.object.is_object()) fail("a manifest object is not a JSON object: " + o.object.dump());
    if (o.line < 1) fail("a manifest object without a line: " + std::to_string(o.line));
    // What check prints must be printable: dumping (with replacement) never throws.
    (void)o.object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (const aw::webhook::ManifestProblem& p : set.problems) {
    if (p.message.empty()) fail("a problem without a message");
  }
  return 0;
}

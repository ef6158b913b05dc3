// bytes -> parseConfig(text, "fuzz", "/nonexistent"). Never crashes or throws; a refusal names
// the source; an accepted configuration builds an Alliance.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz/common.h"
#include "webhook/state/config.h"
#include "webhook/state/state.h"

namespace {

using aw::fuzz::fail;

// localCluster.clusterConfigurationFile makes parseConfig read a file. Relative paths resolve
// below /nonexistent and cannot open anything; an absolute one could name /dev/zero, a FIFO or
// /proc/kcore and hang or exhaust the fuzzer (the operator's choice in real use, not an input
// the webhook receives). Skip inputs naming an existing file that is not a plain file, or
// anything below /dev, /proc and /sys.
bool readsSpecialFile(const std::string& text) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return false;
    const YAML::Node local = root["localCluster"];
    if (!local || !local.IsMap()) return false;
    const YAML::Node file = local["clusterConfigurationFile"];
    if (!file || !file.IsScalar()) return false;
    std::filesystem::path path(file.Scalar());
    if (path.is_relative()) path = std::filesystem::path("/nonexistent") / path;
    std::error_code ec;
    const std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
    if (ec) return true;
    const std::string s = real.string();
    for (const char* prefix : {"/dev", "/proc", "/sys", "/run"}) {
      if (s.rfind(prefix, 0) == 0) return true;
    }
    const auto status = std::filesystem::status(real, ec);
    return !ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
           !std::filesystem::is_directory(status);
  } catch (...) {
    return false;  // parseConfig reports the same YAML error before it reads any file
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (readsSpecialFile(text)) return -1;  // not added to the corpus
  aw::webhook::ConfigResult r = aw::webhook::parseConfig(text, "fuzz", "/nonexistent");
  if (r.config) {
    if (!r.error.empty()) fail("accepted with an error: " + r.error);
    aw::webhook::makeSnapshot(std::move(*r.config));  // builds the Alliance and its index
  } else {
    if (r.error.empty()) fail("refused without an error");
    if (r.error.rfind("fuzz", 0) != 0 && r.error.find("/nonexistent") == std::string::npos &&
        r.error.rfind("/", 0) != 0)
      fail("the error does not name its source: " + r.error);
  }
  return 0;
}

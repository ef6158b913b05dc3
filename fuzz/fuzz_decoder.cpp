// bytes -> the request path's decoder (decodeForRules) and the reference (decodeAdmissionReview),
// each behind its own AdmissionHandler, on /validate and /mutate. Any difference in the HTTP
// answer (status, decision, message, warnings, patch: the whole body) is a finding.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/common.h"
#include "webhook/admission/handler.h"

namespace {

using aw::fuzz::fail;
using aw::webhook::Endpoint;

struct World {
  aw::webhook::State state;

  World() {
    aw::fuzz::logToNowhere();
    aw::webhook::Config config = aw::fuzz::fuzzConfig();
    // UPDATEs also judge the old object, so its decoding is compared too.
    config.existingViolations = aw::webhook::ExistingViolations::Warn;
    state.replace(aw::webhook::makeSnapshot(std::move(config)));
  }
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  aw::webhook::Metrics metrics;
  const aw::webhook::AdmissionHandler fast(world().state, metrics);
  const aw::webhook::AdmissionHandler reference(world().state, metrics,
                                                aw::webhook::decodeAdmissionReview);
  // As the server hands a body over: followed by padding, parsed where it lies.
  std::string padded(body);
  padded.append(aw::webhook::kBodyPadding, '\0');
  for (const Endpoint endpoint : {Endpoint::Validate, Endpoint::Mutate}) {
    const aw::webhook::HttpResult a =
        fast.handle(endpoint, std::string_view(padded).substr(0, size), true);
    const bool fellBack = aw::webhook::lastDecodeFellBack();
    const aw::webhook::HttpResult b = reference.handle(endpoint, body);
    if (a.status != b.status || a.body != b.body) {
      fail(std::string(aw::webhook::endpointPath(endpoint)) +
           ": the decoders answer differently (" +
           (fellBack ? "after falling back" : "on the fast path") +
           ")\nfast:      " + std::to_string(a.status) + " " + a.body.substr(0, 2000) +
           "\nreference: " + std::to_string(b.status) + " " + b.body.substr(0, 2000));
    }
  }
  return 0;
}

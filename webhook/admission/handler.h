// The seam between transport and policy: body in, HTTP status and body out. Knows the
// AdmissionReview format and the decision; knows no rule by name and nothing of sockets.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "webhook/admission/admission.h"
#include "webhook/admission/review_decoder.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

enum class Endpoint { Validate, Mutate };
std::string_view endpointName(Endpoint e);  // "validate", "mutate"
std::string_view endpointPath(Endpoint e);  // "/validate", "/mutate"

struct HttpResult {
  int status = 200;
  std::string body;
};

class AdmissionHandler {
 public:
  // How a body becomes a request: decodeForRules on the request path; the equivalence test and
  // fuzzer also run one with the reference decodeAdmissionReview and compare the answers.
  using Decoder = DecodeResult (*)(std::string_view body);

  AdmissionHandler(const State& state, Metrics& metrics, Decoder decoder = decodeForRules)
      : state_(state), metrics_(metrics), decoder_(decoder) {}
  // `bodyPadded`: kBodyPadding readable bytes follow the body, so decodeForRules parses it where
  // it lies (decodeForRulesInPlace).
  HttpResult handle(Endpoint endpoint, std::string_view body, bool bodyPadded = false) const;
  // What handle() does once the body is decoded: the rules, the decision, the answer, the
  // metrics and the log line. `start` is when the request came in (for its duration).
  HttpResult answer(Endpoint endpoint, const AdmissionRequest& req,
                    std::chrono::steady_clock::time_point start) const;

 private:
  const State& state_;
  Metrics& metrics_;
  Decoder decoder_;
};

}  // namespace aw::webhook

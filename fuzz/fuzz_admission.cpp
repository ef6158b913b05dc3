// bytes -> AdmissionHandler::handle on /validate and /mutate, with a realistic configuration.
// Never crashes or throws; every answer is 200 with an AdmissionReview carrying the request's
// uid, or 400 with {"error": "..."}; and the answer is the same when the body is first parsed by
// nlohmann's plain parser and re-serialized (differential check of the decoder's own parse).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fuzz/common.h"
#include "webhook/admission/handler.h"

namespace {

using aw::fuzz::fail;
using nlohmann::json;

struct World {
  aw::webhook::State state;

  World() {
    aw::fuzz::logToNowhere();
    state.replace(aw::webhook::makeSnapshot(aw::fuzz::fuzzConfig()));
  }
};

World& world() {
  static World w;
  return w;
}

aw::webhook::HttpResult check(aw::webhook::Endpoint endpoint, std::string_view body,
                              aw::webhook::Metrics& metrics) {
  const char* name = endpoint == aw::webhook::Endpoint::Validate ? "validate" : "mutate";
  const aw::webhook::AdmissionHandler handler(world().state, metrics);
  const aw::webhook::HttpResult r = handler.handle(endpoint, body);
  if (r.status != 200 && r.status != 400)
    fail(std::string(name) + ": status " + std::to_string(r.status));
  if (!json::accept(r.body)) fail(std::string(name) + ": answer is not valid JSON: " + r.body);
  const json answer = json::parse(r.body);
  if (r.status == 400) {
    if (!answer.is_object() || !answer.contains("error") || !answer["error"].is_string())
      fail(std::string(name) + ": 400 without {\"error\": string}: " + r.body);
    return r;
  }
  if (!answer.is_object() || answer.value("kind", "") != "AdmissionReview" ||
      !answer.contains("response") || !answer["response"].is_object())
    fail(std::string(name) + ": 200 without an AdmissionReview response: " + r.body);
  const json& resp = answer["response"];
  if (!resp.contains("allowed") || !resp["allowed"].is_boolean())
    fail(std::string(name) + ": response without boolean allowed: " + r.body);
  if (!resp.contains("uid") || !resp["uid"].is_string() || resp["uid"].get<std::string>().empty())
    fail(std::string(name) + ": response without uid: " + r.body);
  if (endpoint == aw::webhook::Endpoint::Validate && resp.contains("patch"))
    fail(std::string(name) + ": a validating answer carries a patch: " + r.body);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // Fresh metrics per input: every input runs alone (libFuzzer needs no state across inputs).
  aw::webhook::Metrics metrics;
  const aw::webhook::HttpResult validated = check(aw::webhook::Endpoint::Validate, body, metrics);
  const aw::webhook::HttpResult mutated = check(aw::webhook::Endpoint::Mutate, body, metrics);
  // Differential: the decoder's own parse (which drops metadata.managedFields on the way, as no
  // rule reads it) must answer exactly as nlohmann's plain parse of the same document does.
  const json plain = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!plain.is_discarded()) {
    const std::string again = plain.dump();
    for (const auto& [endpoint, first] : {std::pair{aw::webhook::Endpoint::Validate, &validated},
                                          std::pair{aw::webhook::Endpoint::Mutate, &mutated}}) {
      const aw::webhook::HttpResult second = check(endpoint, again, metrics);
      if (second.status != first->status || second.body != first->body)
        fail(std::string(aw::webhook::endpointName(endpoint)) +
             ": the answer changes when the body is re-serialized by a plain parse\nfirst:  " +
             std::to_string(first->status) + " " + first->body.substr(0, 2000) +
             "\nsecond: " + std::to_string(second.status) + " " + second.body.substr(0, 2000) +
             "\nre-serialized body: " + again.substr(0, 2000));
    }
  }
  const std::string text = metrics.render();
  if (text.empty() || text.back() != '\n') fail("metrics text does not end with a newline");
  return 0;
}

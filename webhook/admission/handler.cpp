#include "webhook/admission/handler.h"

#include <algorithm>
#include <chrono>
#include <span>
#include <string_view>
#include <vector>

#include "rules/registry.h"
#include "webhook/admission/admission.h"
#include "webhook/admission/decision.h"
#include "webhook/base/error_body.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

std::string_view endpointName(Endpoint e) {
  return e == Endpoint::Validate ? "validate" : "mutate";
}
std::string_view endpointPath(Endpoint e) {
  return e == Endpoint::Validate ? "/validate" : "/mutate";
}

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The rules' outcome for one request and what it decides. Exempt requests of the kinds the
// webhook checks are allowed without asking the rules: `exempt` says why, and is empty for every
// other request.
struct Judgement {
  rules::Outcome outcome;  // the decision points into it
  Decision decision{allowed(), "exempt", {}};
  std::string exempt;
};

void judge(const AdmissionRequest& req, const rules::Request& request, Endpoint endpoint,
           const Snapshot& snapshot, Judgement& out) {
  const Config& config = snapshot.config;
  if (request.kind != nullptr) {
    out.exempt = config.exemptions.match(req.namespace_, req.username, req.groups);
  }
  if (!out.exempt.empty()) return;
  const rules::Context context{snapshot.alliance, config.settings, &snapshot.plan};
  out.outcome = endpoint == Endpoint::Validate ? rules::validate(request, context)
                                               : rules::mutate(request, context);
  if (config.existingViolations == ExistingViolations::Warn) {
    rules::markExisting(out.outcome, request, context);
  }
  out.decision = decide(out.outcome, config.mode);
}

// One line per admission, in the fields' key order (what a nlohmann::json object of them gave).
void logAdmission(std::string_view endpoint, const AdmissionRequest& req,
                  std::string_view operation, const Judgement& j,
                  std::span<const std::string_view> ruleIds, double seconds) {
  log::Line line(spdlog::level::info, "admission");
  line.str("decision", j.decision.verdict)
      .flag("dry_run", req.dryRun)
      .number("duration_ms", seconds * 1000.0)
      .str("endpoint", endpoint);
  if (!j.exempt.empty()) line.str("exempt", j.exempt);
  line.str("kind", req.kind).str("name", req.name).str("namespace", req.namespace_);
  line.str("operation", operation);
  if (!j.decision.response.patch.empty()) line.flag("patched", true);
  line.strings("rules", ruleIds).str("uid", req.uid).str("user", req.username);
  line.write();
}

}  // namespace

HttpResult AdmissionHandler::handle(Endpoint endpoint, std::string_view body,
                                    bool bodyPadded) const {
  const auto start = std::chrono::steady_clock::now();
  DecodeResult decoded =
      bodyPadded && decoder_ == &decodeForRules ? decodeForRulesInPlace(body) : decoder_(body);
  if (!decoded.request) {
    const std::string_view name = endpointName(endpoint);
    metrics_.request(name, "", "", "error", secondsSince(start));
    log::warn("rejected malformed admission request",
              {{"endpoint", name}, {"error", decoded.error}, {"bytes", body.size()}});
    return {400, errorBody(decoded.error)};
  }
  HttpResult result = answer(endpoint, *decoded.request, start);
  releaseLargeDecodeBuffers();
  return result;
}

HttpResult AdmissionHandler::answer(Endpoint endpoint, const AdmissionRequest& req,
                                    std::chrono::steady_clock::time_point start) const {
  const std::shared_ptr<const Snapshot> snapshot = state_.current();
  const rules::Request request = req.toRulesRequest();
  Judgement judged;
  judge(req, request, endpoint, *snapshot, judged);
  std::string out = encodeAdmissionReview(req.apiVersion, req.uid, judged.decision.response);

  const double seconds = secondsSince(start);
  const std::string_view name = endpointName(endpoint);
  const std::string_view operation = rules::operationName(req.operation);
  // Only kinds of the table become label values: the request's kind is client input, and every
  // distinct label set stays in memory for good.
  const std::string_view kindLabel = request.kind != nullptr ? request.kind->kind : "other";
  metrics_.request(name, kindLabel, operation, judged.decision.verdict, seconds);
  thread_local std::vector<std::string_view> ruleIds;  // each rule once, in the order of findings
  ruleIds.clear();
  for (const Decision::Effect& e : judged.decision.findings) {
    const rules::Finding* f = e.finding;
    metrics_.finding(f->rule, rules::actionName(f->action));
    if (std::find(ruleIds.begin(), ruleIds.end(), f->rule) == ruleIds.end()) {
      ruleIds.push_back(f->rule);
    }
  }
  if (log::enabled(spdlog::level::info)) {
    logAdmission(name, req, operation, judged, ruleIds, seconds);
  }
  return {200, std::move(out)};
}

}  // namespace aw::webhook

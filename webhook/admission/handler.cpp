#include "webhook/admission/handler.h"

#include <chrono>

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
  const rules::Context context{snapshot.alliance, config.settings};
  out.outcome = endpoint == Endpoint::Validate ? rules::validate(request, context)
                                               : rules::mutate(request, context);
  if (config.existingViolations == ExistingViolations::Warn) {
    rules::markExisting(out.outcome, request, context);
  }
  out.decision = decide(out.outcome, config.mode);
}

void logAdmission(const std::string& endpoint, const AdmissionRequest& req,
                  const std::string& operation, const Judgement& j, nlohmann::json ruleIds,
                  double seconds) {
  nlohmann::json fields = {
      {"endpoint", endpoint},
      {"uid", req.uid},
      {"kind", req.kind},
      {"namespace", req.namespace_},
      {"name", req.name},
      {"operation", operation},
      {"user", req.username},
      {"decision", j.decision.verdict},
      {"rules", std::move(ruleIds)},
      {"dry_run", req.dryRun},
      {"duration_ms", seconds * 1000.0},
  };
  if (!j.exempt.empty()) fields["exempt"] = j.exempt;
  if (!j.decision.response.patch.empty()) fields["patched"] = true;
  log::info("admission", fields);
}

}  // namespace

HttpResult AdmissionHandler::handle(Endpoint endpoint, std::string_view body) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string name(endpointName(endpoint));
  DecodeResult decoded = decodeAdmissionReview(body);
  if (!decoded.request) {
    metrics_.request(name, "", "", "error", secondsSince(start));
    log::warn("rejected malformed admission request",
              {{"endpoint", name}, {"error", decoded.error}, {"bytes", body.size()}});
    return {400, errorBody(decoded.error)};
  }
  const AdmissionRequest& req = *decoded.request;
  const std::shared_ptr<const Snapshot> snapshot = state_.current();
  const rules::Request request = req.toRulesRequest();
  Judgement judged;
  judge(req, request, endpoint, *snapshot, judged);
  std::string out = encodeAdmissionReview(req.apiVersion, req.uid, judged.decision.response);

  const double seconds = secondsSince(start);
  const std::string operation(rules::operationName(req.operation));
  // Only kinds of the table become label values: the request's kind is client input, and every
  // distinct label set stays in memory for good.
  const std::string kindLabel(request.kind != nullptr ? request.kind->kind : "other");
  metrics_.request(name, kindLabel, operation, judged.decision.verdict, seconds);
  nlohmann::json ruleIds = nlohmann::json::array();
  for (const Decision::Effect& e : judged.decision.findings) {
    const rules::Finding* f = e.finding;
    metrics_.finding(f->rule, std::string(rules::actionName(f->action)));
    if (std::find(ruleIds.begin(), ruleIds.end(), f->rule) == ruleIds.end()) {
      ruleIds.push_back(f->rule);
    }
  }
  if (log::enabled(spdlog::level::info)) {
    logAdmission(name, req, operation, judged, std::move(ruleIds), seconds);
  }
  return {200, std::move(out)};
}

}  // namespace aw::webhook

#include "webhook/admission/handler.h"

#include <chrono>

#include "rules/registry.h"
#include "webhook/admission/admission.h"
#include "webhook/admission/decision.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

std::string_view endpointName(Endpoint e) {
  return e == Endpoint::Validate ? "validate" : "mutate";
}
std::string_view endpointPath(Endpoint e) {
  return e == Endpoint::Validate ? "/validate" : "/mutate";
}

HttpResult AdmissionHandler::handle(Endpoint endpoint, std::string_view body) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string name(endpointName(endpoint));
  DecodeResult decoded = decodeAdmissionReview(body);
  if (!decoded.request) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.request(name, "", "", "error", seconds);
    log::warn("rejected malformed admission request",
              {{"endpoint", name}, {"error", decoded.error}, {"bytes", body.size()}});
    return {400, errorBody(decoded.error)};
  }
  const AdmissionRequest& req = *decoded.request;
  const std::shared_ptr<const Snapshot> snapshot = state_.current();
  const Config& config = snapshot->config;
  const rules::Context context{snapshot->alliance, config.settings};
  const rules::Request request = req.toRulesRequest();

  // Exempt requests of the kinds the webhook checks are allowed without asking the rules.
  // `exempt` says why, and is empty for every other request.
  const std::string exempt =
      request.kind == nullptr ? std::string()
                              : config.exemptions.match(req.namespace_, req.username, req.groups);
  rules::Outcome outcome;  // the decision points into it
  Decision decision{allowed(), "exempt", {}};
  if (exempt.empty()) {
    outcome = endpoint == Endpoint::Validate ? rules::validate(request, context)
                                             : rules::mutate(request, context);
    if (config.existingViolations == ExistingViolations::Warn) {
      rules::markExisting(outcome, request, context);
    }
    decision = decide(outcome, config.mode);
  }
  std::string out = encodeAdmissionReview(req.apiVersion, req.uid, decision.response);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string operation(rules::operationName(req.operation));
  // Only kinds of the table become label values: the request's kind is client input, and every
  // distinct label set stays in memory for good.
  const std::string kindLabel(request.kind != nullptr ? request.kind->kind : "other");
  metrics_.request(name, kindLabel, operation, decision.verdict, seconds);
  nlohmann::json ruleIds = nlohmann::json::array();
  for (const Decision::Effect& e : decision.findings) {
    const rules::Finding* f = e.finding;
    metrics_.finding(f->rule, std::string(rules::actionName(f->action)));
    if (std::find(ruleIds.begin(), ruleIds.end(), f->rule) == ruleIds.end())
      ruleIds.push_back(f->rule);
  }
  if (log::enabled(spdlog::level::info)) {
    nlohmann::json fields = {
        {"endpoint", name},
        {"uid", req.uid},
        {"kind", req.kind},
        {"namespace", req.namespace_},
        {"name", req.name},
        {"operation", operation},
        {"user", req.username},
        {"decision", decision.verdict},
        {"rules", ruleIds},
        {"dry_run", req.dryRun},
        {"duration_ms", seconds * 1000.0},
    };
    if (!exempt.empty()) fields["exempt"] = exempt;
    if (!decision.response.patch.empty()) fields["patched"] = true;
    log::info("admission", fields);
  }
  return {200, std::move(out)};
}

}  // namespace aw::webhook

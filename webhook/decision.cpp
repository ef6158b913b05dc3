#include "webhook/decision.h"

namespace aw::webhook {

namespace {

constexpr std::string_view kSeparator = "; ";
constexpr std::string_view kAuditPrefix = "[audit] ";

void appendJoined(std::string& to, const std::string& text) {
  if (!to.empty()) to += kSeparator;
  to += text;
}

}  // namespace

AdmissionResponse allowed() {
  return AdmissionResponse{};
}

AdmissionResponse denied(int code, std::string reason, std::string message) {
  AdmissionResponse r;
  r.allowed = false;
  r.code = code;
  r.reason = std::move(reason);
  r.message = std::move(message);
  return r;
}

Decision decide(const rules::Outcome& outcome, Mode mode) {
  Decision d;
  d.response = allowed();
  AdmissionResponse& r = d.response;
  int strength = 0;  // 0 allow, 1 audit, 2 warn, 3 deny/invalid
  auto raise = [&](int s, const char* verdict) {
    if (s > strength) {
      strength = s;
      d.verdict = verdict;
    }
  };
  d.verdict = "allow";

  // An object of the wrong shape: 400 in enforce mode, an audit finding in audit mode.
  if (!outcome.shapeErrors.empty()) {
    std::string message;
    for (const rules::Finding& f : outcome.shapeErrors) {
      d.findings.push_back(
          {&f, mode == Mode::Enforce ? rules::Action::Deny : rules::Action::Audit});
      if (mode == Mode::Enforce) {
        appendJoined(message, f.text());
      } else {
        r.warnings.push_back(std::string(kAuditPrefix) + f.text());
        appendJoined(r.auditAnnotations[f.rule], f.path + ": " + f.message);
      }
    }
    if (mode == Mode::Enforce) {
      d.response = denied(400, "BadRequest", std::move(message));
      d.verdict = "invalid";
    } else {
      d.verdict = "audit";
    }
    return d;
  }

  std::string denial;
  for (const rules::Finding& f : outcome.findings) {
    const bool wouldDeny = f.action == rules::Action::Deny && mode == Mode::Audit;
    d.findings.push_back({&f, wouldDeny ? rules::Action::Audit : f.action});
    switch (f.action) {
      case rules::Action::Deny:
        if (mode == Mode::Enforce) {
          appendJoined(denial, f.text());
          raise(3, "deny");
        } else {
          r.warnings.push_back(std::string(kAuditPrefix) + f.text());
          appendJoined(r.auditAnnotations[f.rule], f.path + ": " + f.message);
          raise(1, "audit");
        }
        break;
      case rules::Action::Warn:
        r.warnings.push_back(f.text());
        raise(2, "warn");
        break;
      case rules::Action::Audit:
        appendJoined(r.auditAnnotations[f.rule], f.path + ": " + f.message);
        raise(1, "audit");
        break;
      case rules::Action::Off:
        break;
    }
  }
  if (!denial.empty()) {
    r.allowed = false;
    r.code = 403;
    r.reason = "Forbidden";
    r.message = std::move(denial);
  }
  if (!outcome.patch.empty()) {
    r.patch = outcome.patch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return d;
}

}  // namespace aw::webhook

#include "webhook/admission/decision.h"

#include <map>

namespace aw::webhook {

namespace {

constexpr std::string_view kSeparator = "; ";
constexpr std::string_view kAuditPrefix = "[audit] ";
// A deny finding the old object of an UPDATE has too (rules::markExisting): it warns.
constexpr std::string_view kExistingPrefix = "[existing] ";

void appendJoined(std::string& to, const std::string& text) {
  if (!to.empty()) to += kSeparator;
  to += text;
}

// The API server keeps 4 KiB of warnings and shows a denial to a person: an answer names the
// first findings of each kind and counts the rest, so its size does not grow with the object.
constexpr std::size_t kMaxListed = 20;

// Findings joined with "; ", the first kMaxListed of them.
struct Joined {
  std::string text;
  std::size_t count = 0;
  void add(const std::string& item) {
    if (count++ < kMaxListed) appendJoined(text, item);
  }
  std::string str() const {
    std::string out = text;
    if (count > kMaxListed) {
      appendJoined(out, "... and " + std::to_string(count - kMaxListed) + " more");
    }
    return out;
  }
};

// Warnings, the first kMaxListed of them.
struct Listed {
  std::vector<std::string>& to;
  std::size_t count = 0;
  void add(std::string item) {
    if (count++ < kMaxListed) to.push_back(std::move(item));
  }
  void finish() {
    if (count > kMaxListed) {
      to.push_back("... and " + std::to_string(count - kMaxListed) + " more warnings");
    }
  }
};

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

  std::map<std::string, Joined> audit;
  auto setAudit = [&] {
    for (const auto& [rule, joined] : audit) r.auditAnnotations[rule] = joined.str();
  };

  // An object of the wrong shape: 400 in enforce mode, an audit finding in audit mode.
  if (!outcome.shapeErrors.empty()) {
    Joined message;
    Listed warnings{r.warnings};
    for (const rules::Finding& f : outcome.shapeErrors) {
      d.findings.push_back(
          {&f, mode == Mode::Enforce ? rules::Action::Deny : rules::Action::Audit});
      if (mode == Mode::Enforce) {
        message.add(f.text());
      } else {
        warnings.add(std::string(kAuditPrefix) + f.text());
        audit[f.rule].add(f.path + ": " + f.message);
      }
    }
    warnings.finish();
    setAudit();
    if (mode == Mode::Enforce) {
      d.response = denied(400, "BadRequest", message.str());
      d.verdict = "invalid";
    } else {
      d.verdict = "audit";
    }
    return d;
  }

  Joined denial;
  Listed warnings{r.warnings};
  for (const rules::Finding& f : outcome.findings) {
    const bool wouldDeny = f.action == rules::Action::Deny && mode == Mode::Audit;
    const bool existing = f.action == rules::Action::Deny && f.existing && mode == Mode::Enforce;
    d.findings.push_back({&f, wouldDeny  ? rules::Action::Audit
                              : existing ? rules::Action::Warn
                                         : f.action});
    switch (f.action) {
      case rules::Action::Deny:
        if (existing) {
          warnings.add(std::string(kExistingPrefix) + f.text());
          raise(2, "warn");
        } else if (mode == Mode::Enforce) {
          denial.add(f.text());
          raise(3, "deny");
        } else {
          warnings.add(std::string(kAuditPrefix) + f.text());
          audit[f.rule].add(f.path + ": " + f.message);
          raise(1, "audit");
        }
        break;
      case rules::Action::Warn:
        warnings.add(f.text());
        raise(2, "warn");
        break;
      case rules::Action::Audit:
        audit[f.rule].add(f.path + ": " + f.message);
        raise(1, "audit");
        break;
      case rules::Action::Off:
        break;
    }
  }
  warnings.finish();
  setAudit();
  if (denial.count > 0) {
    r.allowed = false;
    r.code = 403;
    r.reason = "Forbidden";
    r.message = denial.str();
  }
  if (!outcome.patch.empty()) {
    r.patch = outcome.patch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return d;
}

}  // namespace aw::webhook

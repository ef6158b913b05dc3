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

namespace {

// A decision's effects as they are found: the strongest verdict, the denial message, the
// warnings and the audit annotations, each list bounded.
class Effects {
 public:
  explicit Effects(Decision& d) : d_(d), warnings_{d.response.warnings} { d_.verdict = "allow"; }

  void deny(const rules::Finding& f) {
    denial_.add(f.text());
    raise(3, "deny");
  }
  void warn(std::string text) {
    warnings_.add(std::move(text));
    raise(2, "warn");
  }
  // An audit annotation; with `asWarning`, also the warning "[audit] RULE: PATH: message".
  void audit(const rules::Finding& f, bool asWarning) {
    if (asWarning) warnings_.add(std::string(kAuditPrefix) + f.text());
    audit_[f.rule].add(f.path + ": " + f.message);
    raise(1, "audit");
  }
  // Writes the warnings' and annotations' totals. The denial message, empty when none.
  std::string finish() {
    warnings_.finish();
    for (const auto& [rule, joined] : audit_) d_.response.auditAnnotations[rule] = joined.str();
    return denial_.count > 0 ? denial_.str() : std::string();
  }

 private:
  void raise(int strength, const char* verdict) {  // 0 allow, 1 audit, 2 warn, 3 deny
    if (strength <= strength_) return;
    strength_ = strength;
    d_.verdict = verdict;
  }

  Decision& d_;
  Joined denial_;
  Listed warnings_;
  std::map<std::string, Joined> audit_;
  int strength_ = 0;
};

// An object of the wrong shape: 400 in enforce mode, an audit finding in audit mode.
Decision decideShape(const rules::Outcome& outcome, Mode mode) {
  Decision d;
  d.response = allowed();
  d.findings.reserve(outcome.shapeErrors.size());
  Effects effects(d);
  for (const rules::Finding& f : outcome.shapeErrors) {
    d.findings.push_back({&f, mode == Mode::Enforce ? rules::Action::Deny : rules::Action::Audit});
    if (mode == Mode::Enforce) {
      effects.deny(f);
    } else {
      effects.audit(f, true);
    }
  }
  std::string message = effects.finish();
  if (mode == Mode::Enforce) {
    d.response = denied(400, "BadRequest", std::move(message));
    d.verdict = "invalid";
  }
  return d;
}

// What one finding does: a deny finding warns when the old object has it too (enforce mode),
// and becomes an audit warning in audit mode.
void apply(const rules::Finding& f, Mode mode, Effects& effects, Decision& d) {
  const bool deny = f.action == rules::Action::Deny;
  const bool existing = deny && f.existing && mode == Mode::Enforce;
  const bool wouldDeny = deny && mode == Mode::Audit;
  d.findings.push_back({&f, wouldDeny  ? rules::Action::Audit
                            : existing ? rules::Action::Warn
                                       : f.action});
  switch (f.action) {
    case rules::Action::Deny:
      if (existing) {
        effects.warn(std::string(kExistingPrefix) + f.text());
      } else if (mode == Mode::Enforce) {
        effects.deny(f);
      } else {
        effects.audit(f, true);
      }
      break;
    case rules::Action::Warn:
      effects.warn(f.text());
      break;
    case rules::Action::Audit:
      effects.audit(f, false);
      break;
    case rules::Action::Off:
      break;
  }
}

}  // namespace

Decision decide(const rules::Outcome& outcome, Mode mode) {
  if (!outcome.shapeErrors.empty()) return decideShape(outcome, mode);
  Decision d;
  d.response = allowed();
  d.findings.reserve(outcome.findings.size());
  Effects effects(d);
  for (const rules::Finding& f : outcome.findings) apply(f, mode, effects, d);
  if (std::string message = effects.finish(); !message.empty()) {
    d.response.allowed = false;  // warnings and audit annotations stay
    d.response.code = 403;
    d.response.reason = "Forbidden";
    d.response.message = std::move(message);
  }
  if (!outcome.patch.empty()) {
    d.response.patch = outcome.patch.text();
  }
  return d;
}

}  // namespace aw::webhook

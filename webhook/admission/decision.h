// From the rules' findings and the mode to the answer the API server gets (SPEC §4).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/engine/finding.h"
#include "webhook/admission/admission.h"
#include "webhook/state/mode.h"

namespace aw::webhook {

struct Decision {
  AdmissionResponse response;
  // "allow" | "warn" | "audit" | "deny" | "invalid": the strongest effect, for logs and metrics.
  std::string_view verdict;
  struct Effect {
    const rules::Finding* finding;
    rules::Action action;  // what it did once the mode applied: Deny, Warn or Audit
  };
  std::vector<Effect> findings;  // every finding that had an effect, in order
};

// `outcome` must outlive the Decision (findings point into it).
Decision decide(const rules::Outcome& outcome, Mode mode);

// Named answers, as controller-runtime has them.
AdmissionResponse allowed();
AdmissionResponse denied(int code, std::string reason, std::string message);

}  // namespace aw::webhook

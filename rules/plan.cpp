#include "rules/plan.h"

#include <algorithm>

#include "rules/registry.h"

namespace aw::rules {

Plan::Plan(const Settings& settings) {
  for (std::size_t k = 0; k < kKinds; ++k) {
    for (const bool mutating : {false, true}) {
      plans_[2 * k + (mutating ? 1 : 0)] = make(settings, static_cast<KindId>(k), mutating);
    }
  }
}

KindPlan Plan::make(const Settings& settings, KindId kind, bool mutating) {
  KindPlan plan;
  for (const RuleInfo& rule : registry()) {
    if (rule.mutating != mutating ||
        std::find(rule.kinds.begin(), rule.kinds.end(), kind) == rule.kinds.end() ||
        !settings.of(rule.id).enabled()) {
      continue;
    }
    plan.active.push_back(&rule);
    for (const FieldShape& s : rule.reads) {
      auto same = std::find_if(plan.reads.begin(), plan.reads.end(),
                               [&](const FieldShape& r) { return r.path == s.path; });
      if (same == plan.reads.end()) {
        plan.reads.push_back(s);
      } else {
        same->types &= s.types;
      }
    }
  }
  plan.shapes = ShapeTree(plan.reads);
  return plan;
}

}  // namespace aw::rules

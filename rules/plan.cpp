#include "rules/plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

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
  // What the engine reads first, then what the rules read beyond it. A rule may read a field
  // the engine reads, but accept nothing less than the engine does.
  const std::span<const FieldShape> first = lifecycleReads();
  std::vector<FieldShape> shapes(first.begin(), first.end());
  for (const FieldShape& s : plan.reads) {
    const auto same = std::find_if(first.begin(), first.end(),
                                   [&](const FieldShape& f) { return f.path == s.path; });
    if (same == first.end()) {
      shapes.push_back(s);
    } else if ((same->types & ~s.types) != 0) {
      throw std::logic_error("a rule narrows the types of " + std::string(s.path) +
                             ", which the engine reads first");
    }
  }
  plan.shapes = ShapeTree(shapes, first.size());
  return plan;
}

}  // namespace aw::rules

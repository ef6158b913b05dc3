// What a configuration runs for each kind of object: the enabled rules of each endpoint and the
// fields they read, worked out once per configuration instead of once per request.
#pragma once

#include <array>
#include <vector>

#include "rules/engine/rule.h"
#include "rules/model/kinds.h"
#include "rules/settings.h"

namespace aw::rules {

struct KindPlan {
  std::vector<const RuleInfo*> active;  // the enabled rules, in registry order
  // Every field they read; a field read by several rules must suit every one of them, so the
  // types they accept intersect.
  std::vector<FieldShape> reads;
  // lifecycleReads() leading, then `reads`: one walk checks both (see rules::validate).
  ShapeTree shapes;
};

class Plan {
 public:
  explicit Plan(const Settings& settings);
  // The plan of validating (mutating == false) or mutating rules for `kind`.
  const KindPlan& of(KindId kind, bool mutating) const {
    return plans_[2 * static_cast<std::size_t>(kind) + (mutating ? 1 : 0)];
  }
  static KindPlan make(const Settings& settings, KindId kind, bool mutating);

 private:
  static constexpr std::size_t kKinds = static_cast<std::size_t>(KindId::ServiceEntry) + 1;
  std::array<KindPlan, 2 * kKinds> plans_;
};

}  // namespace aw::rules

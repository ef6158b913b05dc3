// The options of every registered rule: what the configuration sets, what the engine reads.
#pragma once

#include <string_view>
#include <vector>

#include "rules/engine/options.h"

namespace aw::rules {

class Settings {
 public:
  Settings();  // every rule at its defaults
  const RuleOptions& of(std::string_view ruleId) const;
  RuleOptions* find(std::string_view ruleId);
  const std::vector<RuleOptions>& all() const { return rules_; }
  // Gives every option that declares inheritsFrom and was not set the value it inherits.
  // Call once all options are set.
  void inherit();

 private:
  std::vector<RuleOptions> rules_;  // parallel to registry()
};

}  // namespace aw::rules

// Rule options: declared by each rule's metadata, parsed generically by the configuration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/engine/finding.h"

namespace aw::rules {

struct OptionSpec {
  std::string_view key;                  // "action", "scope", ...
  std::vector<std::string_view> values;  // the allowed values
  std::string_view defaultValue;
  // "RULE-ID.KEY": unless set in the configuration, the option takes that option's value
  // (Settings::inherit), so related rules agree by default.
  std::string_view inheritsFrom = {};
};

struct RuleInfo;

// The effective options of one rule: its defaults overlaid with the configuration.
class RuleOptions {
 public:
  explicit RuleOptions(const RuleInfo& info);  // defaults
  const RuleInfo& info() const { return *info_; }

  std::string_view get(std::string_view key) const;  // a declared key; "" if undeclared
  // Returns false (and leaves the options unchanged) when key or value is not allowed.
  bool set(std::string_view key, std::string_view value);
  // "deny|warn|audit|off|allow|on" to an Action; "allow"/"on" are Off/Deny-free, see .cpp.
  Action action(std::string_view key = "action") const;
  bool enabled() const { return get("action") != "off"; }

 private:
  friend class Settings;
  const RuleInfo* info_;
  std::vector<std::string> values_;  // parallel to info_->options
  std::vector<bool> set_;            // parallel: written by the configuration
};

// The options of every registered rule.
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

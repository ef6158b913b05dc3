// Rule options: declared by each rule's metadata, parsed generically by the configuration, read
// by the rules through typed keys (a misspelt option is a compile error, not an empty string).
#pragma once

#include <array>
#include <cstddef>
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

// The values of a validating rule's action options, and of a mutating rule's switch: the one
// declaration every rule, the configuration and the docs read.
inline constexpr std::array<std::string_view, 4> kActionValues = {"deny", "warn", "audit", "off"};
inline constexpr std::array<std::string_view, 2> kSwitchValues = {"on", "off"};

// An option whose value is an Action. Each rule declares its own beyond kAction.
struct ActionOption {
  std::string_view key;
};
inline constexpr ActionOption kAction{"action"};

// An option choosing one of N values, read as the enumerator E at the same position.
template <class E, std::size_t N>
struct ChoiceOption {
  std::string_view key;
  std::array<std::string_view, N> values;
};

// The metadata of an action option with kActionValues (`values` overrides them, e.g. "allow"
// instead of "audit|off" for a secondary option).
OptionSpec actionOption(const ActionOption& option, Action defaultAction);
OptionSpec actionOption(const ActionOption& option, std::vector<std::string_view> values,
                        std::string_view defaultValue);
// The switch of a mutating rule: on | off.
OptionSpec switchOption(bool on);
template <class E, std::size_t N>
OptionSpec choiceOption(const ChoiceOption<E, N>& option, E defaultValue,
                        std::string_view inheritsFrom = {}) {
  return {option.key,
          {option.values.begin(), option.values.end()},
          option.values[static_cast<std::size_t>(defaultValue)],
          inheritsFrom};
}

struct RuleInfo;

// The effective options of one rule: its defaults overlaid with the configuration.
class RuleOptions {
 public:
  explicit RuleOptions(const RuleInfo& info);  // defaults
  const RuleInfo& info() const { return *info_; }

  std::string_view get(std::string_view key) const;  // a declared key; "" if undeclared
  // Returns false (and leaves the options unchanged) when key or value is not allowed.
  bool set(std::string_view key, std::string_view value);
  // deny|on -> Deny, warn -> Warn, audit -> Audit, off|allow -> Off.
  Action action(const ActionOption& option = kAction) const;
  // The value as E: choiceOption() declares the values in the enumerators' order.
  template <class E, std::size_t N>
  E choice(const ChoiceOption<E, N>& option) const {
    return static_cast<E>(valueIndex(option.key));
  }
  bool enabled() const { return get(kAction.key) != "off"; }

 private:
  friend class Settings;
  std::size_t valueIndex(std::string_view key) const;  // 0 if undeclared
  const RuleInfo* info_;
  std::vector<std::size_t> values_;  // parallel to info_->options: index into its values
  std::vector<bool> set_;            // parallel: written by the configuration
};

}  // namespace aw::rules

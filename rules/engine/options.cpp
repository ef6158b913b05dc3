#include "rules/engine/options.h"

#include <algorithm>

#include "rules/engine/rule.h"

namespace aw::rules {

std::string_view actionName(Action a) {
  switch (a) {
    case Action::Off:
      return "off";
    case Action::Audit:
      return "audit";
    case Action::Warn:
      return "warn";
    case Action::Deny:
      return "deny";
  }
  return "off";
}

OptionSpec actionOption(const ActionOption& option, Action defaultAction) {
  return {option.key, {kActionValues.begin(), kActionValues.end()}, actionName(defaultAction)};
}

OptionSpec actionOption(const ActionOption& option, std::vector<std::string_view> values,
                        std::string_view defaultValue) {
  return {option.key, std::move(values), defaultValue};
}

OptionSpec switchOption(bool on) {
  return {kAction.key, {kSwitchValues.begin(), kSwitchValues.end()}, on ? "on" : "off"};
}

namespace {

std::size_t indexOf(const OptionSpec& spec, std::string_view value) {
  return static_cast<std::size_t>(std::find(spec.values.begin(), spec.values.end(), value) -
                                  spec.values.begin());
}

}  // namespace

RuleOptions::RuleOptions(const RuleInfo& info) : info_(&info) {
  for (const OptionSpec& o : info.options) values_.push_back(indexOf(o, o.defaultValue));
  set_.assign(values_.size(), false);
}

std::size_t RuleOptions::valueIndex(std::string_view key) const {
  for (std::size_t i = 0; i < info_->options.size(); ++i) {
    if (info_->options[i].key == key) return values_[i];
  }
  return 0;
}

std::string_view RuleOptions::get(std::string_view key) const {
  for (std::size_t i = 0; i < info_->options.size(); ++i) {
    const OptionSpec& o = info_->options[i];
    if (o.key == key) return values_[i] < o.values.size() ? o.values[values_[i]] : o.defaultValue;
  }
  return {};
}

bool RuleOptions::set(std::string_view key, std::string_view value) {
  for (std::size_t i = 0; i < info_->options.size(); ++i) {
    const OptionSpec& o = info_->options[i];
    if (o.key != key) continue;
    const std::size_t index = indexOf(o, value);
    if (index == o.values.size()) return false;
    values_[i] = index;
    set_[i] = true;
    return true;
  }
  return false;
}

// "on" (a mutating rule) reads as Deny only in the sense of "active"; "allow" and "off" are Off.
Action RuleOptions::action(const ActionOption& option) const {
  const std::string_view v = get(option.key);
  if (v == "deny" || v == "on") return Action::Deny;
  if (v == "warn") return Action::Warn;
  if (v == "audit") return Action::Audit;
  return Action::Off;
}

}  // namespace aw::rules

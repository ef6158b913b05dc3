#include "rules/engine/options.h"

#include <algorithm>
#include <stdexcept>

#include "rules/registry.h"

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

RuleOptions::RuleOptions(const RuleInfo& info) : info_(&info) {
  for (const OptionSpec& o : info.options) values_.emplace_back(o.defaultValue);
  set_.assign(values_.size(), false);
}

std::string_view RuleOptions::get(std::string_view key) const {
  for (std::size_t i = 0; i < info_->options.size(); ++i) {
    if (info_->options[i].key == key) return values_[i];
  }
  return {};
}

bool RuleOptions::set(std::string_view key, std::string_view value) {
  for (std::size_t i = 0; i < info_->options.size(); ++i) {
    const OptionSpec& o = info_->options[i];
    if (o.key != key) continue;
    if (std::find(o.values.begin(), o.values.end(), value) == o.values.end()) return false;
    values_[i] = std::string(value);
    set_[i] = true;
    return true;
  }
  return false;
}

// "on" (a mutating rule) reads as Deny only in the sense of "active"; "allow" and "off" are Off.
Action RuleOptions::action(std::string_view key) const {
  const std::string_view v = get(key);
  if (v == "deny" || v == "on") return Action::Deny;
  if (v == "warn") return Action::Warn;
  if (v == "audit") return Action::Audit;
  return Action::Off;
}

Settings::Settings() {
  for (const RuleInfo& r : registry()) rules_.emplace_back(r);
  inherit();
}

void Settings::inherit() {
  for (RuleOptions& r : rules_) {
    for (std::size_t i = 0; i < r.values_.size(); ++i) {
      const std::string_view from = r.info().options[i].inheritsFrom;
      if (from.empty() || r.set_[i]) continue;
      const std::size_t dot = from.rfind('.');
      const RuleOptions* source = find(from.substr(0, dot));
      if (source == nullptr) throw std::logic_error("inheritsFrom names an unregistered rule");
      r.values_[i] = std::string(source->get(from.substr(dot + 1)));
    }
  }
}

const RuleOptions& Settings::of(std::string_view ruleId) const {
  for (const RuleOptions& r : rules_) {
    if (r.info().id == ruleId) return r;
  }
  throw std::logic_error("unregistered rule id");  // a programming error, never user input
}

RuleOptions* Settings::find(std::string_view ruleId) {
  for (RuleOptions& r : rules_) {
    if (r.info().id == ruleId) return &r;
  }
  return nullptr;
}

}  // namespace aw::rules

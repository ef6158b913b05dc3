#include "rules/settings.h"

#include <stdexcept>

#include "rules/registry.h"

namespace aw::rules {

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
      const std::string_view value = source->get(from.substr(dot + 1));
      const std::vector<std::string_view>& values = r.info().options[i].values;
      const auto at = std::find(values.begin(), values.end(), value);
      if (at == values.end())
        throw std::logic_error("inheritsFrom names an option of other values");
      r.values_[i] = static_cast<std::size_t>(at - values.begin());
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

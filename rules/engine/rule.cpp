#include "rules/engine/rule.h"

#include <algorithm>

namespace aw::rules {

void RuleContext::report(std::string path, std::string message, const ActionOption& option) {
  const Action action = options_.action(option);
  if (action == Action::Off) return;
  out_.findings.push_back({std::string(rule_.id), std::move(path), std::move(message), action});
}

void RuleContext::keepAtMost(std::size_t max, std::string_view path, std::string_view noun) {
  std::vector<Finding>& all = out_.findings;
  if (all.size() - first_ <= max) return;
  const auto keep = all.begin() + static_cast<std::ptrdiff_t>(first_ + max);
  Action strongest = Action::Off;
  for (auto it = keep; it != all.end(); ++it) strongest = std::max(strongest, it->action);
  const std::size_t rest = static_cast<std::size_t>(all.end() - keep);
  all.erase(keep, all.end());
  all.push_back({std::string(rule_.id), std::string(path),
                 "and " + std::to_string(rest) + " more " + std::string(noun) +
                     " not listed: fix the ones above first",
                 strongest});
}

}  // namespace aw::rules

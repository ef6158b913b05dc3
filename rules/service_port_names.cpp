// service-port-names: every port of a Service exported to the federation needs a name, because
// remote clusters build their ServiceEntries from port names.
#include <cctype>

#include "common/json_view.h"
#include "rules/all_rules.h"
#include "rules/model/keys.h"
#include "rules/service_ports.h"

namespace aw::rules {

namespace {

void check(const Request& request, RuleContext& rule) {
  const bool all = rule.choice(kScope) == Scope::All;
  if (!all && !isPublicService(request, rule)) return;
  std::size_t i = 0;
  for (const json::View port : servicePorts(request, rule).elements()) {
    const std::size_t index = i++;
    const auto name = json::string(json::child(port, "name"));
    if (name && !name->empty()) continue;
    const ServicePort p = describeServicePort(port);
    std::string message = "port ";
    message += p.label;
    message += all ? " has no name, and this webhook's scope: all asks for a name on every port"
                   : " has no name, and public federation services need a name on every port";
    message += " (add for example name: ";
    message += p.suggestedName;
    message += ')';
    rule.report("spec.ports[" + std::to_string(index) + "]", std::move(message));
  }
}

}  // namespace

const RuleInfo& servicePortNamesRule() {
  static const RuleInfo kRule{
      .id = "service-port-names",
      .summary =
          "Every port of a public federation Service (or of every Service, scope: all) "
          "has a name",
      .kinds = {KindId::Service},
      .options = {actionOption(kAction, Action::Deny), choiceOption(kScope, Scope::Public)},
      .reads = kServicePortShapes,
      .check = check,
  };
  return kRule;
}

}  // namespace aw::rules

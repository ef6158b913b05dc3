// serviceentry-ports: Istio builds listeners and clusters per declared port, so a ServiceEntry
// without ports gives its hosts no routing, no protocol and no policy.
#include "common/json_view.h"
#include "rules/all_rules.h"

namespace aw::rules {

namespace {

void check(const Request& request, RuleContext& rule) {
  const json::View ports = json::at(request.object, {"spec", "ports"});
  if (ports && !(ports.isArray() && ports.size() == 0)) return;
  rule.report("spec.ports", std::string(!ports ? "no ports" : "empty port list") +
                                ", so Istio cannot route to these hosts: add spec.ports entries "
                                "with number, name and protocol");
}

}  // namespace

const RuleInfo& serviceEntryPortsRule() {
  static const RuleInfo kInfo{
      .id = "serviceentry-ports",
      .summary = "A ServiceEntry declares at least one port",
      .kinds = {KindId::ServiceEntry},
      .options = {actionOption(kAction, Action::Warn)},
      .reads = {{"spec", kObject}, {"spec.ports", kArray}},
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

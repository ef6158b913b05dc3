// serviceentry-ports: Istio builds listeners and clusters per declared port, so a ServiceEntry
// without ports gives its hosts no routing, no protocol and no policy.
#include "rules/all_rules.h"
#include "common/json_path.h"

namespace aw::rules {

namespace {

void check(const Request& request, const Context&, const RuleOptions& options, Outcome& out) {
  const json::json* ports = json::at(request.object, {"spec", "ports"});
  if (ports != nullptr && !(ports->is_array() && ports->empty())) return;
  out.findings.push_back(
      {"serviceentry-ports", "spec.ports",
       std::string(ports == nullptr ? "no ports" : "empty port list") +
           ", so Istio cannot route to these hosts: add spec.ports entries with number, name and "
           "protocol",
       options.action()});
}

}  // namespace

const RuleInfo& serviceEntryPortsRule() {
  static const RuleInfo kInfo{
      .id = "serviceentry-ports",
      .summary = "A ServiceEntry declares at least one port",
      .kinds = {KindId::ServiceEntry},
      .options = {{"action", {"deny", "warn", "audit", "off"}, "warn"}},
      .reads = {{"spec", kObject}, {"spec.ports", kArray}},
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

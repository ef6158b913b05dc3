// service-port-protocol: Istio picks a port's protocol from its name (`<protocol>[-<suffix>]`) or
// its appProtocol. A name without a known prefix makes Istio treat the traffic as plain TCP, so
// HTTP routing, retries and metrics silently stop working for that port.
#include <algorithm>
#include <cctype>

#include "common/json_view.h"
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/model/protocols.h"
#include "rules/service_ports.h"

namespace aw::rules {

namespace {

// UDP and SCTP ports are not proxied by Istio, so their names do not matter.
bool notProxied(json::View protocolField) {
  const auto protocol = json::string(protocolField);
  return protocol &&
         (equalsIgnoreAsciiCase(*protocol, "UDP") || equalsIgnoreAsciiCase(*protocol, "SCTP"));
}

// Appends example names for the message, "http-NAME or tcp-NAME": the table's http and tcp
// prefixes before the name. A name that is not a valid port name already (only the `check`
// command can see one) is not repeated: <suffix> stands for it.
void appendRenameExamples(std::string& out, std::string_view name) {
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
  const std::string_view suffix = plain ? name : "<suffix>";
  bool first = true;
  for (std::string_view canonical : {"HTTP", "TCP"}) {
    if (const Protocol* p = protocolOfValue(canonical)) {
      if (!first) out += " or ";
      first = false;
      out += p->prefix;
      out += '-';
      out += suffix;
    }
  }
}

void check(const Request& request, RuleContext& rule) {
  if (rule.choice(kScope) != Scope::All && !isPublicService(request, rule)) return;
  std::size_t i = 0;
  for (const json::View port : servicePorts(request, rule).elements()) {
    const std::size_t index = i++;
    const auto [nameField, appProtocolField, protocolField] =
        json::fields<3>(port, {"name", "appProtocol", "protocol"});
    const auto name = json::string(nameField);
    if (!name || name->empty()) continue;  // service-port-names' business
    const auto appProtocol = json::string(appProtocolField);
    if (appProtocol && !appProtocol->empty()) continue;
    if (notProxied(protocolField) || protocolOfPortName(*name) != nullptr) continue;
    std::string message = quoteValue(*name);
    message += " has no Istio protocol prefix, so Istio treats it as TCP: rename it ";
    appendRenameExamples(message, *name);
    message += ", or set appProtocol";
    rule.report("spec.ports[" + std::to_string(index) + "].name", std::move(message));
  }
}

}  // namespace

const RuleInfo& servicePortProtocolRule() {
  static const RuleInfo kRule{
      .id = "service-port-protocol",
      .summary =
          "Every named port of a public federation Service (or of every Service, "
          "scope: all) follows Istio's <protocol>[-<suffix>] naming, or sets appProtocol",
      .kinds = {KindId::Service},
      .options = {actionOption(kAction, Action::Warn),
                  choiceOption(kScope, Scope::Public, "service-port-names.scope")},
      .reads = kServicePortShapes,
      .check = check,
  };
  return kRule;
}

}  // namespace aw::rules

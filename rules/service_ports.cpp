#include "rules/service_ports.h"

#include "common/json_view.h"
#include "common/text.h"
#include "rules/model/keys.h"

namespace aw::rules {

json::View serviceLabels(const Request& request, RuleContext& rule) {
  std::optional<json::View>& known = rule.derived().serviceLabels;
  if (!known) known = json::at(request.object, {"metadata", "labels"});
  return *known;
}

json::View servicePorts(const Request& request, RuleContext& rule) {
  std::optional<json::View>& known = rule.derived().servicePorts;
  if (!known) known = json::at(request.object, {"spec", "ports"});
  return *known;
}

bool isPublicService(const Request& request, RuleContext& rule) {
  std::optional<bool>& known = rule.derived().publicService;
  if (!known) {
    known = false;
    // Any value, null included: the label is there.
    for (const json::Member label : serviceLabels(request, rule).members()) {
      if (label.key == keys::kPublicServiceLabel) known = true;
    }
  }
  return *known;
}

ServicePort describeServicePort(json::View port) {
  const std::string number = json::scalarText(json::child(port, "port"));
  const auto proto = json::string(json::child(port, "protocol"));
  const std::string_view protocol = proto && !proto->empty() ? *proto : "TCP";
  ServicePort out;
  out.label = number.empty() ? "?" : number;
  out.label += '/';
  out.label += protocol;
  for (const char c : protocol) out.suggestedName += asciiLower(c);
  out.suggestedName += '-';
  out.suggestedName += number;
  return out;
}

}  // namespace aw::rules

#include "rules/service_ports.h"

#include "common/json_view.h"
#include "common/text.h"
#include "rules/model/keys.h"

namespace aw::rules {

bool isPublicService(json::View service) {
  // Any value, null included: the label is there.
  for (const json::Member label : json::at(service, {"metadata", "labels"}).members()) {
    if (label.key == keys::kPublicServiceLabel) return true;
  }
  return false;
}

bool isPublicService(const Request& request, RuleContext& rule) {
  std::optional<bool>& known = rule.derived().publicService;
  if (!known) known = isPublicService(request.object);
  return *known;
}

ServicePort describeServicePort(json::View port) {
  const std::string number = json::scalarText(json::child(port, "port"));
  const auto proto = json::string(json::child(port, "protocol"));
  const std::string protocol = proto && !proto->empty() ? std::string(*proto) : "TCP";
  std::string lower = protocol;
  for (char& c : lower) c = asciiLower(c);
  return {(number.empty() ? "?" : number) + "/" + protocol, lower + "-" + number};
}

}  // namespace aw::rules

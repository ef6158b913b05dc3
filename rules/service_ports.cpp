#include "rules/service_ports.h"

#include <cctype>

#include "common/json_path.h"
#include "rules/model/keys.h"

namespace aw::rules {

bool isPublicService(const nlohmann::json& service) {
  const json::json* labels = json::object(json::at(&service, {"metadata", "labels"}));
  return labels != nullptr && labels->contains(keys::kPublicServiceLabel);
}

ServicePort describeServicePort(const nlohmann::json* port) {
  const std::string number = json::scalarText(json::child(port, "port"));
  const std::string* proto = json::string(json::child(port, "protocol"));
  const std::string protocol = proto && !proto->empty() ? *proto : "TCP";
  std::string lower = protocol;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {(number.empty() ? "?" : number) + "/" + protocol, lower + "-" + number};
}

}  // namespace aw::rules

// Istio's port protocols: one table serving service-port-protocol and the ServiceEntry defaults.
#pragma once

#include <span>
#include <string_view>

namespace aw::rules {

struct Protocol {
  std::string_view prefix;     // port-name prefix, lower case: "http", "grpc-web"
  std::string_view canonical;  // value for ServiceEntry ports[].protocol: "HTTP", "GRPC-Web"
};

std::span<const Protocol> protocols();

// The protocol prefix of a port name: "grpc-web" when the name starts with grpc-web
// (case-insensitive), otherwise the part before the first '-'.
std::string_view portNamePrefix(std::string_view name);
// The known protocol a port name selects, or nullptr.
const Protocol* protocolOfPortName(std::string_view name);
// The known protocol whose canonical value equals `value` case-insensitively, or nullptr.
const Protocol* protocolOfValue(std::string_view value);

}  // namespace aw::rules

#include "rules/model/protocols.h"

#include <array>

#include "common/text.h"

namespace aw::rules {

namespace {
constexpr std::array<Protocol, 11> kProtocols = {{
    {"http", "HTTP"},
    {"http2", "HTTP2"},
    {"https", "HTTPS"},
    {"grpc", "GRPC"},
    {"grpc-web", "GRPC-Web"},
    {"mongo", "Mongo"},
    {"mysql", "MySQL"},
    {"redis", "Redis"},
    {"tcp", "TCP"},
    {"tls", "TLS"},
    {"udp", "UDP"},
}};
}  // namespace

std::span<const Protocol> protocols() {
  return kProtocols;
}

std::string_view portNamePrefix(std::string_view name) {
  constexpr std::string_view kGrpcWeb = "grpc-web";
  if (name.size() >= kGrpcWeb.size() &&
      equalsIgnoreAsciiCase(name.substr(0, kGrpcWeb.size()), kGrpcWeb))
    return name.substr(0, kGrpcWeb.size());
  return name.substr(0, name.find('-'));
}

const Protocol* protocolOfPortName(std::string_view name) {
  const std::string_view prefix = portNamePrefix(name);
  for (const Protocol& p : kProtocols) {
    if (equalsIgnoreAsciiCase(prefix, p.prefix)) return &p;
  }
  return nullptr;
}

const Protocol* protocolOfValue(std::string_view value) {
  for (const Protocol& p : kProtocols) {
    if (equalsIgnoreAsciiCase(value, p.canonical)) return &p;
  }
  return nullptr;
}

}  // namespace aw::rules

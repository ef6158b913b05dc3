#include "webhook/base/host_port.h"

namespace aw::webhook {

std::optional<int> parsePort(std::string_view text, int lowest) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < lowest || port > 65535) return std::nullopt;
  return port;
}

HostPort splitHostPort(std::string_view text) {
  HostPort out;
  if (!text.empty() && text.front() == '[') {
    out.bracketed = true;
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      out.problem = HostPort::Problem::NoClosingBracket;
      return out;
    }
    out.host = std::string(text.substr(1, close - 1));
    const std::string_view after = text.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      out.problem = HostPort::Problem::AfterBracket;
      out.after = std::string(after);
    } else if (!after.empty()) {
      out.port = std::string(after.substr(1));
    }
    return out;
  }
  const std::size_t colon = text.rfind(':');
  out.host = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) out.port = std::string(text.substr(colon + 1));
  return out;
}

bool parseHostPort(const std::string& flag, const std::string& value, std::string& host, int& port,
                   std::string& error) {
  const HostPort parts = splitHostPort(value);
  if (parts.bracketed && (parts.problem != HostPort::Problem::None || !parts.port)) {
    error = flag + " " + value + ": expected [IPV6]:PORT";
    return false;
  }
  if (!parts.port) {
    error = flag + " " + value + ": expected HOST:PORT, for example 0.0.0.0:8443";
    return false;
  }
  const std::optional<int> n = parsePort(*parts.port, 0);
  if (!n) {
    error = flag + " " + value + ": port must be a number from 0 to 65535";
    return false;
  }
  host = parts.host.empty() ? "0.0.0.0" : parts.host;
  port = *n;
  return true;
}

}  // namespace aw::webhook

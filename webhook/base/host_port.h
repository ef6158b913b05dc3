// The one parser of "HOST:PORT" text: listen addresses of the command line (port 0 to 65535) and
// the API server's address in a kubeconfig or the pod's environment (port 1 to 65535).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aw::webhook {

// A port number: one to five decimal digits, from `lowest` to 65535.
std::optional<int> parsePort(std::string_view text, int lowest);

// "HOST", "HOST:PORT", "[IPV6]" or "[IPV6]:PORT" split in two, without judging either part.
// Without brackets the port follows the last ':', so a host holding a ':' is an IPv6 address
// written without brackets.
struct HostPort {
  enum class Problem {
    None,
    NoClosingBracket,  // "[::1"
    AfterBracket,      // "[::1]x": `after` holds "x"
  };
  std::string host;
  std::optional<std::string> port;  // the text after the ':', when there is one
  bool bracketed = false;
  Problem problem = Problem::None;
  std::string after;  // what follows ']' when it is not ":PORT"
};
HostPort splitHostPort(std::string_view text);

// Parses a listen address, "HOST:PORT" ("[::1]:8443" for IPv6; an empty host is 0.0.0.0), port
// 0 to 65535. Returns false with a message naming the flag.
bool parseHostPort(const std::string& flag, const std::string& value, std::string& host, int& port,
                   std::string& error);

}  // namespace aw::webhook

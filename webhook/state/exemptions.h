// Requests the webhook allows without looking (SPEC §4.1 exemptions): by namespace, user name or
// group. A pattern is an exact name, or a prefix ending in '*' ("d8-*").
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aw::webhook {

struct Exemptions {
  std::vector<std::string> namespaces;
  std::vector<std::string> usernames;
  std::vector<std::string> groups;

  // What makes the request exempt ("namespace d8-system (exemptions.namespaces: d8-*)"), or ""
  // when nothing does. A cluster-scoped object (empty namespace) matches by user and group only.
  std::string match(std::string_view ns, std::string_view username,
                    std::span<const std::string_view> userGroups) const;
  bool operator==(const Exemptions&) const = default;
};

// Why `pattern` cannot be an exemption pattern, or "" when it can.
std::string exemptionPatternError(std::string_view pattern);

}  // namespace aw::webhook

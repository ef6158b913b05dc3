// The object kinds the webhook checks: the one table that the rules, the server, the `check`
// command and the webhook manifests all read.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace aw::rules {

enum class KindId { Service, IstioFederation, IstioMulticluster, ServiceEntry };

struct KindInfo {
  KindId id;
  std::string_view group;  // "" for the core group
  std::string_view kind;
  std::string_view resource;  // plural, as in the webhook rules
  std::vector<std::string_view> versions;
  // Validating webhook name: "<resource>.alliance-webhook.io".
  std::string_view webhook;
};

std::span<const KindInfo> kinds();
const KindInfo& kindInfo(KindId id);
// Matched by API group and kind, any version (matchPolicy: Equivalent).
const KindInfo* findKind(std::string_view group, std::string_view kind);

// "apps/v1" -> group "apps"; "v1" -> group "".
std::string_view groupOfApiVersion(std::string_view apiVersion);

}  // namespace aw::rules

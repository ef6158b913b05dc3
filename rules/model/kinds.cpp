#include "rules/model/kinds.h"

namespace aw::rules {

namespace {
const std::vector<KindInfo>& table() {
  static const std::vector<KindInfo> kTable = {
      {KindId::Service, "", "Service", "services", {"v1"}, "services.alliance-webhook.io"},
      {KindId::IstioFederation,
       "deckhouse.io",
       "IstioFederation",
       "istiofederations",
       {"v1alpha1"},
       "istiofederations.alliance-webhook.io"},
      {KindId::IstioMulticluster,
       "deckhouse.io",
       "IstioMulticluster",
       "istiomulticlusters",
       {"v1alpha1"},
       "istiomulticlusters.alliance-webhook.io"},
      {KindId::ServiceEntry,
       "networking.istio.io",
       "ServiceEntry",
       "serviceentries",
       {"v1alpha3", "v1beta1", "v1"},
       "serviceentries.alliance-webhook.io"},
  };
  return kTable;
}
}  // namespace

std::span<const KindInfo> kinds() {
  return table();
}

const KindInfo& kindInfo(KindId id) {
  return table()[static_cast<std::size_t>(id)];
}

const KindInfo* findKind(std::string_view group, std::string_view kind) {
  for (const KindInfo& k : table()) {
    if (k.group == group && k.kind == kind) return &k;
  }
  return nullptr;
}

std::string_view groupOfApiVersion(std::string_view apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string_view::npos ? std::string_view{} : apiVersion.substr(0, slash);
}

}  // namespace aw::rules

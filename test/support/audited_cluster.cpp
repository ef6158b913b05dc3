#include "test/support/audited_cluster.h"

#include <cctype>
#include <string>

#include "test/support/review.h"

namespace aw::test {

void seedAuditedCluster(FakeApiServer& fake) {
  using Json = nlohmann::json;
  fake.addCollection(kFederationsPath, "deckhouse.io/v1alpha1", "IstioFederation");
  fake.addCollection(kMulticlustersPath, "deckhouse.io/v1alpha1", "IstioMulticluster");
  fake.addCollection(kServicesPath, "v1", "Service");
  fake.setPageSize(1);  // every list takes several pages
  fake.put(kFederationsPath,
           federation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16"));
  fake.put(kFederationsPath,
           federation("cluster-x", "cluster-x.local", "10.112.128.0/17", "10.230.0.0/16"));
  Json bad = service("legacy", Json::array({{{"port", 80}, {"protocol", "TCP"}}}));
  fake.put(kServicesPath, bad);
  Json platform = bad;
  platform["metadata"]["name"] = "platform";
  platform["metadata"]["namespace"] = "d8-istio";
  fake.put(kServicesPath, platform);
  fake.put(kServicesPath, service("internal", Json::array({{{"port", 81}}}), false));
}

nlohmann::json withoutLocations(nlohmann::json findings) {
  for (nlohmann::json& f : findings) {
    f.erase("file");
    f.erase("line");
    f.erase("document");
    std::string m = f["message"];
    for (auto in = m.find(" in /"); in != std::string::npos; in = m.find(" in /", in)) {
      auto end = m.find(':', in);
      while (end + 1 < m.size() && std::isdigit(static_cast<unsigned char>(m[end + 1]))) ++end;
      m.erase(in, end + 1 - in);
    }
    f["message"] = m;
  }
  return findings;
}

}  // namespace aw::test

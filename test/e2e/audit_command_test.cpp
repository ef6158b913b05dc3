// `alliance-webhook audit` against the fake API server: what the cluster already holds, judged
// like `check` judges files (SPEC §9).
#include <gtest/gtest.h>

#include <cctype>

#include "test/support/audited_cluster.h"
#include "test/support/fake_apiserver.h"
#include "test/support/process.h"
#include "test/support/review.h"

namespace aw::test {
namespace {

using Json = nlohmann::json;

const std::string kConfig = R"(localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: 10.111.0.0/16
  serviceSubnetCIDR: 10.222.0.0/16
exemptions:
  namespaces: ["d8-*"]
cluster:
  kubeconfig: kubeconfig
)";

class AuditCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    seedAuditedCluster(fake_);
    writeFile(dir_ / "kubeconfig", fake_.kubeconfig());
    writeFile(dir_ / "config.yaml", kConfig);
  }
  RunResult audit(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {AW_BINARY, "audit", "--config",
                                     (dir_ / "config.yaml").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }

  FakeApiServer fake_;
  TempDir dir_;
};

TEST_F(AuditCommand, ReportsBothOverlappingFederationsAndTheBadServiceAndExitsOne) {
  RunResult r = audit();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out,
            "IstioFederation cluster-b: deny subnet-overlap: "
            "metadata.annotations[alliance-webhook.io/pod-subnet-cidr]: pod subnet 10.112.0.0/16 "
            "overlaps pod subnet 10.112.128.0/17 of IstioFederation cluster-x: give every cluster "
            "its own range\n"
            "IstioFederation cluster-x: deny subnet-overlap: "
            "metadata.annotations[alliance-webhook.io/pod-subnet-cidr]: pod subnet "
            "10.112.128.0/17 overlaps pod subnet 10.112.0.0/16 of IstioFederation cluster-b: give "
            "every cluster its own range\n"
            "Service default/legacy: deny service-port-names: spec.ports[0]: port 80/TCP has no "
            "name, and public federation services need a name on every port (add for example "
            "name: tcp-80)\n"
            "audited 4 objects in the cluster (mode enforce): 3 denied, 0 warnings, 0 audit "
            "findings\n");

  // Fixing one federation clears both reports on the next run.
  fake_.put(kFederationsPath,
            federation("cluster-x", "cluster-x.local", "10.113.0.0/16", "10.230.0.0/16"));
  r = audit({"--output", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  const Json doc = Json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << r.out;
  EXPECT_EQ(doc["findings"][0],
            (Json{{"file", nullptr},
                  {"line", nullptr},
                  {"document", nullptr},
                  {"kind", "Service"},
                  {"namespace", "default"},
                  {"name", "legacy"},
                  {"rule", "service-port-names"},
                  {"action", "deny"},
                  {"path", "spec.ports[0]"},
                  {"message",
                   "port 80/TCP has no name, and public federation services need a name on every "
                   "port (add for example name: tcp-80)"}}));
  EXPECT_EQ(doc["summary"]["denied"], 1);
}

// The same objects written as files give `check` the same findings.
TEST_F(AuditCommand, AgreesWithCheckOverTheSameObjectsAsFiles) {
  RunResult audited = audit({"--output", "json"});
  std::string files;
  for (const char* c : {kFederationsPath, kServicesPath}) {
    for (const std::string name : {"cluster-b", "cluster-x", "legacy", "platform", "internal"}) {
      const Json o = fake_.get(c, name);
      if (!o.is_null()) files += "---\n" + o.dump() + "\n";
    }
  }
  writeFile(dir_ / "objects.yaml", files);
  RunResult checked = run({AW_BINARY, "check", "--config", (dir_ / "config.yaml").string(),
                           "--output", "json", (dir_ / "objects.yaml").string()});
  EXPECT_EQ(checked.status, audited.status) << checked.err;
  EXPECT_EQ(withoutLocations(Json::parse(audited.out)["findings"]),
            withoutLocations(Json::parse(checked.out)["findings"]));
}

TEST_F(AuditCommand, ACollectionItCannotReadIsAnErrorThatSaysWhy) {
  fake_.setToken("another-token");
  RunResult r = audit();
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(
      r.err.rfind("alliance-webhook audit: LIST /apis/deckhouse.io/v1alpha1/istiofederations: "
                  "HTTP 401",
                  0),
      0u)
      << r.err;
}

TEST_F(AuditCommand, AKindWithoutItsCrdHasNoObjects) {
  fake_.removeCollection(kMulticlustersPath);
  EXPECT_EQ(audit().status, 1);
}

}  // namespace
}  // namespace aw::test

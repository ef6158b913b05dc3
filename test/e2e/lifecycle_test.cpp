// End to end, through the real binary and TLS: what a cluster with history needs (SPEC §4.1, §6).
// Objects being deleted, violations an UPDATE did not introduce, exemptions, the ServiceEntry
// defaults that never change what Istio does, and the smaller rule corrections of SPEC §5.
#include <gtest/gtest.h>

#include "test/support/process.h"
#include "test/support/review.h"

namespace aw::test {
namespace {

using nlohmann::json;

const std::string kConfig = R"(mode: enforce
localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: 10.111.0.0/16
  serviceSubnetCIDR: 10.222.0.0/16
exemptions:
  namespaces: [kube-system, "d8-*"]
  usernames: ["system:serviceaccount:ops:*"]
  groups: [platform-admins]
)";

const json kPort80 = {{"port", 80}, {"protocol", "TCP"}};
const json kPort9090 = {{"port", 9090}, {"protocol", "TCP"}};
const std::string kNoName80 =
    "service-port-names: spec.ports[0]: port 80/TCP has no name, and public federation services "
    "need a name on every port (add for example name: tcp-80)";

json uid() {
  return ReviewOptions{}.uid;
}

class Lifecycle : public ::testing::Test {
 protected:
  void start(const std::string& config, std::vector<std::string> extra = {}) {
    writeFile(dir_ / "config.yaml", config);
    extra.insert(extra.begin(), {"--config", (dir_ / "config.yaml").string()});
    server_ = std::make_unique<ServerProcess>(extra);
  }
  void SetUp() override { start(kConfig); }

  json send(const std::string& path, const json& object, const ReviewOptions& o = {}) {
    TlsClient c(server_->port(), {devCerts().ca});
    EXPECT_TRUE(c.connected()) << c.error();
    auto r = c.request("POST", path, review(object, o).dump());
    EXPECT_TRUE(r.has_value() && r->status == 200);
    return r && r->status == 200 ? responseOf(r->body) : json();
  }
  json update(const json& object, const json& oldObject, ReviewOptions o = {}) {
    o.operation = "UPDATE";
    o.oldObject = oldObject;
    return send("/validate", object, o);
  }
  std::string metrics() {
    TlsClient c(server_->port(), {devCerts().ca});
    auto r = c.request("GET", "/metrics", "");
    return r ? r->body : "";
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

// ---- objects being deleted ----

TEST_F(Lifecycle, TheLastFinalizerComesOffADeletingNonCompliantService) {
  json old = service("legacy", json::array({kPort80}));
  old["metadata"]["deletionTimestamp"] = "2026-12-01T10:00:00Z";
  old["metadata"]["finalizers"] = {"service.kubernetes.io/load-balancer-cleanup"};
  json now = old;
  now["metadata"].erase("finalizers");
  EXPECT_EQ(update(now, old), (json{{"uid", uid()}, {"allowed", true}}));
  // Even when another field has the wrong type: nothing but the deletion is looked at.
  now["spec"]["ports"][0]["port"] = json::object();
  EXPECT_EQ(update(now, old), (json{{"uid", uid()}, {"allowed", true}}));
  // ... and /mutate answers no patch for a deleting ServiceEntry.
  json se = {
      {"apiVersion", "networking.istio.io/v1"},
      {"kind", "ServiceEntry"},
      {"metadata",
       {{"name", "ext"}, {"namespace", "default"}, {"deletionTimestamp", "2026-12-01T10:00:00Z"}}},
      {"spec", {{"hosts", {"example.com"}}, {"ports", {{{"number", 80}}}}}}};
  ReviewOptions o;
  o.operation = "UPDATE";
  o.oldObject = se;
  EXPECT_EQ(send("/mutate", se, o), (json{{"uid", uid()}, {"allowed", true}}));
}

TEST_F(Lifecycle, ADeletionTimestampOfTheWrongTypeIsAShapeError) {
  json now = service("legacy", json::array({kPort80}));
  now["metadata"]["deletionTimestamp"] = 42;
  json resp = update(now, now);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"], (json{{"code", 400},
                                  {"reason", "BadRequest"},
                                  {"message",
                                   "object-shape: metadata.deletionTimestamp: expected a string, "
                                   "got an integer"}}));
}

// ---- existing violations ----

TEST_F(Lifecycle, AnUpdateThatIntroducesNothingWarnsAboutWhatWasThere) {
  json old = service("legacy", json::array({kPort80}));
  json now = old;
  now["metadata"]["labels"]["team"] = "payments";
  EXPECT_EQ(update(now, old),
            (json{{"uid", uid()}, {"allowed", true}, {"warnings", {"[existing] " + kNoName80}}}));
  // A dry-run UPDATE is answered like the real one.
  ReviewOptions dry;
  dry.dryRun = true;
  EXPECT_EQ(update(now, old, dry),
            (json{{"uid", uid()}, {"allowed", true}, {"warnings", {"[existing] " + kNoName80}}}));
}

TEST_F(Lifecycle, AnUpdateThatAddsASecondUnnamedPortIsDeniedForTheNewOneOnly) {
  json old = service("legacy", json::array({kPort80}));
  json now = service("legacy", json::array({kPort80, kPort9090}));
  json resp = update(now, old);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["message"],
            "service-port-names: spec.ports[1]: port 9090/TCP has no name, and public federation "
            "services need a name on every port (add for example name: tcp-9090)");
  EXPECT_EQ(resp["warnings"], json::array({"[existing] " + kNoName80}));
}

TEST_F(Lifecycle, AnUpdateThatOnlyReordersPortsIntroducesNothing) {
  json old = service("legacy", json::array({kPort80, kPort9090}));
  json now = service("legacy", json::array({kPort9090, kPort80}));
  json resp = update(now, old);
  EXPECT_EQ(resp["allowed"], true) << resp.dump();
  EXPECT_EQ(resp["warnings"].size(), 2u) << resp.dump();
}

TEST_F(Lifecycle, AMissingOrMalformedOldObjectJudgesTheUpdateLikeACreate) {
  const json now = service("legacy", json::array({kPort80}));
  json wrongShape = now;
  wrongShape["spec"]["ports"] = "80";
  for (const json& old : {json(nullptr), json("a string"), json::array(), wrongShape}) {
    json resp = update(now, old);
    EXPECT_EQ(resp["allowed"], false) << old.dump();
    EXPECT_EQ(resp["status"]["message"], kNoName80) << old.dump();
  }
}

TEST_F(Lifecycle, ExistingViolationsDenyJudgesEveryUpdateLikeACreate) {
  start(kConfig + "existingViolations: deny\n");
  const json old = service("legacy", json::array({kPort80}));
  json now = old;
  now["metadata"]["labels"]["team"] = "payments";
  json resp = update(now, old);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["message"], kNoName80);
}

TEST_F(Lifecycle, InAuditModeTheAuditPrefixAloneIsWritten) {
  start(kConfig, {"--audit-only"});
  const json old = service("legacy", json::array({kPort80}));
  json now = old;
  now["metadata"]["labels"]["team"] = "payments";
  json resp = update(now, old);
  EXPECT_EQ(resp["allowed"], true);
  EXPECT_EQ(resp["warnings"], json::array({"[audit] " + kNoName80}));
}

// ---- exemptions ----

TEST_F(Lifecycle, ExemptRequestsAreAllowedWithoutLookingAndCountedAsExempt) {
  json platform = service("svc", json::array({kPort80}));
  platform["metadata"]["namespace"] = "d8-istio";
  EXPECT_EQ(send("/validate", platform), (json{{"uid", uid()}, {"allowed", true}}));
  json system = service("svc", json::array({kPort80}));
  system["metadata"]["namespace"] = "kube-system";
  EXPECT_EQ(send("/validate", system), (json{{"uid", uid()}, {"allowed", true}}));

  ReviewOptions byUser;
  byUser.username = "system:serviceaccount:ops:deployer";
  EXPECT_EQ(send("/validate", service("svc", json::array({kPort80})), byUser),
            (json{{"uid", uid()}, {"allowed", true}}));
  ReviewOptions byGroup;
  byGroup.groups = {"system:authenticated", "platform-admins"};
  EXPECT_EQ(send("/validate", service("svc", json::array({kPort80})), byGroup),
            (json{{"uid", uid()}, {"allowed", true}}));

  // A cluster-scoped object matches by user and group only.
  const json fed = federation("cluster-b", "cluster.local", "10.112.0.0/16", "10.221.0.0/16");
  EXPECT_EQ(send("/validate", fed)["allowed"], false);
  EXPECT_EQ(send("/validate", fed, byGroup), (json{{"uid", uid()}, {"allowed", true}}));

  // No patch for an exempt ServiceEntry.
  json se = {{"apiVersion", "networking.istio.io/v1"},
             {"kind", "ServiceEntry"},
             {"metadata", {{"name", "ext"}, {"namespace", "d8-system"}}},
             {"spec", {{"hosts", {"example.com"}}, {"ports", {{{"number", 80}}}}}}};
  EXPECT_EQ(send("/mutate", se), (json{{"uid", uid()}, {"allowed", true}}));

  // A namespace that only looks alike is not exempt.
  json other = service("svc", json::array({kPort80}));
  other["metadata"]["namespace"] = "kube-systems";
  EXPECT_EQ(send("/validate", other)["allowed"], false);

  const std::string m = metrics();
  EXPECT_NE(m.find("alliance_webhook_requests_total{endpoint=\"validate\",kind=\"Service\","
                   "operation=\"CREATE\",decision=\"exempt\"} 4"),
            std::string::npos)
      << m;
  EXPECT_NE(server_->log().find("decision=exempt "), std::string::npos) << server_->log();
  EXPECT_NE(server_->log().find("exempt=\"namespace d8-istio (exemptions.namespaces: d8-*)\""),
            std::string::npos)
      << server_->log();
}

TEST(LifecycleConfig, AnExemptionOfEverythingIsRefusedAtStartUp) {
  TempDir dir;
  writeFile(dir / "config.yaml", "exemptions:\n  namespaces: [kube-system, \"*\"]\n");
  RunResult r = run({AW_BINARY, "serve", "--tls-cert", devCerts().cert.string(), "--tls-key",
                     devCerts().key.string(), "--config", (dir / "config.yaml").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "alliance-webhook serve: invalid configuration: " + (dir / "config.yaml").string() +
                ":2: exemptions.namespaces[1]: \"*\" alone would exempt every request and switch "
                "the webhook off: list the names, or a prefix ending in * such as d8-*\n");
}

// ---- ServiceEntry defaults never change what Istio does ----

TEST_F(Lifecycle, AServiceEntryPortWithoutAProtocolPrefixKeepsProtocolDetection) {
  json se = {{"apiVersion", "networking.istio.io/v1"},
             {"kind", "ServiceEntry"},
             {"metadata", {{"name", "ext"}, {"namespace", "default"}}},
             {"spec",
              {{"hosts", {"api.example.com"}},
               {"location", "MESH_EXTERNAL"},
               {"resolution", "DNS"},
               {"ports",
                {{{"number", 8080}, {"name", "web"}},
                 {{"number", 8081}, {"name", "http-web"}},
                 {{"number", 9000}},
                 {{"number", 9001}, {"protocol", "GRPC"}}}}}}};
  json resp = send("/mutate", se);
  EXPECT_EQ(patchOf(resp), json::parse(R"([
              {"op": "add", "path": "/spec/ports/1/protocol", "value": "HTTP"},
              {"op": "add", "path": "/spec/ports/2/name", "value": "port-9000"},
              {"op": "add", "path": "/spec/ports/3/name", "value": "grpc-9001"},
              {"op": "add", "path": "/metadata/annotations", "value":
                {"alliance-webhook.io/defaulted":
                 "spec.ports[1].protocol,spec.ports[2].name,spec.ports[3].name"}}
            ])"));
}

// ---- smaller rule corrections (SPEC §5) ----

TEST_F(Lifecycle, ANonEmptyPublicServiceLabelIsCheckedButWarnedAbout) {
  json svc = service("web", json::array({{{"name", "http"}, {"port", 80}}}));
  svc["metadata"]["labels"]["federation.istio.deckhouse.io/public-service"] = "true";
  EXPECT_EQ(send("/validate", svc),
            (json{{"uid", uid()},
                  {"allowed", true},
                  {"warnings",
                   {"public-service-label: "
                    "metadata.labels[federation.istio.deckhouse.io/public-service]: value \"true\" "
                    "is not empty, and the platform exports only Services whose value is empty "
                    "(its selector is public-service=), so this Service is checked but never "
                    "exported: set the value to \"\""}}}));
}

TEST_F(Lifecycle, PortProtocolTakesItsScopeFromPortNames) {
  start(kConfig + "rules:\n  service-port-names: {scope: all}\n");
  json resp =
      send("/validate", service("web", json::array({{{"name", "web"}, {"port", 80}}}), false));
  ASSERT_EQ(resp["warnings"].size(), 1u) << resp.dump();
  EXPECT_EQ(
      resp["warnings"][0].get<std::string>().rfind(
          "service-port-protocol: spec.ports[0].name: \"web\" has no Istio protocol prefix", 0),
      0u);
  // Set on its own, it keeps its own.
  start(kConfig +
        "rules:\n  service-port-names: {scope: all}\n"
        "  service-port-protocol: {scope: public}\n");
  EXPECT_EQ(
      send("/validate", service("web", json::array({{{"name", "web"}, {"port", 80}}}), false)),
      (json{{"uid", uid()}, {"allowed", true}}));
}

json multicluster(const std::string& name, const json& annotations, bool ingressGateway = true) {
  return {{"apiVersion", "deckhouse.io/v1alpha1"},
          {"kind", "IstioMulticluster"},
          {"metadata", {{"name", name}, {"annotations", annotations}}},
          {"spec",
           {{"enableIngressGateway", ingressGateway},
            {"metadata", {{"endpoint", "https://istio." + name + ".example.com/metadata/"}}}}}};
}

TEST_F(Lifecycle, AMulticlusterWithoutADeclaredDomainIsWarnedAbout) {
  json mc =
      multicluster("cluster-m", {{"alliance-webhook.io/pod-subnet-cidr", "10.120.0.0/16"},
                                 {"alliance-webhook.io/service-subnet-cidr", "10.230.0.0/16"}});
  EXPECT_EQ(send("/validate", mc),
            (json{{"uid", uid()},
                  {"allowed", true},
                  {"warnings",
                   {"multicluster-cluster-domain: metadata.annotations: no cluster domain "
                    "declared, so it is not compared with the local cluster's: add annotation "
                    "alliance-webhook.io/cluster-domain"}}}));
  start(kConfig + "rules:\n  multicluster-cluster-domain: {unknownDomain: deny}\n");
  EXPECT_EQ(send("/validate", mc)["allowed"], false);
}

TEST(LifecycleConfig, AClusterConfigurationWithoutADomainMeansClusterLocal) {
  TempDir dir;
  writeFile(dir / "cc.yaml",
            "apiVersion: deckhouse.io/v1\nkind: ClusterConfiguration\n"
            "podSubnetCIDR: 10.111.0.0/16\nserviceSubnetCIDR: 10.222.0.0/16\n");
  writeFile(dir / "config.yaml", "localCluster:\n  clusterConfigurationFile: cc.yaml\n");
  ServerProcess s({"--config", (dir / "config.yaml").string()});
  EXPECT_NE(s.log().find(" has no clusterDomain: the local cluster domain is cluster.local, the "
                         "platform's default"),
            std::string::npos)
      << s.log();
  // So a federation is refused: a cluster whose domain is cluster.local cannot federate.
  TlsClient c(s.port(), {devCerts().ca});
  auto r = c.request(
      "POST", "/validate",
      review(federation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16")).dump());
  ASSERT_TRUE(r.has_value());
  const json resp = responseOf(r->body);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_NE(resp["status"]["message"].get<std::string>().find("cluster.local"), std::string::npos)
      << resp.dump();
}

}  // namespace
}  // namespace aw::test

// The webhook started against the fake API server (cluster.watch and the ClusterConfiguration
// Secret): cross-member decisions follow the cluster, through every injected fault.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "test/support/fake_apiserver.h"
#include "test/support/process.h"
#include "test/support/review.h"

namespace aw::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kFederations = "/apis/deckhouse.io/v1alpha1/istiofederations";
constexpr const char* kMulticlusters = "/apis/deckhouse.io/v1alpha1/istiomulticlusters";
constexpr const char* kSecrets = "/api/v1/namespaces/kube-system/secrets";

Json clusterConfigurationSecret(const std::string& domain, const std::string& pod,
                                const std::string& service) {
  const std::string yaml =
      "apiVersion: deckhouse.io/v1\nkind: ClusterConfiguration\n"
      "clusterType: Static\nclusterDomain: " +
      domain + "\npodSubnetCIDR: " + pod + "\nserviceSubnetCIDR: " + service +
      "\nkubernetesVersion: \"1.29\"\n";
  return {{"metadata", {{"name", "d8-cluster-configuration"}, {"namespace", "kube-system"}}},
          {"type", "Opaque"},
          {"data", {{"cluster-configuration.yaml", base64(yaml)}}}};
}

// An IstioFederation as the API server stores it (with the annotations declaring its subnets).
Json storedFederation(const std::string& name, const std::string& domain, const std::string& pod,
                      const std::string& service) {
  Json f = federation(name, domain, pod, service);
  f["metadata"]["uid"] = "uid-" + name;
  return f;
}

// The webhook, a kubeconfig for the fake, and a TLS client to ask it questions.
class Cluster {
 public:
  explicit Cluster(const std::string& extraConfig = "", bool waitReady = true) {
    fake_.addCollection(kFederations, "deckhouse.io/v1alpha1", "IstioFederation");
    fake_.addCollection(kMulticlusters, "deckhouse.io/v1alpha1", "IstioMulticluster");
    fake_.addCollection(kSecrets, "v1", "Secret");
    fake_.put(kSecrets,
              clusterConfigurationSecret("cluster-a.local", "10.111.0.0/16", "10.222.0.0/16"));
    writeFile(dir_ / "kubeconfig", fake_.kubeconfig());
    writeFile(dir_ / "config.yaml",
              "cluster:\n  watch: true\n  kubeconfig: kubeconfig\n"
              "  clusterConfigurationSecret: kube-system/d8-cluster-configuration\n" +
                  extraConfig);
    if (waitReady) start();
  }

  void start(bool waitReady = true) {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (dir_ / "config.yaml").string(), "--log-level",
                                 "debug"},
        waitReady);
  }

  FakeApiServer& fake() { return fake_; }
  ServerProcess& server() { return *server_; }
  const TempDir& dir() const { return dir_; }

  // The webhook's answer to an admission review of `object`.
  Json ask(const Json& object, const ReviewOptions& options = {}) {
    if (!client_ || !client_->connected()) {
      client_ = std::make_unique<TlsClient>(server_->port(), TlsClient::Options{devCerts().ca});
    }
    auto r = client_->request("POST", "/validate", review(object, options).dump());
    if (!r) {
      client_.reset();
      return Json();
    }
    return responseOf(r->body);
  }
  std::string verdict(const Json& object) {
    const Json r = ask(object);
    if (r.is_null()) return "no answer";
    return r.value("allowed", false) ? "allowed" : "denied: " + r["status"].value("message", "");
  }
  // Polls until the decision on `object` satisfies `want`; returns how long that took, or
  // nullopt after `within`.
  template <class Want>
  std::optional<std::chrono::microseconds> until(const Json& object, Want want,
                                                 std::chrono::milliseconds within = 10s) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < within) {
      if (want(verdict(object))) {
        return std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - start);
      }
      std::this_thread::sleep_for(1ms);
    }
    return std::nullopt;
  }
  bool deniedWith(const Json& object, const std::string& fragment,
                  std::chrono::milliseconds within = 10s) {
    return until(
               object,
               [&](const std::string& v) {
                 return v.starts_with("denied") && v.find(fragment) != std::string::npos;
               },
               within)
        .has_value();
  }
  bool allowed(const Json& object, std::chrono::milliseconds within = 10s) {
    return until(
               object, [](const std::string& v) { return v == "allowed"; }, within)
        .has_value();
  }

  std::optional<HttpResponse> get(const std::string& path) {
    TlsClient c(server_->port(), {devCerts().ca});
    return c.request("GET", path, "");
  }

 private:
  FakeApiServer fake_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TlsClient> client_;
};

// A new member that overlaps cluster-b's pod subnet.
const Json kNewcomer =
    storedFederation("cluster-n", "cluster-n.local", "10.112.128.0/17", "10.230.0.0/16");

TEST(Cluster, AMemberInTheClusterMakesAnOverlappingNewcomerDenied) {
  Cluster c;
  EXPECT_EQ(c.verdict(kNewcomer), "allowed");
  c.fake().put(kFederations,
               storedFederation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16"));
  EXPECT_TRUE(c.deniedWith(kNewcomer,
                           "subnet-overlap: metadata.annotations[alliance-webhook.io/"
                           "pod-subnet-cidr]: pod subnet 10.112.128.0/17 overlaps pod subnet "
                           "10.112.0.0/16 of IstioFederation cluster-b"))
      << c.verdict(kNewcomer);
  // The same trust domain as a member in the cluster is caught too.
  const Json sameDomain = storedFederation("cluster-x", "CLUSTER-B.local.", "", "");
  EXPECT_TRUE(c.deniedWith(sameDomain,
                           "federation-trust-domain: spec.trustDomain: trust domain "
                           "\"CLUSTER-B.local.\" is already the domain of IstioFederation "
                           "cluster-b (spec.trustDomain)"))
      << c.verdict(sameDomain);

  // Deleted in the cluster: it no longer counts.
  c.fake().remove(kFederations, "cluster-b");
  EXPECT_TRUE(c.allowed(kNewcomer)) << c.verdict(kNewcomer);
}

TEST(Cluster, UpdatingAMemberIsNotComparedWithItsOwnStoredVersion) {
  Cluster c;
  const Json b = storedFederation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16");
  c.fake().put(kFederations, b);
  ASSERT_TRUE(c.deniedWith(kNewcomer, "IstioFederation cluster-b"));
  ReviewOptions update;
  update.operation = "UPDATE";
  update.oldObject = b;
  EXPECT_TRUE(c.ask(b, update).value("allowed", false));
}

TEST(Cluster, AMulticlusterMemberCountsToo) {
  Cluster c;
  Json m = {{"apiVersion", "deckhouse.io/v1alpha1"},
            {"kind", "IstioMulticluster"},
            {"metadata",
             {{"name", "cluster-m"},
              {"annotations",
               {{"alliance-webhook.io/pod-subnet-cidr", "10.112.0.0/16"},
                {"alliance-webhook.io/service-subnet-cidr", "10.240.0.0/16"},
                {"alliance-webhook.io/cluster-domain", "cluster-a.local"}}}}},
            {"spec", {{"metadata", {{"endpoint", "https://m/metadata/"}}}}}};
  c.fake().put(kMulticlusters, m);
  EXPECT_TRUE(c.deniedWith(kNewcomer, "IstioMulticluster cluster-m")) << c.verdict(kNewcomer);
}

// Between two members, multiNetworkAction applies only when both are reached through the
// ingress gateway: a federation admitted after a single-network multicluster it overlaps gets
// `action`, while its overlap with the (multi-network) local cluster keeps multiNetworkAction.
TEST(Cluster, AnOverlapWithASingleNetworkMemberGetsActionWhicheverComesSecond) {
  Cluster c("rules:\n  subnet-overlap: {multiNetworkAction: warn}\n");
  Json flat = {
      {"apiVersion", "deckhouse.io/v1alpha1"},
      {"kind", "IstioMulticluster"},
      {"metadata",
       {{"name", "flat"},
        {"annotations",
         {{"alliance-webhook.io/pod-subnet-cidr", "10.120.0.0/16"},
          {"alliance-webhook.io/service-subnet-cidr", "10.230.0.0/16"},
          {"alliance-webhook.io/cluster-domain", "cluster-a.local"}}}}},
      {"spec", {{"enableIngressGateway", false}, {"metadata", {{"endpoint", "https://f/"}}}}}};
  c.fake().put(kMulticlusters, flat);
  const Json overlapsFlat =
      storedFederation("cluster-n", "cluster-n.local", "10.120.0.0/17", "10.231.0.0/16");
  EXPECT_TRUE(c.deniedWith(overlapsFlat,
                           "subnet-overlap: metadata.annotations[alliance-webhook.io/"
                           "pod-subnet-cidr]: pod subnet 10.120.0.0/17 overlaps pod subnet "
                           "10.120.0.0/16 of IstioMulticluster flat"))
      << c.verdict(overlapsFlat);
  const Json overlapsLocal =
      storedFederation("cluster-l", "cluster-l.local", "10.111.0.0/17", "10.232.0.0/16");
  const Json r = c.ask(overlapsLocal);
  EXPECT_EQ(r.value("allowed", false), true) << r.dump();
  EXPECT_EQ(r["warnings"].size(), 1u) << r.dump();
}

TEST(Cluster, TheClusterConfigurationSecretIsTheLocalClusterAndItsChangesAreFollowed) {
  Cluster c;
  // The local cluster comes from the Secret: a member overlapping its pod subnet is denied.
  const Json local = storedFederation("cluster-l", "cluster-l.local", "10.111.5.0/24", "");
  EXPECT_TRUE(c.deniedWith(local,
                           "overlaps the local cluster's pod subnet 10.111.0.0/16 (Secret "
                           "kube-system/d8-cluster-configuration: podSubnetCIDR)"))
      << c.verdict(local);
  const Json sameAsLocal = storedFederation("cluster-s", "cluster-z.local", "", "");
  EXPECT_EQ(c.verdict(sameAsLocal).substr(0, 7), "allowed");

  c.fake().put(kSecrets,
               clusterConfigurationSecret("cluster-z.local", "10.99.0.0/16", "10.98.0.0/16"));
  EXPECT_TRUE(c.deniedWith(sameAsLocal, "is the local cluster's own domain"))
      << c.verdict(sameAsLocal);
  EXPECT_TRUE(c.allowed(local)) << c.verdict(local);

  // A broken version is refused; the one before stays in force.
  Json broken = clusterConfigurationSecret("x", "10.0.0.1/8", "10.1.0.0/16");
  c.fake().put(kSecrets, broken);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(c.deniedWith(sameAsLocal, "is the local cluster's own domain"));
  const std::string log = c.server().log();
  EXPECT_NE(log.find("Secret kube-system/d8-cluster-configuration refused"), std::string::npos)
      << log;
  EXPECT_NE(log.find("host bits are set"), std::string::npos) << log;
}

TEST(Cluster, ADryRunChangesNothingTheWebhookKnows) {
  Cluster c;
  ReviewOptions dry;
  dry.dryRun = true;
  const Json proposed =
      storedFederation("cluster-p", "cluster-p.local", "10.112.0.0/16", "10.221.0.0/16");
  EXPECT_TRUE(c.ask(proposed, dry).value("allowed", false));
  EXPECT_TRUE(c.ask(proposed).value("allowed", false));  // and a real one, not yet stored
  // Neither was stored by the API server, so neither is a member the newcomer overlaps.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(c.verdict(kNewcomer), "allowed");
}

TEST(Cluster, ReadinessWaitsForTheFirstSync) {
  Cluster c("", false);
  c.fake().failNext(1000000, 503);
  c.start(false);
  std::optional<HttpResponse> r;
  for (int i = 0; i < 200; ++i) {
    r = c.get("/readyz");
    if (r && r->body.find("istiofederations: LIST") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("not ready: cluster state not synced yet: istiofederations: LIST "
                         "/apis/deckhouse.io/v1alpha1/istiofederations: HTTP 503"),
            std::string::npos)
      << r->body;
  c.fake().failNext(0, 503);
  EXPECT_TRUE(c.server().waitReady(40s)) << c.server().log();
}

TEST(Cluster, NoWaitingWhenReadyAfterSyncIsOff) {
  Cluster c("  readyAfterSync: false\n", false);
  c.fake().failNext(1000000, 503);
  c.start(true);  // ready at once
  c.fake().failNext(0, 503);
  c.fake().put(kFederations,
               storedFederation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16"));
  EXPECT_TRUE(c.deniedWith(kNewcomer, "IstioFederation cluster-b", 40s));
}

TEST(Cluster, DecisionsFollowTheClusterThroughEveryFault) {
  Cluster c;
  int n = 0;
  // After each fault: a new member appears in the fake, and the newcomer overlapping it is denied;
  // it is deleted, and the newcomer is allowed again.
  auto follows = [&](const std::string& fault) {
    SCOPED_TRACE(fault);
    const std::string name = "member-" + std::to_string(++n);
    c.fake().put(kFederations,
                 storedFederation(name, name + ".local", "10.112.0.0/16", "10.221.0.0/16"));
    EXPECT_TRUE(c.deniedWith(kNewcomer, "IstioFederation " + name, 40s)) << c.verdict(kNewcomer);
    c.fake().remove(kFederations, name);
    EXPECT_TRUE(c.allowed(kNewcomer)) << c.verdict(kNewcomer);
  };
  follows("none");
  c.fake().dropWatches();
  follows("connection dropped mid-stream");
  c.fake().dropWatches();
  c.fake().put(kFederations, storedFederation("gap", "gap.local", "", ""));
  c.fake().compact();
  follows("compacted while disconnected (410 Expired)");
  c.fake().sendWatchError410();
  follows("ERROR event 410");
  c.fake().sendRaw("{this is not json\n");
  follows("malformed event");
  c.fake().failNext(3, 500);
  c.fake().dropWatches();
  follows("500s");
  c.fake().setDelay(300ms);
  c.fake().dropWatches();
  follows("a slow server");
  c.fake().setDelay(0ms);
  c.fake().setToken("new-token");
  c.fake().dropWatches();
  std::this_thread::sleep_for(300ms);
  c.fake().setToken("test-token");
  follows("an expired token");

  const std::optional<HttpResponse> metrics = c.get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line : {
           "alliance_webhook_cluster_synced{resource=\"istiofederations\"} 1",
           "alliance_webhook_cluster_synced{resource=\"secret\"} 1",
           "alliance_webhook_cluster_members{kind=\"IstioFederation\"} 1",
           "alliance_webhook_watch_restarts_total{resource=\"istiofederations\",reason="
           "\"expired\"}",
           "alliance_webhook_watch_restarts_total{resource=\"istiofederations\",reason="
           "\"malformed\"}",
           "alliance_webhook_watch_restarts_total{resource=\"istiofederations\",reason="
           "\"disconnected\"}",
           "alliance_webhook_cluster_last_sync_age_seconds{resource=\"istiofederations\"}",
           "alliance_webhook_reloads_total{what=\"cluster-configuration\",result=\"success\"} 1",
       }) {
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << "\n" << metrics->body;
  }
  EXPECT_EQ(c.server().terminate(), 0);
}

TEST(Cluster, ATlsServerNameItCannotHonourIsSaidAtStartUp) {
  Cluster c("", false);
  std::string kubeconfig = c.fake().kubeconfig();
  const std::string ca = "    certificate-authority: ";
  kubeconfig.insert(kubeconfig.find(ca), "    tls-server-name: localhost\n");
  writeFile(c.dir() / "kubeconfig", kubeconfig);
  c.start();  // served: the certificate is valid for 127.0.0.1 as well
  EXPECT_NE(c.server().log().find("tls-server-name is not supported; the API server's "
                                  "certificate is verified against 127.0.0.1"),
            std::string::npos)
      << c.server().log();
}

TEST(Cluster, ABadKubeconfigStopsTheStartWithTheReason) {
  TempDir dir;
  writeFile(dir / "config.yaml", "cluster:\n  watch: true\n  kubeconfig: missing.yaml\n");
  const RunResult r =
      run({AW_BINARY, "serve", "--config", (dir / "config.yaml").string(), "--tls-cert",
           devCerts().cert.string(), "--tls-key", devCerts().key.string(), "--listen",
           "127.0.0.1:" + std::to_string(freePort())});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("alliance-webhook serve: cluster: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.yaml"), std::string::npos) << r.err;
}

TEST(Cluster, OutsideAClusterWithoutAKubeconfigSaysWhatToGive) {
  TempDir dir;
  writeFile(dir / "config.yaml", "cluster:\n  watch: true\n");
  const RunResult r = runShell(
      "env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT " + shellQuote(AW_BINARY) +
      " serve --config " + shellQuote((dir / "config.yaml").string()) + " --tls-cert " +
      shellQuote(devCerts().cert.string()) + " --tls-key " + shellQuote(devCerts().key.string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("KUBERNETES_SERVICE_HOST"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--kubeconfig"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aw::test

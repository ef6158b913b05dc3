// The background audit of `serve` (SPEC §9) against the fake API server: what the cluster already
// holds is judged after the first sync and every interval, and shows in GET /audit, the metrics,
// the log and the PolicyReports the Lease holder writes.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <thread>

#include "test/support/audited_cluster.h"
#include "test/support/fake_apiserver.h"
#include "test/support/process.h"
#include "test/support/review.h"

namespace aw::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kReports = "/apis/wgpolicyk8s.io/v1alpha2";
constexpr const char* kClusterReports = "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports";
constexpr const char* kDefaultReports =
    "/apis/wgpolicyk8s.io/v1alpha2/namespaces/default/policyreports";
constexpr const char* kLeases = "/apis/coordination.k8s.io/v1/namespaces/alliance-webhook/leases";

const std::string kConfig = R"(localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: 10.111.0.0/16
  serviceSubnetCIDR: 10.222.0.0/16
exemptions:
  namespaces: ["d8-*"]
cluster:
  watch: true
  kubeconfig: kubeconfig
audit:
  interval: 5s
  leaseDuration: 2s
)";

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Polls `done` every 50 ms until it holds or `within` passes.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds within = 15s) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

class BackgroundAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    seedAuditedCluster(fake_);
    fake_.addCollection(kLeases, "coordination.k8s.io/v1", "Lease");
    writeFile(dir_ / "kubeconfig", fake_.kubeconfig());
    writeFile(dir_ / "config.yaml", kConfig);
  }

  void installPolicyReportCrd() {
    fake_.addNamespacedResource(kReports, "policyreports", "PolicyReport");
    fake_.addCollection(kClusterReports, "wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport");
  }

  std::unique_ptr<ServerProcess> start() {
    return std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (dir_ / "config.yaml").string(), "--metrics-listen",
                                 "127.0.0.1:" + std::to_string(metricsPort_ = freePort())});
  }

  static std::optional<HttpResponse> get(ServerProcess& s, const std::string& path) {
    TlsClient c(s.port(), {devCerts().ca});
    return c.request("GET", path, "");
  }
  // The last run, once there is one; null otherwise.
  static Json lastRun(ServerProcess& s) {
    const auto r = get(s, "/audit");
    return r && r->status == 200 ? Json::parse(r->body) : Json();
  }
  static std::string metrics(ServerProcess& s) {
    const auto r = get(s, "/metrics");
    return r ? r->body : std::string();
  }
  static bool hasLine(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
  }
  std::size_t writes() const {
    std::size_t n = 0;
    for (const auto& r : fake_.requests()) n += r.method == "GET" ? 0 : 1;
    return n;
  }

  FakeApiServer fake_;
  TempDir dir_;
  int metricsPort_ = 0;
};

const std::string kOverlapB =
    "pod subnet 10.112.0.0/16 overlaps pod subnet 10.112.128.0/17 of IstioFederation cluster-x: "
    "give every cluster its own range";
const std::string kOverlapX =
    "pod subnet 10.112.128.0/17 overlaps pod subnet 10.112.0.0/16 of IstioFederation cluster-b: "
    "give every cluster its own range";
const std::string kPortName =
    "port 80/TCP has no name, and public federation services need a name on every port (add for "
    "example name: tcp-80)";
const std::string kPodAnnotation = "metadata.annotations[alliance-webhook.io/pod-subnet-cidr]";

Json finding(const std::string& kind, const std::string& ns, const std::string& name,
             const std::string& rule, const std::string& path, const std::string& message) {
  return {{"file", nullptr}, {"line", nullptr},   {"document", nullptr}, {"kind", kind},
          {"namespace", ns}, {"name", name},      {"rule", rule},        {"action", "deny"},
          {"path", path},    {"message", message}};
}

TEST_F(BackgroundAudit, ReportsBothOverlappingFederationsStoredBeforeItStarted) {
  installPolicyReportCrd();
  auto server = start();
  Json run;
  ASSERT_TRUE(eventually([&] { return !(run = lastRun(*server)).is_null(); })) << server->log();
  EXPECT_EQ(
      run["findings"],
      Json::array(
          {finding("IstioFederation", "", "cluster-b", "subnet-overlap", kPodAnnotation, kOverlapB),
           finding("IstioFederation", "", "cluster-x", "subnet-overlap", kPodAnnotation, kOverlapX),
           finding("Service", "default", "legacy", "service-port-names", "spec.ports[0]",
                   kPortName)}));
  EXPECT_EQ(run["summary"]["objects"], 4);  // the unlabelled Service is not listed
  EXPECT_EQ(run["summary"]["denied"], 3);

  // The same on the metrics port, and in the gauges.
  const auto plain = httpGet(metricsPort_, "/audit");
  ASSERT_TRUE(plain);
  EXPECT_EQ(Json::parse(plain->body)["findings"], run["findings"]);
  const std::string m = metrics(*server);
  EXPECT_TRUE(hasLine(m,
                      "alliance_webhook_audit_violations{rule=\"subnet-overlap\","
                      "action=\"deny\",kind=\"IstioFederation\"} 2"))
      << m;
  EXPECT_TRUE(hasLine(m,
                      "alliance_webhook_audit_violations{rule=\"service-port-names\","
                      "action=\"deny\",kind=\"Service\"} 1"))
      << m;
  EXPECT_NE(m.find("\nalliance_webhook_audit_last_run_timestamp_seconds 1"), std::string::npos);
  EXPECT_NE(m.find("\n# TYPE alliance_webhook_audit_duration_seconds gauge\n"), std::string::npos);
  EXPECT_EQ(occurrences(server->log(), "audit: new finding"), 3u) << server->log();

  // The PolicyReports: the federations (cluster-scoped) in the ClusterPolicyReport, the
  // Service in its namespace's PolicyReport; both named alliance-webhook.
  Json cluster, ns;
  ASSERT_TRUE(eventually([&] {
    cluster = fake_.get(kClusterReports, "alliance-webhook");
    ns = fake_.get(kDefaultReports, "alliance-webhook");
    return !cluster.is_null() && !ns.is_null();
  })) << server->log();
  ASSERT_EQ(cluster["results"].size(), 2u) << cluster.dump(2);
  EXPECT_EQ(cluster["summary"]["fail"], 2);
  const Json& r = cluster["results"][0];
  EXPECT_EQ(r["policy"], "alliance-webhook");
  EXPECT_EQ(r["rule"], "subnet-overlap");
  EXPECT_EQ(r["result"], "fail");
  EXPECT_EQ(r["message"], kPodAnnotation + ": " + kOverlapB);
  EXPECT_EQ(r["resources"][0]["kind"], "IstioFederation");
  EXPECT_EQ(r["resources"][0]["name"], "cluster-b");
  EXPECT_EQ(r["resources"][0]["uid"], fake_.get(kFederationsPath, "cluster-b")["metadata"]["uid"]);
  ASSERT_EQ(ns["results"].size(), 1u) << ns.dump(2);
  EXPECT_EQ(ns["results"][0]["rule"], "service-port-names");
  EXPECT_EQ(ns["results"][0]["resources"][0]["namespace"], "default");
  // Written with a server-side apply by the field manager alliance-webhook.
  bool applied = false;
  for (const auto& req : fake_.requests()) {
    if (req.method == "PATCH" && req.path == std::string(kDefaultReports) + "/alliance-webhook") {
      applied = req.contentType == "application/apply-patch+yaml" &&
                req.query.at("fieldManager") == "alliance-webhook" &&
                req.query.at("force") == "true";
    }
  }
  EXPECT_TRUE(applied);
}

TEST_F(BackgroundAudit, FixingOneFederationClearsTheReportOnTheNextRun) {
  installPolicyReportCrd();
  auto server = start();
  ASSERT_TRUE(eventually([&] {
    return !fake_.get(kClusterReports, "alliance-webhook").is_null() &&
           !fake_.get(kDefaultReports, "alliance-webhook").is_null();
  })) << server->log();

  fake_.put(kFederationsPath,
            federation("cluster-x", "cluster-x.local", "10.113.0.0/16", "10.230.0.0/16"));
  fake_.remove(kServicesPath, "legacy");
  Json run;
  // The next run is at most 5 s (the interval) away.
  ASSERT_TRUE(eventually([&] {
    run = lastRun(*server);
    return run.is_object() && run["findings"].empty();
  })) << run.dump(2);
  const std::string m = metrics(*server);
  EXPECT_TRUE(hasLine(m,
                      "alliance_webhook_audit_violations{rule=\"subnet-overlap\","
                      "action=\"deny\",kind=\"IstioFederation\"} 0"))
      << m;
  EXPECT_EQ(occurrences(server->log(), "audit: finding gone"), 3u) << server->log();
  // The reports are emptied, the namespace's too (not deleted).
  ASSERT_TRUE(eventually([&] {
    return fake_.get(kClusterReports, "alliance-webhook")["results"].empty() &&
           fake_.get(kDefaultReports, "alliance-webhook")["results"].empty();
  })) << fake_.get(kDefaultReports, "alliance-webhook").dump(2);
  EXPECT_EQ(fake_.get(kDefaultReports, "alliance-webhook")["summary"]["fail"], 0);
}

// /audit and the gauges say what `check --output json` says over the same objects as files.
TEST_F(BackgroundAudit, AgreesWithCheckOverTheSameObjectsAsFiles) {
  Json extra = federation("cluster-m", "", "10.111.5.0/24", "");  // overlaps the local cluster
  extra["kind"] = "IstioMulticluster";
  extra["metadata"]["annotations"]["alliance-webhook.io/service-subnet-cidr"] = "10.300.0.0/16";
  fake_.put(kMulticlustersPath, extra);
  auto server = start();
  Json audited;
  ASSERT_TRUE(eventually([&] { return !(audited = lastRun(*server)).is_null(); })) << server->log();

  std::string files;
  for (const char* c : {kFederationsPath, kMulticlustersPath, kServicesPath}) {
    for (const std::string name :
         {"cluster-b", "cluster-x", "cluster-m", "legacy", "platform", "internal"}) {
      const Json o = fake_.get(c, name);
      if (!o.is_null()) files += "---\n" + o.dump() + "\n";
    }
  }
  writeFile(dir_ / "objects.yaml", files);
  RunResult checked = run({AW_BINARY, "check", "--config", (dir_ / "config.yaml").string(),
                           "--output", "json", (dir_ / "objects.yaml").string()});
  ASSERT_EQ(checked.status, 1) << checked.err;
  const Json checkedFindings = withoutLocations(Json::parse(checked.out)["findings"]);
  EXPECT_EQ(withoutLocations(audited["findings"]), checkedFindings);
  // The malformed annotation is reported, not skipped.
  EXPECT_NE(audited["findings"].dump().find("10.300.0.0/16"), std::string::npos) << audited.dump(2);

  // Every gauge counts check's findings of its rule, action and kind.
  std::map<std::string, int> counts;
  for (const Json& f : checkedFindings) {
    ++counts["alliance_webhook_audit_violations{rule=\"" + f["rule"].get<std::string>() +
             "\",action=\"" + f["action"].get<std::string>() + "\",kind=\"" +
             f["kind"].get<std::string>() + "\"}"];
  }
  const std::string m = metrics(*server);
  std::size_t gauges = 0;
  for (const auto& [series, n] : counts) {
    EXPECT_TRUE(hasLine(m, series + " " + std::to_string(n))) << series << "\n" << m;
  }
  for (auto at = m.find("\nalliance_webhook_audit_violations{"); at != std::string::npos;
       at = m.find("\nalliance_webhook_audit_violations{", at + 1)) {
    ++gauges;
  }
  EXPECT_EQ(gauges, counts.size()) << m;
}

TEST_F(BackgroundAudit, WithoutThePolicyReportCrdNothingIsWrittenAndTheLogSaysSoOnce) {
  auto server = start();
  ASSERT_TRUE(eventually([&] { return !lastRun(*server).is_null(); })) << server->log();
  // A second run, so anything a run would write has had its chance.
  ASSERT_TRUE(eventually([&] { return occurrences(server->log(), "audit: run completed") >= 2; }))
      << server->log();
  EXPECT_EQ(writes(), 0u);
  EXPECT_EQ(
      occurrences(server->log(), "PolicyReport CRD (wgpolicyk8s.io/v1alpha2) is not installed"), 1u)
      << server->log();
  for (const auto& r : fake_.requests()) EXPECT_EQ(r.path.find("/leases"), std::string::npos);
}

TEST_F(BackgroundAudit, AReportWriteThatFailsIsRetriedAndCounted) {
  installPolicyReportCrd();
  fake_.failNextWrites(2, 503, "/namespaces/default/policyreports/");
  auto server = start();
  ASSERT_TRUE(eventually([&] { return !fake_.get(kDefaultReports, "alliance-webhook").is_null(); }))
      << server->log();
  EXPECT_EQ(fake_.get(kDefaultReports, "alliance-webhook")["results"].size(), 1u);
  const std::string m = metrics(*server);
  EXPECT_TRUE(hasLine(m,
                      "alliance_webhook_audit_report_write_errors_total{kind=\"PolicyReport\","
                      "code=\"503\"} 2"))
      << m;
  EXPECT_EQ(occurrences(server->log(), "audit: writing a report failed; retrying with backoff"),
            2u);
  // Admission went on meanwhile.
  TlsClient c(server->port(), {devCerts().ca});
  const auto r =
      c.request("POST", "/validate",
                review(service("ok", Json::array({{{"port", 80}, {"name", "http"}}}))).dump());
  ASSERT_TRUE(r);
  EXPECT_TRUE(responseOf(r->body).value("allowed", false));
}

TEST_F(BackgroundAudit, BeforeTheFirstRunAuditAnswers503) {
  fake_.setDelay(3s);  // the first list takes a while
  ServerProcess server({"--config", (dir_ / "config.yaml").string()}, false);
  std::optional<HttpResponse> r;
  ASSERT_TRUE(eventually([&] { return (r = get(server, "/audit")).has_value(); }, 5s));
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(Json::parse(r->body),
            (Json{{"error",
                   "no audit run has completed yet: the first starts once the cluster state is "
                   "synced"}}));
}

// Two replicas: one holds the Lease and writes; when it stops, the other takes over once the
// Lease expires.
TEST_F(BackgroundAudit, TwoReplicasElectOneWriterAndTheOtherTakesOverAfterExpiry) {
  installPolicyReportCrd();
  auto a = start();
  auto b = start();
  auto leaderOf = [&](ServerProcess& s) {
    const std::string m = metrics(s);
    return hasLine(m, "alliance_webhook_audit_leader 1")   ? 1
           : hasLine(m, "alliance_webhook_audit_leader 0") ? 0
                                                           : -1;
  };
  ASSERT_TRUE(eventually([&] {
    return leaderOf(*a) + leaderOf(*b) == 1 &&
           !fake_.get(kDefaultReports, "alliance-webhook").is_null();
  })) << a->log()
      << b->log();
  ServerProcess& leader = leaderOf(*a) == 1 ? *a : *b;
  ServerProcess& follower = leaderOf(*a) == 1 ? *b : *a;
  const Json lease = fake_.get(kLeases, "alliance-webhook-audit");
  EXPECT_TRUE(lease["spec"]["holderIdentity"].get<std::string>().ends_with(
      "-" + std::to_string(leader.pid())))
      << lease.dump(2);
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 2);
  // Both audit; only the leader writes, over several runs.
  ASSERT_TRUE(eventually([&] { return occurrences(follower.log(), "audit: run completed") >= 2; }))
      << follower.log();
  EXPECT_TRUE(hasLine(metrics(follower), "alliance_webhook_audit_report_writes_total 0"));
  EXPECT_FALSE(hasLine(metrics(leader), "alliance_webhook_audit_report_writes_total 0"));
  EXPECT_EQ(leaderOf(follower), 0);

  // The leader goes away without a word (no release): the follower waits for the Lease to
  // expire (2 s without a renewal), then takes it and writes what changed since.
  const std::string renewed = lease["spec"]["renewTime"];
  kill(leader.pid(), SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  fake_.remove(kServicesPath, "legacy");
  ASSERT_TRUE(eventually([&] { return leaderOf(follower) == 1; })) << follower.log();
  EXPECT_GE(std::chrono::steady_clock::now() - killed, 1s);
  ASSERT_TRUE(eventually([&] {
    return fake_.get(kDefaultReports, "alliance-webhook")["results"].empty();
  })) << follower.log();
  const Json taken = fake_.get(kLeases, "alliance-webhook-audit");
  EXPECT_TRUE(taken["spec"]["holderIdentity"].get<std::string>().ends_with(
      "-" + std::to_string(follower.pid())));
  EXPECT_EQ(taken["spec"]["leaseTransitions"], 1);
  EXPECT_NE(occurrences(follower.log(), "holding the report writers' Lease"), 0u);
}

}  // namespace
}  // namespace aw::test

// End to end: the real binary, real TLS on loopback, a client that verifies the CA chain.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

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
members:
  - name: cluster-c
    clusterDomain: cluster-c.local
    podSubnetCIDR: 10.113.0.0/16
    serviceSubnetCIDR: 10.223.0.0/16
)";

const json kUnnamedPort = json::array({{{"port", 80}, {"protocol", "TCP"}, {"targetPort", 8080}}});
const std::string kUnnamedDenial =
    "service-port-names: spec.ports[0]: port 80/TCP has no name, and public federation services "
    "need a name on every port (add for example name: tcp-80)";

TlsClient client(const ServerProcess& s) {
  return TlsClient(s.port(), {devCerts().ca});
}

HttpResponse post(const ServerProcess& s, const std::string& path, const json& body) {
  TlsClient c = client(s);
  EXPECT_TRUE(c.connected()) << c.error();
  auto r = c.request("POST", path, body.dump());
  EXPECT_TRUE(r.has_value());
  return r.value_or(HttpResponse{});
}

class Served : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(dir_ / "config.yaml", kConfig);
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--config", (dir_ / "config.yaml").string()});
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Served, AllowsAnUncheckedServiceAndEchoesTheEnvelope) {
  for (const std::string apiVersion : {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"}) {
    ReviewOptions o;
    o.apiVersion = apiVersion;
    o.uid = "uid-" + apiVersion;
    HttpResponse r =
        post(*server_, "/validate?timeout=10s", review(service("web", kUnnamedPort, false), o));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"], "application/json");
    const json body = json::parse(r.body);
    EXPECT_EQ(body, (json{{"apiVersion", apiVersion},
                          {"kind", "AdmissionReview"},
                          {"response", {{"uid", o.uid}, {"allowed", true}}}}));
  }
}

TEST_F(Served, DeniesAPublicServiceWithAnUnnamedPort) {
  HttpResponse r = post(*server_, "/validate", review(service("web", kUnnamedPort)));
  ASSERT_EQ(r.status, 200);
  const json resp = responseOf(r.body);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"],
            (json{{"code", 403}, {"reason", "Forbidden"}, {"message", kUnnamedDenial}}));
  EXPECT_FALSE(resp.contains("patch"));
}

TEST_F(Served, DeniesAFederationWithClusterLocalTrustDomain) {
  HttpResponse r =
      post(*server_, "/validate",
           review(federation("cluster-b", "cluster.local", "10.112.0.0/16", "10.221.0.0/16")));
  const json resp = responseOf(r.body);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["code"], 403);
  EXPECT_NE(resp["status"]["message"].get<std::string>().find(
                "federation-trust-domain: spec.trustDomain: "),
            std::string::npos)
      << resp.dump();
}

TEST_F(Served, AdmitsAGoodFederationAndDeniesAnOverlappingOne) {
  json good = responseOf(
      post(*server_, "/validate",
           review(federation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16")))
          .body);
  EXPECT_EQ(good, (json{{"uid", ReviewOptions{}.uid}, {"allowed", true}}));
  json bad = responseOf(
      post(*server_, "/validate",
           review(federation("cluster-b", "cluster-b.local", "10.113.0.0/16", "10.221.0.0/16")))
          .body);
  EXPECT_EQ(bad["allowed"], false);
  EXPECT_NE(bad["status"]["message"].get<std::string>().find(
                "subnet-overlap: metadata.annotations[alliance-webhook.io/pod-subnet-cidr]: "),
            std::string::npos)
      << bad.dump();
}

TEST_F(Served, WarnsAboutAPortNameWithoutProtocol) {
  json ports = json::array({{{"name", "web"}, {"port", 80}, {"protocol", "TCP"}}});
  json resp = responseOf(post(*server_, "/validate", review(service("web", ports))).body);
  EXPECT_EQ(resp["allowed"], true);
  ASSERT_EQ(resp["warnings"].size(), 1u) << resp.dump();
  EXPECT_EQ(resp["warnings"][0].get<std::string>().rfind(
                "service-port-protocol: spec.ports[0].name: ", 0),
            0u);
}

TEST_F(Served, DryRunIsAnsweredLikeTheRealRequest) {
  ReviewOptions dry;
  dry.dryRun = true;
  json a = responseOf(post(*server_, "/validate", review(service("web", kUnnamedPort), dry)).body);
  json b = responseOf(post(*server_, "/validate", review(service("web", kUnnamedPort))).body);
  EXPECT_EQ(a, b);
}

TEST_F(Served, DeleteIsAlwaysAllowed) {
  ReviewOptions del;
  del.operation = "DELETE";
  del.oldObject = service("web", kUnnamedPort);
  json resp =
      responseOf(post(*server_, "/validate", review(service("web", kUnnamedPort), del)).body);
  EXPECT_EQ(resp, (json{{"uid", del.uid}, {"allowed", true}}));
}

TEST_F(Served, ObjectOfTheWrongShapeIsABadRequest) {
  json ports =
      json::array({{{"name", "http"}, {"port", 80}}, {{"name", "tcp"}, {"port", json::object()}}});
  json resp = responseOf(post(*server_, "/validate", review(service("web", ports))).body);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(
      resp["status"],
      (json{{"code", 400},
            {"reason", "BadRequest"},
            {"message",
             "object-shape: spec.ports[1].port: expected an integer or a string, got an object"}}));
}

TEST_F(Served, MalformedBodiesAreHttpErrors) {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"not json", "request body is not valid JSON; expected an AdmissionReview"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1")",
       "request body is not valid JSON; expected an AdmissionReview"},
      {R"({"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"1"}})",
       "apiVersion \"admission.k8s.io/v2\" is not supported; expected admission.k8s.io/v1 or "
       "admission.k8s.io/v1beta1"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "request is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}})",
       "request.uid is empty"},
      {R"([1,2,3])", "request body is not a JSON object; expected an AdmissionReview"},
  };
  TlsClient c = client(*server_);
  for (const Case& k : cases) {
    auto r = c.request("POST", "/validate", k.body);
    ASSERT_TRUE(r) << k.body;
    EXPECT_EQ(r->status, 400) << k.body;
    EXPECT_EQ(json::parse(r->body), (json{{"error", k.error}})) << k.body;
  }
  auto get = c.request("GET", "/validate", "");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->headers["allow"], "POST");
}

TEST_F(Served, BodyLimitIsEightMebibytes) {
  TlsClient c = client(*server_);
  std::string atLimit(8 * 1024 * 1024, ' ');
  auto ok = c.request("POST", "/validate", atLimit);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 400);  // accepted and read, then not an AdmissionReview
  TlsClient c2 = client(*server_);
  auto over = c2.request("POST", "/validate", std::string(8 * 1024 * 1024 + 1, ' '));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  EXPECT_TRUE(server_->alive());
}

TEST_F(Served, OneConnectionServesAThousandRequests) {
  TlsClient c = client(*server_);
  ASSERT_TRUE(c.connected()) << c.error();
  const std::string body = review(service("web", kUnnamedPort)).dump();
  for (int i = 0; i < 1000; ++i) {
    auto r = c.request("POST", "/validate", body);
    ASSERT_TRUE(r) << "connection closed after " << i << " requests";
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->headers.count("connection") ? r->headers["connection"] : "", "") << i;
  }
}

TEST_F(Served, HealthReadinessAndMetrics) {
  TlsClient c = client(*server_);
  EXPECT_EQ(c.request("GET", "/healthz", "")->status, 200);
  EXPECT_EQ(c.request("GET", "/readyz", "")->status, 200);
  c.request("POST", "/validate", review(service("web", kUnnamedPort)).dump());
  auto m = c.request("GET", "/metrics", "");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("alliance_webhook_requests_total{endpoint=\"validate\",kind=\"Service\","
                         "operation=\"CREATE\",decision=\"deny\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find(
                "alliance_webhook_findings_total{rule=\"service-port-names\",action=\"deny\"} 1"),
            std::string::npos);
  EXPECT_NE(
      m->body.find(
          "alliance_webhook_request_duration_seconds_bucket{endpoint=\"validate\",le=\"0.0001\"}"),
      std::string::npos);
  EXPECT_NE(m->body.find("alliance_webhook_build_info{version="), std::string::npos);
}

TEST(Serve, AuditOnlyTurnsDenialsIntoWarningsAndAuditAnnotations) {
  ServerProcess s({"--audit-only"});
  HttpResponse r = post(s, "/validate", review(service("web", kUnnamedPort)));
  json resp = responseOf(r.body);
  EXPECT_EQ(resp, (json{{"uid", ReviewOptions{}.uid},
                        {"allowed", true},
                        {"warnings", {"[audit] " + kUnnamedDenial}},
                        {"auditAnnotations",
                         {{"service-port-names",
                           kUnnamedDenial.substr(std::string("service-port-names: ").size())}}}}));
}

TEST(Serve, AuditModeReportsAWrongShapeInsteadOfDenying) {
  ServerProcess s({"--audit-only"});
  json ports = json::array({{{"name", "http"}, {"port", json::array()}}});
  json resp = responseOf(post(s, "/validate", review(service("web", ports))).body);
  EXPECT_EQ(resp["allowed"], true);
  EXPECT_EQ(resp["warnings"], json::array({"[audit] object-shape: spec.ports[0].port: expected an "
                                           "integer or a string, got a list"}));
  EXPECT_EQ(resp["auditAnnotations"]["object-shape"],
            "spec.ports[0].port: expected an integer or a string, got a list");
}

TEST(Serve, MutualTlsRequiresAClientCertificate) {
  const Certs& certs = devCerts();
  ServerProcess s({"--client-ca", certs.ca.string()}, false);
  bool ready = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    TlsClient c(s.port(), {certs.ca, "localhost", certs.clientCert, certs.clientKey});
    if (c.connected()) {
      auto r = c.request("GET", "/readyz", "");
      ready = r && r->status == 200;
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ready) << s.log();
  TlsClient anonymous(s.port(), {certs.ca});
  // TLS 1.3 reports the missing certificate after the handshake: the first read fails.
  EXPECT_FALSE(anonymous.connected() && anonymous.request("GET", "/healthz", "").has_value());
  TlsClient withCert(s.port(), {certs.ca, "localhost", certs.clientCert, certs.clientKey});
  ASSERT_TRUE(withCert.connected()) << withCert.error();
  auto r = withCert.request("POST", "/validate", review(service("web", kUnnamedPort)).dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Serve, RefusesTlsOlderThanOnePointTwo) {
  ServerProcess s;
  TlsClient old(s.port(), {devCerts().ca, "localhost", std::nullopt, std::nullopt, TLS1_1_VERSION});
  EXPECT_FALSE(old.connected());
  TlsClient tls12(s.port(),
                  {devCerts().ca, "localhost", std::nullopt, std::nullopt, TLS1_2_VERSION});
  EXPECT_TRUE(tls12.connected()) << tls12.error();
  TlsClient tls13(s.port(),
                  {devCerts().ca, "localhost", std::nullopt, std::nullopt, 0, TLS1_3_VERSION});
  EXPECT_TRUE(tls13.connected()) << tls13.error();
  EXPECT_TRUE(s.alive());
}

TEST(Serve, MetricsListenServesPlainHttp) {
  const int metricsPort = freePort();
  ServerProcess s({"--metrics-listen", "127.0.0.1:" + std::to_string(metricsPort)});
  std::optional<HttpResponse> r;
  for (int i = 0; i < 200 && !r; ++i) {
    r = httpGet(metricsPort, "/metrics");
    if (!r) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("alliance_webhook_build_info"), std::string::npos);
  EXPECT_EQ(httpGet(metricsPort, "/readyz")->status, 200);
  EXPECT_EQ(httpGet(metricsPort, "/healthz")->status, 200);
  EXPECT_EQ(httpGet(metricsPort, "/validate")->status, 404);
}

TEST(Serve, SigtermFinishesTheRequestInFlightAndExitsZero) {
  ServerProcess s;
  TlsClient c = client(s);
  ASSERT_TRUE(c.connected());
  const std::string body = review(service("web", kUnnamedPort)).dump();
  const std::string head =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_TRUE(c.sendRaw(head + body.substr(0, body.size() / 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(s.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(c.sendRaw(body.substr(body.size() / 2)));
  auto r = c.readResponse();
  ASSERT_TRUE(r) << s.log();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(responseOf(r->body)["allowed"], false);
  EXPECT_EQ(s.terminate(), 0) << s.log();
  // A new connection is refused once the server has stopped.
  EXPECT_FALSE(TlsClient(s.port(), {devCerts().ca}).connected());
}

}  // namespace
}  // namespace aw::test

namespace aw::test {
namespace {

// Signs a fresh server certificate (and key) with the development CA, as cert-manager renews one.
void renewServerCertificate(const std::filesystem::path& certOut,
                            const std::filesystem::path& keyOut, const std::string& serial) {
  const Certs& c = devCerts();
  TempDir work;
  writeFile(work / "ext.cnf",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  RunResult key = run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:P-256", "-nodes", "-keyout", (work / "k.pem").string(),
                       "-subj", "/CN=renewed-" + serial, "-out", (work / "r.csr").string()});
  ASSERT_EQ(key.status, 0) << key.err;
  RunResult sign =
      run({"openssl", "x509", "-req", "-in", (work / "r.csr").string(), "-CA", c.ca.string(),
           "-CAkey", (c.dir / "ca.key").string(), "-set_serial", serial, "-days", "2", "-extfile",
           (work / "ext.cnf").string(), "-out", (work / "c.pem").string()});
  ASSERT_EQ(sign.status, 0) << sign.err;
  // Write the certificate first and the key a moment later, as a non-atomic writer would: the
  // server must keep serving the old pair until both files match.
  std::filesystem::copy_file(work / "c.pem", certOut,
                             std::filesystem::copy_options::overwrite_existing);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::filesystem::copy_file(work / "k.pem", keyOut,
                             std::filesystem::copy_options::overwrite_existing);
}

std::string servedSubject(int port) {
  TlsClient c(port, {devCerts().ca});
  if (!c.connected()) return "(handshake failed: " + c.error() + ")";
  X509* peer = SSL_get1_peer_certificate(c.ssl());
  char buf[256] = {0};
  X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof buf);
  X509_free(peer);
  return buf;
}

TEST(Serve, PicksUpARotatedCertificateWithoutFailingRequests) {
  TempDir dir;
  std::filesystem::copy_file(devCerts().cert, dir / "tls.crt");
  std::filesystem::copy_file(devCerts().key, dir / "tls.key");
  ServerProcess s(
      {"--tls-cert", (dir / "tls.crt").string(), "--tls-key", (dir / "tls.key").string()});
  const std::string before = servedSubject(s.port());

  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0};
  const std::string body = review(service("web", kUnnamedPort)).dump();
  std::thread load([&] {
    while (!done) {
      TlsClient c(s.port(), {devCerts().ca});  // a new handshake every time
      auto r = c.connected() ? c.request("POST", "/validate", body) : std::nullopt;
      (r && r->status == 200 ? ok : failed)++;
    }
  });
  renewServerCertificate(dir / "tls.crt", dir / "tls.key", "4242");
  std::string after;
  for (int i = 0; i < 300 && (after = servedSubject(s.port())) == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done = true;
  load.join();
  EXPECT_NE(after.find("renewed-4242"), std::string::npos) << after << "\n" << s.log();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 10);
  TlsClient c(s.port(), {devCerts().ca});
  auto m = c.request("GET", "/metrics", "");
  EXPECT_NE(
      m->body.find("alliance_webhook_reloads_total{what=\"certificate\",result=\"success\"} 1"),
      std::string::npos)
      << m->body;
}

TEST(Serve, ReloadsAChangedConfigurationAndRefusesABadOne) {
  TempDir dir;
  writeFile(dir / "config.yaml", "mode: enforce\n");
  ServerProcess s({"--config", (dir / "config.yaml").string()});
  const json denied = review(service("web", kUnnamedPort));
  EXPECT_EQ(responseOf(post(s, "/validate", denied).body)["allowed"], false);

  auto waitFor = [&](const std::string& metric) {
    for (int i = 0; i < 500; ++i) {
      TlsClient c(s.port(), {devCerts().ca});
      auto m = c.request("GET", "/metrics", "");
      if (m && m->body.find(metric) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  // A good change: the rule is switched to warn and takes effect without a restart.
  writeFile(dir / "config.yaml", "mode: enforce\nrules:\n  service-port-names: { action: warn }\n");
  ASSERT_TRUE(waitFor("alliance_webhook_reloads_total{what=\"config\",result=\"success\"} 1"))
      << s.log();
  json warned = responseOf(post(s, "/validate", denied).body);
  EXPECT_EQ(warned["allowed"], true);
  EXPECT_EQ(warned["warnings"], json::array({kUnnamedDenial}));

  // A bad change (a typo in a key) is refused, logged, and the previous configuration stays.
  writeFile(dir / "config.yaml", "mode: enforce\nrules:\n  service-port-names: { acton: deny }\n");
  ASSERT_TRUE(waitFor("alliance_webhook_reloads_total{what=\"config\",result=\"failure\"} 1"))
      << s.log();
  EXPECT_EQ(responseOf(post(s, "/validate", denied).body), warned);
  EXPECT_NE(s.log().find("configuration reload refused"), std::string::npos);
  EXPECT_NE(s.log().find("rules.service-port-names.acton: unknown key (known keys: action, scope)"),
            std::string::npos)
      << s.log();
}

TEST(Serve, StartupErrorsNameTheCauseAndExitTwo) {
  TempDir dir;
  writeFile(dir / "bad.yaml", "mode: enforce\nlocalCluster:\n  podSubnetCIDR: 10.0.0.1/16\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls-cert", "/nonexistent/tls.crt", "--tls-key", "/nonexistent/tls.key"},
       "alliance-webhook serve: --tls-cert /nonexistent/tls.crt: no such file\n"},
      {{"--tls-cert", devCerts().cert.string(), "--tls-key", devCerts().key.string(), "--config",
        (dir / "bad.yaml").string()},
       "alliance-webhook serve: invalid configuration: " + (dir / "bad.yaml").string() +
           ":3: localCluster.podSubnetCIDR: \"10.0.0.1/16\" is not a valid CIDR: host bits are "
           "set"},
      {{"--tls-cert", devCerts().cert.string(), "--tls-key", devCerts().key.string(), "--listen",
        "nope"},
       "alliance-webhook serve: --listen nope: expected HOST:PORT, for example 0.0.0.0:8443\n"},
      {{"--bogus"}, "alliance-webhook serve: unknown flag --bogus\n"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {AW_BINARY, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err.rfind(message, 0), 0u) << r.err;
  }
}

// An encrypted --tls-key is refused with a message, never a passphrase prompt: the passphrase is
// offered on standard input, and the server must not read it.
TEST(Serve, AnEncryptedTlsKeyIsAnErrorNotAPrompt) {
  TempDir dir;
  const std::string key = (dir / "encrypted.key").string();
  for (const std::vector<std::string>& format :
       {std::vector<std::string>{}, std::vector<std::string>{"-traditional"}}) {
    std::vector<std::string> encrypt = {
        "openssl",     "pkey", "-in", devCerts().key.string(), "-aes256", "-passout",
        "pass:secret", "-out", key};
    encrypt.insert(encrypt.end(), format.begin(), format.end());
    const RunResult made = run(encrypt);
    ASSERT_EQ(made.status, 0) << made.err;
    const RunResult r = run({AW_BINARY, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                             devCerts().cert.string(), "--tls-key", key},
                            "secret\n");
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err.rfind("alliance-webhook serve: --tls-key " + key +
                              ": is an encrypted private key; give it unencrypted (openssl pkey "
                              "-in KEY -out NEWKEY)\n",
                          0),
              0u)
        << r.err;
  }
}

}  // namespace
}  // namespace aw::test

namespace aw::test {
namespace {

json serviceEntry(const json& spec) {
  return {{"apiVersion", "networking.istio.io/v1beta1"},
          {"kind", "ServiceEntry"},
          {"metadata", {{"name", "bar"}, {"namespace", "default"}}},
          {"spec", spec}};
}

TEST_F(Served, MutateFillsServiceEntryDefaultsAsAJsonPatch) {
  const json se = serviceEntry({{"hosts", {"bar.ns.svc.cluster-c.local"}},
                                {"ports", {{{"number", 8080}, {"name", "http-api"}}}},
                                {"endpoints", {{{"address", "10.113.0.7"}}}}});
  json resp = responseOf(post(*server_, "/mutate", review(se)).body);
  EXPECT_EQ(resp["allowed"], true);
  ASSERT_EQ(resp["patchType"], "JSONPatch") << resp.dump();
  const json patch = patchOf(resp);
  const json patched = se.patch(patch);
  EXPECT_EQ(patched["spec"]["ports"][0]["protocol"], "HTTP");
  EXPECT_EQ(patched["spec"]["resolution"], "STATIC");
  EXPECT_EQ(patched["spec"]["location"], "MESH_INTERNAL");  // under member cluster-c's domain
  EXPECT_EQ(patched["metadata"]["annotations"]["alliance-webhook.io/defaulted"],
            "spec.ports[0].protocol,spec.resolution,spec.location");
  // Idempotent: the patched object, sent again, gets no patch.
  json again = responseOf(post(*server_, "/mutate", review(patched)).body);
  EXPECT_EQ(again, (json{{"uid", ReviewOptions{}.uid}, {"allowed", true}}));
  // /validate never carries a patch; a ServiceEntry without ports is warned about.
  json validated = responseOf(
      post(*server_, "/validate", review(serviceEntry({{"hosts", {"example.com"}}}))).body);
  EXPECT_FALSE(validated.contains("patch"));
  ASSERT_EQ(validated["warnings"].size(), 1u) << validated.dump();
  EXPECT_EQ(
      validated["warnings"][0].get<std::string>().rfind("serviceentry-ports: spec.ports: ", 0), 0u);
}

TEST_F(Served, DeniesAMulticlusterOfAnotherClusterDomain) {
  json mc = {{"apiVersion", "deckhouse.io/v1alpha1"},
             {"kind", "IstioMulticluster"},
             {"metadata",
              {{"name", "cluster-b"},
               {"annotations",
                {{"alliance-webhook.io/cluster-domain", "cluster-b.local"},
                 {"alliance-webhook.io/pod-subnet-cidr", "10.112.0.0/16"},
                 {"alliance-webhook.io/service-subnet-cidr", "10.221.0.0/16"}}}}},
             {"spec", {{"metadata", {{"endpoint", "https://istio.k8s-b.example.com/metadata/"}}}}}};
  json resp = responseOf(post(*server_, "/validate", review(mc)).body);
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(
      resp["status"]["message"].get<std::string>().rfind(
          "multicluster-cluster-domain: metadata.annotations[alliance-webhook.io/cluster-domain]: ",
          0),
      0u)
      << resp.dump();
  mc["metadata"]["annotations"]["alliance-webhook.io/cluster-domain"] = "CLUSTER-A.local.";
  EXPECT_EQ(responseOf(post(*server_, "/validate", review(mc)).body)["allowed"], true);
}

}  // namespace
}  // namespace aw::test

namespace aw::test {
namespace {

TEST(Serve, ASecondServerOnTheSamePortRefusesToStart) {
  ServerProcess first;
  RunResult second =
      run({AW_BINARY, "serve", "--listen", "127.0.0.1:" + std::to_string(first.port()),
           "--tls-cert", devCerts().cert.string(), "--tls-key", devCerts().key.string()});
  EXPECT_EQ(second.status, 1) << second.err;
  EXPECT_NE(second.err.find("cannot bind"), std::string::npos) << second.err;
  EXPECT_TRUE(first.alive());
}

TEST(Serve, MetricsLabelOnlyKnownKinds) {
  ServerProcess s;
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}};
  TlsClient c(s.port(), {devCerts().ca});
  for (int i = 0; i < 3; ++i) {
    pod["kind"] = "Kind" + std::to_string(i);
    ASSERT_EQ(c.request("POST", "/validate", review(pod).dump())->status, 200);
  }
  const std::string metrics = c.request("GET", "/metrics", "")->body;
  EXPECT_NE(metrics.find("kind=\"other\",operation=\"CREATE\",decision=\"allow\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("Kind1"), std::string::npos);
}

}  // namespace
}  // namespace aw::test

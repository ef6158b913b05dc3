// Finding the API server and the credentials: kubeconfig files and the in-cluster service
// account, read as kubectl reads them, every error with the file, the key path and what to do.
#include "webhook/kube/kube_config.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <functional>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "test/support/process.h"

namespace aw::webhook::kube {
namespace {

namespace fs = std::filesystem;
using aw::test::devCerts;
using aw::test::TempDir;

std::string base64(const std::string& bytes, std::size_t lineLength = 0) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  if (lineLength == 0) return out;
  // Wrapped the way `base64` (without -w0) wraps it, to check line breaks are tolerated.
  std::string wrapped;
  for (std::size_t i = 0; i < out.size(); i += lineLength) {
    wrapped += out.substr(i, lineLength) + "\n";
  }
  return wrapped;
}

std::string indent(const std::string& lines, const std::string& by) {
  std::string out;
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    out += by + lines.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// A kubeconfig with one context "ctx" joining cluster "c" (keys `cluster`) and user "u" (keys
// `user`), both given as "key: value" lines.
std::string kubeconfig(const std::string& cluster, const std::string& user) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: ctx\n"
         "contexts:\n"
         "- name: ctx\n"
         "  context: {cluster: c, user: u, namespace: team-a}\n"
         "clusters:\n"
         "- name: c\n"
         "  cluster:\n" +
         indent(cluster, "    ") +
         "users:\n"
         "- name: u\n"
         "  user:\n" +
         indent(user, "    ");
}

constexpr const char* kCluster = "server: https://10.96.0.1:6443\ncertificate-authority: ${CA}";
constexpr const char* kTokenUser = "token: abc.def";

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const aw::test::Certs& c = devCerts();
    caPem_ = aw::test::readFile(c.ca);
    certPem_ = aw::test::readFile(c.clientCert);
    keyPem_ = aw::test::readFile(c.clientKey);
    // Longest names first: ${CA64} must not be taken for ${CA} followed by "64".
    vars_ = {{"${DIR}", dir_.path().string()},  {"${CA64}", base64(caPem_)},
             {"${CERT64}", base64(certPem_)},   {"${KEY64}", base64(keyPem_)},
             {"${CA}", c.ca.string()},          {"${CERT}", c.clientCert.string()},
             {"${KEY}", c.clientKey.string()},  {"${SERVERKEY}", c.key.string()},
             {"${SERVERCERT}", c.cert.string()}};
  }

  std::string expand(std::string s) const {
    for (const auto& [name, value] : vars_) {
      for (std::size_t at = s.find(name); at != std::string::npos;
           at = s.find(name, at + value.size())) {
        s.replace(at, name.size(), value);
      }
    }
    return s;
  }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    aw::test::writeFile(path, expand(text));
    return path;
  }

  ClusterAccess load(const std::string& yaml, const std::string& context = "") const {
    const fs::path file = write("config", yaml);
    ClusterAccessResult r = loadKubeconfig(file, context);
    EXPECT_TRUE(r.access) << r.error;
    EXPECT_EQ(r.error, "");
    return r.access.value_or(ClusterAccess{});
  }

  TempDir dir_;
  std::string caPem_, certPem_, keyPem_;
  std::vector<std::pair<std::string, std::string>> vars_;
};

// ---- kubeconfig: what loads ----

TEST_F(KubeConfigTest, TokenUser) {
  const ClusterAccess a = load(kubeconfig(kCluster, kTokenUser));
  EXPECT_EQ(a.host, "10.96.0.1");
  EXPECT_EQ(a.port, 6443);
  EXPECT_EQ(a.caPem, caPem_);
  EXPECT_FALSE(a.insecureSkipVerify);
  EXPECT_EQ(a.tlsServerName, "");
  EXPECT_EQ(a.token, "abc.def");
  EXPECT_TRUE(a.tokenFile.empty());
  EXPECT_EQ(a.clientCertPem, "");
  EXPECT_EQ(a.clientKeyPem, "");
  EXPECT_EQ(a.source, "kubeconfig " + (dir_ / "config").string() + " (context ctx)");
  EXPECT_EQ(a.defaultNamespace, "team-a");
  EXPECT_EQ(serverUrl(a), "https://10.96.0.1:6443");
  std::string error;
  EXPECT_EQ(bearerToken(a, error), "abc.def");
  EXPECT_EQ(error, "");
}

TEST_F(KubeConfigTest, ServerAddresses) {
  const std::vector<std::tuple<std::string, std::string, int, std::string>> cases = {
      {"https://kubernetes.default.svc", "kubernetes.default.svc", 443,
       "https://kubernetes.default.svc:443"},
      {"https://kubernetes.default.svc/", "kubernetes.default.svc", 443,
       "https://kubernetes.default.svc:443"},
      {"https://10.0.0.1:6443/", "10.0.0.1", 6443, "https://10.0.0.1:6443"},
      {"HTTPS://api.example.com:65535", "api.example.com", 65535, "https://api.example.com:65535"},
      {"https://[::1]:6443", "::1", 6443, "https://[::1]:6443"},
      {"https://[fd00:10:96::1]", "fd00:10:96::1", 443, "https://[fd00:10:96::1]:443"},
      {"https://[2001:db8::1]:1/", "2001:db8::1", 1, "https://[2001:db8::1]:1"},
  };
  for (const auto& [server, host, port, url] : cases) {
    SCOPED_TRACE(server);
    const ClusterAccess a =
        load(kubeconfig("server: " + server + "\ncertificate-authority: ${CA}", kTokenUser));
    EXPECT_EQ(a.host, host);
    EXPECT_EQ(a.port, port);
    EXPECT_EQ(serverUrl(a), url);
  }
}

TEST_F(KubeConfigTest, TokenFileIsReadAgainOnEveryCall) {
  write("secrets/token", "first-token\n");
  // Relative to the kubeconfig's directory; tokenFile wins over token (client-go does the same).
  const ClusterAccess a = load(kubeconfig(kCluster, "token: static\ntokenFile: secrets/token"));
  EXPECT_EQ(a.tokenFile, dir_ / "secrets/token");
  EXPECT_EQ(a.token, "static");
  std::string error;
  EXPECT_EQ(bearerToken(a, error), "first-token");
  write("secrets/token", "  \n second-token \r\n\n");  // surrounding whitespace is trimmed
  EXPECT_EQ(bearerToken(a, error), "second-token");
  EXPECT_EQ(error, "");

  const std::string source = "kubeconfig " + (dir_ / "config").string() + " (context ctx)";
  const std::string file = (dir_ / "secrets/token").string();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", source + ": token file " + file + ": is empty; expected a bearer token"},
      {"\n\n", source + ": token file " + file + ": is empty; expected a bearer token"},
      {"one\ntwo\n",
       source + ": token file " + file +
           ": holds whitespace or a control character (byte 0x0a at offset 3); expected a single "
           "bearer token"},
  };
  for (const auto& [content, message] : bad) {
    write("secrets/token", content);
    error.clear();
    EXPECT_EQ(bearerToken(a, error), std::nullopt);
    EXPECT_EQ(error, message);
  }
  fs::remove(dir_ / "secrets/token");
  EXPECT_EQ(bearerToken(a, error), std::nullopt);
  EXPECT_EQ(error, source + ": token file " + file + ": no such file");
  write("secrets/token", "third-token");  // back after a rotation
  EXPECT_EQ(bearerToken(a, error), "third-token");
}

TEST_F(KubeConfigTest, BearerTokenWithoutTokenFile) {
  ClusterAccess a;
  std::string error;
  EXPECT_EQ(bearerToken(a, error), "");  // none: client certificate authentication
  a.token = "t0k3n";
  EXPECT_EQ(bearerToken(a, error), "t0k3n");
  EXPECT_EQ(error, "");
}

TEST_F(KubeConfigTest, ClientCertificateFromFilesAndFromData) {
  const std::vector<std::pair<std::string, std::string>> users = {
      {"files", "client-certificate: ${CERT}\nclient-key: ${KEY}"},
      {"data", "client-certificate-data: ${CERT64}\nclient-key-data: ${KEY64}"},
      {"mixed", "client-certificate: ${CERT}\nclient-key-data: ${KEY64}"},
  };
  for (const auto& [name, user] : users) {
    SCOPED_TRACE(name);
    const ClusterAccess a =
        load(kubeconfig("server: https://[::1]:6443\ncertificate-authority-data: ${CA64}", user));
    EXPECT_EQ(a.clientCertPem, certPem_);
    EXPECT_EQ(a.clientKeyPem, keyPem_);
    EXPECT_EQ(a.caPem, caPem_);
    EXPECT_EQ(a.token, "");
    std::string error;
    EXPECT_EQ(bearerToken(a, error), "");
  }
}

TEST_F(KubeConfigTest, DataMayBeWrappedOverLines) {
  // A block scalar of base64 wrapped at 76 columns, as `base64` prints it.
  const std::string cluster = "server: https://10.96.0.1\ncertificate-authority-data: |\n" +
                              indent(base64(caPem_, 76), "  ");
  const std::string user = "client-certificate-data: >\n" + indent(base64(certPem_, 64), "  ") +
                           "client-key-data: " + base64(keyPem_);
  const ClusterAccess a = load(kubeconfig(cluster, user));
  EXPECT_EQ(a.caPem, caPem_);
  EXPECT_EQ(a.clientCertPem, certPem_);
  EXPECT_EQ(a.clientKeyPem, keyPem_);
}

TEST_F(KubeConfigTest, RelativePathsAreRelativeToTheKubeconfig) {
  write("certs/ca.crt", caPem_);
  write("certs/client.crt", certPem_);
  write("certs/client.key", keyPem_);
  write("kube/token", "tok");
  // The kubeconfig in a sub-folder: paths resolve against it, not the working directory.
  const fs::path file = write(
      "kube/config", kubeconfig("server: https://10.96.0.1\ncertificate-authority: ../certs/ca.crt",
                                "client-certificate: ../certs/client.crt\n"
                                "client-key: ./../certs/client.key\ntokenFile: token"));
  ClusterAccessResult r = loadKubeconfig(file);
  ASSERT_TRUE(r.access) << r.error;
  EXPECT_EQ(r.access->caPem, caPem_);
  EXPECT_EQ(r.access->clientCertPem, certPem_);
  EXPECT_EQ(r.access->clientKeyPem, keyPem_);
  EXPECT_EQ(r.access->tokenFile, dir_ / "kube/token");
  std::string error;
  EXPECT_EQ(bearerToken(*r.access, error), "tok");  // token and certificate are both sent
}

TEST_F(KubeConfigTest, ExplicitContextOverridesCurrentContext) {
  const std::string yaml = R"(current-context: dev
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: prod-user, namespace: prod-ns}
clusters:
- name: dev-cluster
  cluster: {server: "https://dev:6443", insecure-skip-tls-verify: true}
- name: prod-cluster
  cluster:
    server: https://prod.example.com
    certificate-authority-data: ${CA64}
    tls-server-name: kubernetes.default.svc
users:
- name: dev-user
  user: {token: dev-token}
- name: prod-user
  user: {token: prod-token}
)";
  const ClusterAccess dev = load(yaml);
  EXPECT_EQ(dev.host, "dev");
  EXPECT_EQ(dev.token, "dev-token");
  EXPECT_TRUE(dev.insecureSkipVerify);
  EXPECT_EQ(dev.caPem, "");
  EXPECT_EQ(dev.defaultNamespace, "");
  EXPECT_EQ(dev.source, "kubeconfig " + (dir_ / "config").string() + " (context dev)");

  const ClusterAccess prod = load(yaml, "prod");
  EXPECT_EQ(prod.host, "prod.example.com");
  EXPECT_EQ(prod.port, 443);
  EXPECT_EQ(prod.token, "prod-token");
  EXPECT_FALSE(prod.insecureSkipVerify);
  EXPECT_EQ(prod.caPem, caPem_);
  EXPECT_EQ(prod.tlsServerName, "kubernetes.default.svc");
  EXPECT_EQ(prod.defaultNamespace, "prod-ns");
  EXPECT_EQ(prod.source, "kubeconfig " + (dir_ / "config").string() + " (context prod)");

  // Without current-context, a context given explicitly is enough.
  const ClusterAccess noCurrent = load(yaml.substr(yaml.find('\n') + 1), "prod");
  EXPECT_EQ(noCurrent.host, "prod.example.com");
}

TEST_F(KubeConfigTest, CaBundleWithSeveralCertificates) {
  write("bundle.crt", caPem_ + certPem_);
  const ClusterAccess a =
      load(kubeconfig("server: https://10.96.0.1\ncertificate-authority: bundle.crt", kTokenUser));
  EXPECT_EQ(a.caPem, caPem_ + certPem_);
}

TEST_F(KubeConfigTest, JsonKubeconfig) {
  // kubectl accepts JSON too (YAML's subset).
  const ClusterAccess a = load(R"({"current-context": "ctx",
    "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
    "clusters": [{"name": "c", "cluster": {"server": "https://[::1]:443",
                                           "certificate-authority": "${CA}"}}],
    "users": [{"name": "u", "user": {"token": "json-token"}}]})");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.token, "json-token");
}

// ---- kubeconfig: every error, as the user sees it ----

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string error;  // after expansion; "${P}" is "kubeconfig <file>: "
};

TEST_F(KubeConfigTest, ErrorsNameTheFileTheKeyPathAndWhatToDo) {
  const std::string users0 = "users[0] (name u): ";
  const std::string clusters0 = "clusters[0] (name c): ";
  const std::string credentials =
      "use a token, tokenFile or client-certificate and client-key (for example a kubeconfig with "
      "a service account token)";
  auto withServer = [](const std::string& server) {
    return kubeconfig("server: " + server + "\ncertificate-authority: ${CA}", kTokenUser);
  };
  write("bad.crt", "this is not a certificate\n");
  write("broken.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  write("empty-token", "\n");
  write("encrypted.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
  fs::create_directories(dir_ / "folder");

  const std::vector<ErrorCase> cases = {
      // The file and its shape.
      {"empty file", "",
       "${P}empty file; expected a kubeconfig (clusters, users, contexts, current-context)"},
      {"not a mapping", "- a\n- b\n",
       "${P}expected a kubeconfig, a mapping with clusters, users, contexts and current-context"},
      {"clusters not a list",
       "current-context: ctx\ncontexts: [{name: ctx, context: {cluster: c, "
       "user: u}}]\nclusters: {c: 1}\n",
       "${P}clusters: expected a list"},
      {"entry not a mapping", "current-context: ctx\ncontexts: [ctx]\n",
       "${P}contexts[0]: expected a mapping with name and context"},
      {"cluster body not a mapping",
       "current-context: ctx\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: https://x}]\n",
       "${P}clusters[0] (name c): cluster: expected a mapping"},
      // Contexts.
      {"no current-context", "contexts: [{name: a}, {name: b}]\n",
       "${P}current-context: not set; choose a context with kubectl config use-context NAME "
       "(known contexts: a, b)"},
      {"no current-context and no contexts", "clusters: []\n",
       "${P}current-context: not set; choose a context with kubectl config use-context NAME (the "
       "file has no contexts)"},
      {"scalar root", "hello\n",
       "${P}expected a kubeconfig, a mapping with clusters, users, contexts and current-context"},
      {"entry without a name",
       "current-context: x\ncontexts: [{context: {cluster: c}}, {name: a}]\n",
       "${P}current-context: \"x\" not found (known contexts: a)"},
      {"unknown current-context", "current-context: nope\ncontexts: [{name: a}]\n",
       "${P}current-context: \"nope\" not found (known contexts: a)"},
      {"duplicate context", "current-context: a\ncontexts: [{name: a}, {name: b}, {name: a}]\n",
       "${P}contexts[0] and contexts[2] are both named \"a\"; names must be unique"},
      {"context without cluster", "current-context: a\ncontexts: [{name: a, context: {user: u}}]\n",
       "${P}contexts[0] (name a): cluster: not set"},
      {"context without user", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n",
       "${P}contexts[0] (name a): user: not set; the webhook needs credentials: " + credentials},
      {"unknown cluster",
       "current-context: a\ncontexts: [{name: a, context: {cluster: x, user: u}}]\n"
       "clusters: [{name: c}, {name: d}]\n",
       "${P}contexts[0] (name a): cluster: \"x\" not found (known clusters: c, d)"},
      {"unknown user",
       "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: x}}]\n"
       "clusters: [{name: c, cluster: {server: \"https://c\", insecure-skip-tls-verify: true}}]\n",
       "${P}contexts[0] (name a): user: \"x\" not found (the file has no users)"},
      {"duplicate user", kubeconfig(kCluster, kTokenUser) + "- name: u\n  user: {token: other}\n",
       "${P}users[0] and users[1] are both named \"u\"; names must be unique"},
      // The server.
      {"no server", kubeconfig("certificate-authority: ${CA}", kTokenUser),
       "${P}" + clusters0 + "server: not set; expected https://HOST[:PORT]"},
      {"server not a string", kubeconfig("server: [a]\ncertificate-authority: ${CA}", kTokenUser),
       "${P}" + clusters0 + "server: expected a string"},
      {"http", withServer("http://10.96.0.1:8080"),
       "${P}" + clusters0 +
           "server: \"http://10.96.0.1:8080\": plain http is not supported, the API server is "
           "reached over TLS only (expected https://HOST[:PORT])"},
      {"other scheme", withServer("unix:///run/k8s.sock"),
       "${P}" + clusters0 +
           "server: \"unix:///run/k8s.sock\": scheme \"unix\" is not supported; expected "
           "https://HOST[:PORT]"},
      {"no scheme", withServer("10.96.0.1:6443"),
       "${P}" + clusters0 +
           "server: \"10.96.0.1:6443\" is not a URL; expected https://HOST[:PORT]"},
      {"path prefix", withServer("https://rancher.example.com/k8s/clusters/c-1"),
       "${P}" + clusters0 +
           "server: \"https://rancher.example.com/k8s/clusters/c-1\": path prefix "
           "\"/k8s/clusters/c-1\" is not supported (neither are proxies in front of the API "
           "server); give the API server's own address, expected https://HOST[:PORT]"},
      {"query", withServer("https://10.96.0.1?x=1"),
       "${P}" + clusters0 +
           "server: \"https://10.96.0.1?x=1\": a query or fragment is not supported; expected "
           "https://HOST[:PORT]"},
      {"user info", withServer("https://admin@10.96.0.1"),
       "${P}" + clusters0 +
           "server: \"https://admin@10.96.0.1\": user information in the URL is not supported; put "
           "credentials in users[]"},
      {"IPv6 without brackets", withServer("https://fd00::1:6443"),
       "${P}" + clusters0 +
           "server: \"https://fd00::1:6443\": an IPv6 address needs brackets, as in "
           "https://[::1]:6443"},
      {"bad IPv6", withServer("https://[fd00::zz]:6443"),
       "${P}" + clusters0 +
           "server: \"https://[fd00::zz]:6443\": \"fd00::zz\" is not an IPv6 address"},
      {"unclosed bracket", withServer("https://[::1"),
       "${P}" + clusters0 + "server: \"https://[::1\": missing ']' after the IPv6 address"},
      {"no host", withServer("https://:6443"),
       "${P}" + clusters0 + "server: \"https://:6443\": no host; expected https://HOST[:PORT]"},
      {"bad host", withServer("https://api server"),
       "${P}" + clusters0 +
           "server: \"https://api server\": \"api server\" is not a host name or IP address"},
      {"port 0", withServer("https://10.96.0.1:0"),
       "${P}" + clusters0 +
           "server: \"https://10.96.0.1:0\": port \"0\" is not a number from 1 to 65535"},
      {"port too large", withServer("https://[::1]:65536"),
       "${P}" + clusters0 +
           "server: \"https://[::1]:65536\": port \"65536\" is not a number from 1 to 65535"},
      {"empty port", withServer("\"https://10.96.0.1:\""),
       "${P}" + clusters0 +
           "server: \"https://10.96.0.1:\": port \"\" is not a number from 1 to 65535"},
      {"proxy-url",
       kubeconfig("server: https://c\nproxy-url: http://proxy:3128\ncertificate-authority: ${CA}",
                  kTokenUser),
       "${P}" + clusters0 +
           "proxy-url: proxies are not supported; the webhook must reach the API server "
           "directly"},
      // The certificate authority.
      {"no CA", kubeconfig("server: https://c", kTokenUser),
       "${P}" + clusters0 +
           "no certificate-authority: the API server's certificate cannot be verified; add "
           "certificate-authority(-data) or, for testing only, insecure-skip-tls-verify: true"},
      {"insecure false",
       kubeconfig("server: https://c\ninsecure-skip-tls-verify: false", kTokenUser),
       "${P}" + clusters0 +
           "no certificate-authority: the API server's certificate cannot be verified; add "
           "certificate-authority(-data) or, for testing only, insecure-skip-tls-verify: true"},
      {"insecure not a boolean",
       kubeconfig("server: https://c\ninsecure-skip-tls-verify: maybe", kTokenUser),
       "${P}" + clusters0 + "insecure-skip-tls-verify: expected true or false"},
      {"insecure and a CA",
       kubeconfig("server: https://c\ninsecure-skip-tls-verify: true\ncertificate-authority: ${CA}",
                  kTokenUser),
       "${P}" + clusters0 +
           "insecure-skip-tls-verify: true and certificate-authority ${CA} are both set; remove "
           "one (kubectl refuses this too)"},
      {"CA file and data",
       kubeconfig(
           "server: https://c\ncertificate-authority: ${CA}\ncertificate-authority-data: ${CA64}",
           kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority and certificate-authority-data are both set; keep one"},
      {"CA file missing",
       kubeconfig("server: https://c\ncertificate-authority: missing.crt", kTokenUser),
       "${P}" + clusters0 + "certificate-authority ${DIR}/missing.crt: no such file"},
      {"CA is a folder", kubeconfig("server: https://c\ncertificate-authority: folder", kTokenUser),
       "${P}" + clusters0 + "certificate-authority ${DIR}/folder: is a directory, expected a file"},
      {"CA not PEM", kubeconfig("server: https://c\ncertificate-authority: bad.crt", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority ${DIR}/bad.crt: no PEM certificate found (expected -----BEGIN "
           "CERTIFICATE-----)"},
      {"CA data is a key",
       kubeconfig("server: https://c\ncertificate-authority-data: ${KEY64}", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: no PEM certificate found (expected -----BEGIN "
           "CERTIFICATE-----)"},
      {"CA data invalid character",
       kubeconfig("server: https://c\ncertificate-authority-data: QUJD%REVG", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: not valid base64: unexpected '%' at offset 4"},
      {"CA data URL-safe",
       kubeconfig("server: https://c\ncertificate-authority-data: QUJD_-==", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: not valid base64: unexpected '_' at offset 4 (URL-safe "
           "base64? use the standard alphabet, + and /)"},
      {"CA data cut short",
       kubeconfig("server: https://c\ncertificate-authority-data: QUJDREV", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: not valid base64: 7 characters, not a multiple of 4 (cut "
           "short, or the '=' padding is missing?)"},
      {"CA data after padding",
       kubeconfig("server: https://c\ncertificate-authority-data: QQ==QUJD", kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: not valid base64: data after the '=' padding at offset 4"},
      {"CA data is PEM text",
       kubeconfig("server: https://c\ncertificate-authority-data: |\n" + indent(caPem_, "  "),
                  kTokenUser),
       "${P}" + clusters0 +
           "certificate-authority-data: holds PEM text, not base64: encode it (base64 -w0 FILE) "
           "or give the file's path in certificate-authority"},
      // The user's credentials.
      {"no credentials", kubeconfig(kCluster, "{}"),
       "${P}" + users0 +
           "no credentials: the webhook must list cluster-scoped objects, which anonymous "
           "requests cannot; " +
           credentials},
      {"user entry without user",
       "current-context: ctx\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: {server: \"https://c\", insecure-skip-tls-verify: true}}]\n"
       "users: [{name: u}]\n",
       "${P}" + users0 +
           "no credentials: the webhook must list cluster-scoped objects, which anonymous "
           "requests cannot; " +
           credentials},
      {"exec",
       kubeconfig(kCluster,
                  "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: aws-iam"),
       "${P}" + users0 + "exec: credential plugins are not supported; " + credentials},
      {"exec with a token", kubeconfig(kCluster, "token: t\nexec: {command: x}"),
       "${P}" + users0 + "exec: credential plugins are not supported; " + credentials},
      {"auth-provider",
       kubeconfig(kCluster, "auth-provider:\n  name: oidc\n  config: {idp-issuer-url: x}"),
       "${P}" + users0 + "auth-provider \"oidc\": auth providers are not supported; " +
           credentials},
      {"basic auth", kubeconfig(kCluster, "username: admin\npassword: secret"),
       "${P}" + users0 + "username/password: basic authentication is not supported; " +
           credentials},
      {"impersonation", kubeconfig(kCluster, "token: t\nas: system:admin"),
       "${P}" + users0 +
           "as: impersonation is not supported; give the credentials of the identity to use"},
      {"token with a space", kubeconfig(kCluster, "token: \"abc def\""),
       "${P}" + users0 +
           "token: holds whitespace or a control character (byte 0x20 at offset 3); expected a "
           "single bearer token"},
      {"tokenFile missing", kubeconfig(kCluster, "tokenFile: secrets/token"),
       "${P}" + users0 + "tokenFile ${DIR}/secrets/token: no such file"},
      {"tokenFile empty", kubeconfig(kCluster, "tokenFile: ${DIR}/empty-token"),
       "${P}" + users0 + "tokenFile ${DIR}/empty-token: is empty; expected a bearer token"},
      {"client cert missing",
       kubeconfig(kCluster, "client-certificate: /y/client.crt\nclient-key: ${KEY}"),
       "${P}" + users0 + "client-certificate /y/client.crt: no such file"},
      {"client key missing", kubeconfig(kCluster, "client-certificate: ${CERT}\nclient-key: k.pem"),
       "${P}" + users0 + "client-key ${DIR}/k.pem: no such file"},
      {"client cert without key", kubeconfig(kCluster, "client-certificate: ${CERT}"),
       "${P}" + users0 +
           "client-certificate ${CERT} is set but client-key(-data) is not; give both"},
      {"client key without cert", kubeconfig(kCluster, "client-key-data: ${KEY64}"),
       "${P}" + users0 + "client-key-data is set but client-certificate(-data) is not; give both"},
      {"client cert file and data",
       kubeconfig(kCluster,
                  "client-certificate: ${CERT}\nclient-certificate-data: ${CERT64}\n"
                  "client-key: ${KEY}"),
       "${P}" + users0 + "client-certificate and client-certificate-data are both set; keep one"},
      {"client cert not PEM",
       kubeconfig(kCluster, "client-certificate: ${DIR}/bad.crt\nclient-key: ${KEY}"),
       "${P}" + users0 +
           "client-certificate ${DIR}/bad.crt: no PEM certificate found (expected -----BEGIN "
           "CERTIFICATE-----)"},
      {"client key not a key",
       kubeconfig(kCluster, "client-certificate: ${CERT}\nclient-key: ${CERT}"),
       "${P}" + users0 +
           "client-key ${CERT}: no PEM private key found (expected -----BEGIN PRIVATE KEY----- or "
           "similar)"},
      {"client key encrypted",
       kubeconfig(kCluster, "client-certificate: ${CERT}\nclient-key: encrypted.key"),
       "${P}" + users0 +
           "client-key ${DIR}/encrypted.key: is an encrypted private key; give it unencrypted "
           "(openssl pkey -in KEY -out NEWKEY)"},
      {"client key data invalid",
       kubeconfig(kCluster, "client-certificate: ${CERT}\nclient-key-data: not*base64"),
       "${P}" + users0 + "client-key-data: not valid base64: unexpected '*' at offset 3"},
      {"client key of another certificate",
       kubeconfig(kCluster, "client-certificate: ${CERT}\nclient-key: ${SERVERKEY}"),
       "${P}" + users0 +
           "client-key ${SERVERKEY} does not match client-certificate ${CERT} (the key must be "
           "the one the certificate was issued for)"},
      {"client key data of another certificate",
       kubeconfig(kCluster, "client-certificate: ${SERVERCERT}\nclient-key-data: ${KEY64}"),
       "${P}" + users0 +
           "client-key-data does not match client-certificate ${SERVERCERT} (the key must be the "
           "one the certificate was issued for)"},
  };
  const fs::path file = dir_ / "config";
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    write("config", c.yaml);
    ClusterAccessResult r = loadKubeconfig(file);
    EXPECT_FALSE(r.access);
    std::string expected = c.error;
    expected.replace(expected.find("${P}"), 4, "kubeconfig " + file.string() + ": ");
    EXPECT_EQ(r.error, expand(expected));
  }
}

TEST_F(KubeConfigTest, ErrorsOutsideTheEntries) {
  const fs::path missing = dir_ / "nope";
  EXPECT_EQ(loadKubeconfig(missing).error, "kubeconfig " + missing.string() + ": no such file");

  const fs::path file = write("config", "clusters: [\n  {name: c\n");
  EXPECT_EQ(loadKubeconfig(file).error,
            "kubeconfig " + file.string() + ":3:1: YAML syntax error: end of map flow not found");

  write("config", kubeconfig(kCluster, kTokenUser));
  EXPECT_EQ(loadKubeconfig(file, "prod").error,
            "kubeconfig " + file.string() + ": context \"prod\" not found (known contexts: ctx)");

  // A certificate block that does not decode names the block and OpenSSL's reason.
  write("broken.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  write("config", kubeconfig("server: https://c\ncertificate-authority: broken.crt", kTokenUser));
  const std::string error = loadKubeconfig(file).error;
  const std::string expected = "kubeconfig " + file.string() +
                               ": clusters[0] (name c): certificate-authority " +
                               (dir_ / "broken.crt").string() + ": certificate 1 does not parse (";
  EXPECT_EQ(error.substr(0, expected.size()), expected) << error;

  // The second certificate of a bundle is checked too.
  write("bundle.crt", caPem_ + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  write("config", kubeconfig("server: https://c\ncertificate-authority: bundle.crt", kTokenUser));
  EXPECT_NE(loadKubeconfig(file).error.find(": certificate 2 does not parse ("), std::string::npos);
}

// ---- in-cluster ----

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sa_ = dir_ / "serviceaccount";
    fs::create_directories(sa_);
    caPem_ = aw::test::readFile(devCerts().ca);
    aw::test::writeFile(sa_ / "token", "sa-token-1\n");
    aw::test::writeFile(sa_ / "ca.crt", caPem_);
    aw::test::writeFile(sa_ / "namespace", "alliance-webhook");
  }

  ClusterAccessResult load() const {
    return loadInCluster(
        [this](const std::string& name) -> std::optional<std::string> {
          auto it = env_.find(name);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        },
        sa_);
  }

  TempDir dir_;
  fs::path sa_;
  std::string caPem_;
  std::map<std::string, std::string> env_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                             {"KUBERNETES_SERVICE_PORT", "443"}};
};

TEST_F(InClusterTest, ServiceAccount) {
  ClusterAccessResult r = load();
  ASSERT_TRUE(r.access) << r.error;
  const ClusterAccess& a = *r.access;
  EXPECT_EQ(a.host, "10.96.0.1");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.caPem, caPem_);
  EXPECT_FALSE(a.insecureSkipVerify);
  EXPECT_EQ(a.tlsServerName, "");
  EXPECT_EQ(a.token, "");
  EXPECT_EQ(a.tokenFile, sa_ / "token");
  EXPECT_EQ(a.clientCertPem, "");
  EXPECT_EQ(a.source, "in-cluster service account");
  EXPECT_EQ(a.defaultNamespace, "alliance-webhook");

  // The kubelet rotates the projected token: every call reads the file again.
  std::string error;
  EXPECT_EQ(bearerToken(a, error), "sa-token-1");
  aw::test::writeFile(sa_ / "token", "sa-token-2");
  EXPECT_EQ(bearerToken(a, error), "sa-token-2");
  fs::remove(sa_ / "token");
  EXPECT_EQ(bearerToken(a, error), std::nullopt);
  EXPECT_EQ(error, "in-cluster service account: token file " + (sa_ / "token").string() +
                       ": no such file");
}

TEST_F(InClusterTest, Ipv6AndOtherPorts) {
  env_["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  env_["KUBERNETES_SERVICE_PORT"] = "6443";
  ClusterAccessResult r = load();
  ASSERT_TRUE(r.access) << r.error;
  EXPECT_EQ(r.access->host, "fd00:10:96::1");
  EXPECT_EQ(r.access->port, 6443);
  EXPECT_EQ(serverUrl(*r.access), "https://[fd00:10:96::1]:6443");

  env_["KUBERNETES_SERVICE_HOST"] = "[fd00:10:96::1]";  // brackets are tolerated
  r = load();
  ASSERT_TRUE(r.access) << r.error;
  EXPECT_EQ(r.access->host, "fd00:10:96::1");

  env_["KUBERNETES_SERVICE_HOST"] = "kubernetes.default.svc";
  r = load();
  ASSERT_TRUE(r.access) << r.error;
  EXPECT_EQ(r.access->host, "kubernetes.default.svc");
}

TEST_F(InClusterTest, NamespaceFileIsOptional) {
  fs::remove(sa_ / "namespace");
  ClusterAccessResult r = load();
  ASSERT_TRUE(r.access) << r.error;
  EXPECT_EQ(r.access->defaultNamespace, "");
}

TEST_F(InClusterTest, Errors) {
  const std::string sa = sa_.string();
  const std::string p = "in-cluster service account: ";
  struct Case {
    std::string name;
    std::function<void()> setup;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"no host", [&] { env_.erase("KUBERNETES_SERVICE_HOST"); },
       "not running in a cluster (KUBERNETES_SERVICE_HOST is not set): give --kubeconfig or "
       "cluster.kubeconfig"},
      {"empty host", [&] { env_["KUBERNETES_SERVICE_HOST"] = ""; },
       "not running in a cluster (KUBERNETES_SERVICE_HOST is not set): give --kubeconfig or "
       "cluster.kubeconfig"},
      {"no port", [&] { env_.erase("KUBERNETES_SERVICE_PORT"); },
       "not running in a cluster (KUBERNETES_SERVICE_PORT is not set): give --kubeconfig or "
       "cluster.kubeconfig"},
      {"bad host", [&] { env_["KUBERNETES_SERVICE_HOST"] = "10.96.0.1/16"; },
       p + "KUBERNETES_SERVICE_HOST \"10.96.0.1/16\" is not a host name or IP address"},
      {"bad IPv6 host", [&] { env_["KUBERNETES_SERVICE_HOST"] = "fd00::1::2"; },
       p + "KUBERNETES_SERVICE_HOST \"fd00::1::2\" is not a host name or IP address"},
      {"bad port", [&] { env_["KUBERNETES_SERVICE_PORT"] = "https"; },
       p + "KUBERNETES_SERVICE_PORT \"https\" is not a port number from 1 to 65535"},
      {"port 0", [&] { env_["KUBERNETES_SERVICE_PORT"] = "0"; },
       p + "KUBERNETES_SERVICE_PORT \"0\" is not a port number from 1 to 65535"},
      {"no service account", [&] { fs::remove_all(sa_); },
       p + sa +
           ": no such directory; the pod has no service account token mounted (is "
           "automountServiceAccountToken false?)"},
      {"no token", [&] { fs::remove(sa_ / "token"); }, p + "token " + sa + "/token: no such file"},
      {"empty token", [&] { aw::test::writeFile(sa_ / "token", " \n"); },
       p + "token " + sa + "/token: is empty; expected a bearer token"},
      {"no CA", [&] { fs::remove(sa_ / "ca.crt"); }, p + "ca.crt " + sa + "/ca.crt: no such file"},
      {"CA not PEM", [&] { aw::test::writeFile(sa_ / "ca.crt", "junk"); },
       p + "ca.crt " + sa +
           "/ca.crt: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SetUp();  // a fresh service account folder and environment for each case
    env_ = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
    c.setup();
    ClusterAccessResult r = load();
    EXPECT_FALSE(r.access);
    EXPECT_EQ(r.error, c.error);
  }
}

}  // namespace
}  // namespace aw::webhook::kube

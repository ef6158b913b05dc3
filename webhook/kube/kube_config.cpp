#include "webhook/kube/kube_config.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/text.h"
#include "webhook/base/base64.h"
#include "webhook/base/files.h"
#include "webhook/base/host_port.h"
#include "webhook/base/pem.h"
#include "webhook/base/strict_yaml.h"

namespace aw::webhook::kube {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kInCluster = "in-cluster service account";
constexpr std::string_view kCredentialsHint =
    "use a token, tokenFile or client-certificate and client-key (for example a kubeconfig with a "
    "service account token)";

// Thrown inside this file only; loadKubeconfig turns it into ClusterAccessResult::error.
struct LoadError {
  std::string message;
};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && isSpace(s[b])) ++b;
  while (e > b && isSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

using aw::quote;

// A token goes into an Authorization header as is: a line break there would end the header (and
// let the file's content write headers of its own), a space means two tokens or a prose file.
std::string tokenProblem(std::string_view token) {
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto u = static_cast<unsigned char>(token[i]);
    if (u <= 0x20 || u == 0x7f) {
      return "holds whitespace or a control character (" + describeByte(token[i]) + " at offset " +
             std::to_string(i) + "); expected a single bearer token";
    }
  }
  return "";
}

// A token file's content, trimmed. On failure `why` is "PATH: reason".
std::optional<std::string> readTokenFile(const fs::path& path, std::string& why) {
  std::optional<std::string> text = readFile(path, why);
  if (!text) return std::nullopt;
  std::string token = trim(*text);
  if (token.empty()) {
    why = path.string() + ": is empty; expected a bearer token";
    return std::nullopt;
  }
  if (std::string problem = tokenProblem(token); !problem.empty()) {
    why = path.string() + ": " + problem;
    return std::nullopt;
  }
  return token;
}

// ---- base64 (the *-data keys) ----

// Standard base64 with padding (what Go's encoding/json expects for []byte), line breaks and
// other whitespace ignored. `fileKey` names the key to use instead when the value is plain PEM.
std::optional<std::string> decodeData(std::string_view text, std::string_view fileKey,
                                      std::string& error) {
  if (trim(text).rfind("-----BEGIN", 0) == 0) {
    error = "holds PEM text, not base64: encode it (base64 -w0 FILE) or give the file's path in " +
            std::string(fileKey);
    return std::nullopt;
  }
  return decodeBase64(text, error);
}

// ---- addresses ----

bool validHostName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

bool validIpv6(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

struct Server {
  std::string host;
  int port = 443;
};

// `https://host[:port][/]`, as kubectl writes it. Returns an error, empty when `out` is set.
std::string parseServer(const std::string& url, Server& out) {
  const std::string expected = "expected https://HOST[:PORT]";
  const std::size_t schemeEnd = url.find("://");
  if (schemeEnd == std::string::npos) return quote(url) + " is not a URL; " + expected;
  std::string scheme = url.substr(0, schemeEnd);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "http") {
    return quote(url) + ": plain http is not supported, the API server is reached over TLS only (" +
           expected + ")";
  }
  if (scheme != "https") {
    return quote(url) + ": scheme " + quote(scheme) + " is not supported; " + expected;
  }
  const std::string rest = url.substr(schemeEnd + 3);
  const std::size_t authorityEnd = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, authorityEnd);
  const std::string tail = authorityEnd == std::string::npos ? "" : rest.substr(authorityEnd);
  if (!tail.empty() && tail != "/") {
    if (tail[0] != '/') return quote(url) + ": a query or fragment is not supported; " + expected;
    return quote(url) + ": path prefix " + quote(tail) +
           " is not supported (neither are proxies in front of the API server); give the API "
           "server's own address, " +
           expected;
  }
  if (authority.find('@') != std::string::npos) {
    return quote(url) +
           ": user information in the URL is not supported; put credentials in users[]";
  }
  const HostPort parts = splitHostPort(authority);
  if (parts.problem == HostPort::Problem::NoClosingBracket) {
    return quote(url) + ": missing ']' after the IPv6 address";
  }
  out.host = parts.host;
  if (parts.bracketed) {
    if (!validIpv6(out.host)) {
      return quote(url) + ": " + quote(out.host) + " is not an IPv6 address";
    }
    if (parts.problem == HostPort::Problem::AfterBracket) {
      return quote(url) + ": unexpected " + quote(parts.after) + " after ']'";
    }
  } else {
    if (out.host.find(':') != std::string::npos) {
      return quote(url) + ": an IPv6 address needs brackets, as in https://[::1]:6443";
    }
    if (out.host.empty()) return quote(url) + ": no host; " + expected;
    if (!validHostName(out.host)) {
      return quote(url) + ": " + quote(out.host) + " is not a host name or IP address";
    }
  }
  out.port = 443;
  if (parts.port) {
    const std::optional<int> port = parsePort(*parts.port, 1);
    if (!port) {
      return quote(url) + ": port " + quote(*parts.port) + " is not a number from 1 to 65535";
    }
    out.port = *port;
  }
  return "";
}

// ---- kubeconfig ----

// One entry of clusters, users or contexts, found by name.
struct Entry {
  YAML::Node body;  // its cluster / user / context mapping (an empty one when absent)
  std::string at;   // "users[0] (name admin): "
};

// Credentials from a file (`fileKey`) or inline base64 (`fileKey`-data), with the label of the one
// used for messages ("client-certificate /abs/path" or "client-certificate-data").
struct Material {
  std::string pem;
  std::string label;
  bool present = false;
};

class Kubeconfig {
 public:
  explicit Kubeconfig(const fs::path& file)
      : file_(file), dir_(file.parent_path()), prefix_("kubeconfig " + file.string() + ": ") {}

  ClusterAccess load(const std::string& wanted) {
    std::string error;
    std::optional<std::string> text = readFile(file_, error);
    if (!text) throw LoadError{"kubeconfig " + error};
    const std::optional<YAML::Node> loaded = loadYaml(*text, "kubeconfig " + file_.string(), error);
    if (!loaded) throw LoadError{error};
    const YAML::Node& root = *loaded;
    if (!root.IsDefined() || root.IsNull()) {
      fail("empty file; expected a kubeconfig (clusters, users, contexts, current-context)");
    }
    if (!root.IsMap()) {
      fail("expected a kubeconfig, a mapping with clusters, users, contexts and current-context");
    }

    std::string contextName = wanted;
    std::string referrer = "context ";
    if (contextName.empty()) {
      contextName = str(root, "current-context", "");
      referrer = "current-context: ";
      if (contextName.empty()) {
        fail("current-context: not set; choose a context with kubectl config use-context NAME (" +
             known(root, "contexts") + ")");
      }
    }
    const Entry context = find(root, "contexts", "context", contextName, referrer);
    const std::string clusterName = str(context.body, "cluster", context.at);
    if (clusterName.empty()) fail(context.at + "cluster: not set");
    const std::string userName = str(context.body, "user", context.at);
    if (userName.empty()) {
      fail(context.at +
           "user: not set; the webhook needs credentials: " + std::string(kCredentialsHint));
    }

    ClusterAccess access;
    access.defaultNamespace = str(context.body, "namespace", context.at);
    loadCluster(find(root, "clusters", "cluster", clusterName, context.at + "cluster: "), access);
    loadUser(find(root, "users", "user", userName, context.at + "user: "), access);
    access.source = "kubeconfig " + file_.string() + " (context " + contextName + ")";
    return access;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw LoadError{prefix_ + what}; }

  fs::path resolve(const std::string& path) const {
    fs::path p(path);
    return p.is_relative() ? dir_ / p : p;
  }

  // A string value; empty when absent or null.
  std::string str(const YAML::Node& map, const char* key, const std::string& at) const {
    const std::optional<YAML::Node> v = StrictYaml::member(map, key);
    return v ? yaml_.scalar(*v, at + key) : "";
  }

  bool flag(const YAML::Node& map, const char* key, const std::string& at) const {
    const std::optional<YAML::Node> v = StrictYaml::member(map, key);
    return v ? yaml_.boolean(*v, at + key) : false;
  }

  static bool has(const YAML::Node& map, const char* key) {
    return StrictYaml::member(map, key).has_value();
  }

  YAML::Node list(const YAML::Node& root, const char* listKey) const {
    const YAML::Node l = root[listKey];
    if (!l.IsDefined() || l.IsNull()) return YAML::Node(YAML::NodeType::Sequence);
    if (!l.IsSequence()) fail(std::string(listKey) + ": expected a list");
    return l;
  }

  // "known contexts: a, b" or "the file has no contexts", for "not found" messages.
  std::string known(const YAML::Node& root, const char* listKey) const {
    std::string names;
    for (const YAML::Node& e : list(root, listKey)) {
      if (!e.IsMap()) continue;
      // A missing key of a const node is an invalid node, which throws on anything but
      // IsDefined: hence the check before every use below and in the helpers above.
      if (const YAML::Node name = e["name"]; name.IsDefined() && name.IsScalar()) {
        names += (names.empty() ? "" : ", ") + name.Scalar();
      }
    }
    return names.empty() ? "the file has no " + std::string(listKey)
                         : "known " + std::string(listKey) + ": " + names;
  }

  Entry find(const YAML::Node& root, const char* listKey, const char* bodyKey,
             const std::string& name, const std::string& referrer) const {
    const YAML::Node l = list(root, listKey);
    std::optional<Entry> found;
    std::size_t foundAt = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
      const YAML::Node e = l[i];
      const std::string index = std::string(listKey) + "[" + std::to_string(i) + "]";
      if (!e.IsMap()) fail(index + ": expected a mapping with name and " + bodyKey);
      if (str(e, "name", index + ": ") != name) continue;
      if (found) {
        fail(listKey + ("[" + std::to_string(foundAt) + "] and ") + index + " are both named " +
             quote(name) + "; names must be unique");
      }
      const YAML::Node body = e[bodyKey];
      found = Entry{body.IsDefined() && !body.IsNull() ? body : YAML::Node(YAML::NodeType::Map),
                    index + " (name " + name + "): "};
      foundAt = i;
    }
    if (!found) {
      fail(referrer + quote(name) + " not found (" + known(root, listKey) + ")");
    }
    if (!found->body.IsMap()) {
      fail(found->at + bodyKey + ": expected a mapping");
    }
    return *found;
  }

  Material material(const YAML::Node& body, const std::string& at, const char* fileKey) const {
    const std::string dataKey = std::string(fileKey) + "-data";
    const std::string path = str(body, fileKey, at);
    const std::string data = str(body, dataKey.c_str(), at);
    if (!path.empty() && !data.empty()) {
      fail(at + fileKey + " and " + dataKey + " are both set; keep one");
    }
    Material m;
    if (!path.empty()) {
      const fs::path file = resolve(path);
      std::string error;
      std::optional<std::string> text = readFile(file, error);
      if (!text) fail(at + fileKey + " " + error);
      m = {std::move(*text), std::string(fileKey) + " " + file.string(), true};
    } else if (!data.empty()) {
      std::string error;
      std::optional<std::string> bytes = decodeData(data, fileKey, error);
      if (!bytes) fail(at + dataKey + ": " + error);
      m = {std::move(*bytes), dataKey, true};
    }
    return m;
  }

  void loadCluster(const Entry& cluster, ClusterAccess& access) const {
    const std::string& at = cluster.at;
    const std::string server = str(cluster.body, "server", at);
    if (server.empty()) fail(at + "server: not set; expected https://HOST[:PORT]");
    Server parsed;
    if (std::string error = parseServer(server, parsed); !error.empty()) {
      fail(at + "server: " + error);
    }
    access.host = parsed.host;
    access.port = parsed.port;
    if (!str(cluster.body, "proxy-url", at).empty()) {
      fail(at +
           "proxy-url: proxies are not supported; the webhook must reach the API server directly");
    }
    access.tlsServerName = str(cluster.body, "tls-server-name", at);
    access.insecureSkipVerify = flag(cluster.body, "insecure-skip-tls-verify", at);
    const Material ca = material(cluster.body, at, "certificate-authority");
    if (access.insecureSkipVerify) {
      // What client-go does too: a CA and no verification contradict each other.
      if (ca.present) {
        fail(at + "insecure-skip-tls-verify: true and " + ca.label +
             " are both set; remove one (kubectl refuses this too)");
      }
      return;
    }
    if (!ca.present) {
      fail(at +
           "no certificate-authority: the API server's certificate cannot be verified; add "
           "certificate-authority(-data) or, for testing only, insecure-skip-tls-verify: true");
    }
    std::string error;
    if (readCertificates(ca.pem, error).empty()) fail(at + ca.label + ": " + error);
    access.caPem = ca.pem;
  }

  void loadUser(const Entry& user, ClusterAccess& access) const {
    const std::string& at = user.at;
    const YAML::Node& body = user.body;
    refuseUnsupported(body, at);
    loadToken(body, at, access);
    const bool certificate = loadClientCertificate(body, at, access);
    if (access.token.empty() && access.tokenFile.empty() && !certificate) {
      // Anonymous requests cannot list cluster-scoped objects, so this would fail at every request.
      fail(at +
           "no credentials: the webhook must list cluster-scoped objects, which anonymous "
           "requests cannot; " +
           std::string(kCredentialsHint));
    }
  }

  // Exec plugins, auth providers, basic authentication and impersonation: refused by name.
  void refuseUnsupported(const YAML::Node& body, const std::string& at) const {
    const std::string hint = "; " + std::string(kCredentialsHint);
    if (has(body, "exec")) fail(at + "exec: credential plugins are not supported" + hint);
    if (has(body, "auth-provider")) {
      std::string provider;
      if (body["auth-provider"].IsMap()) provider = str(body["auth-provider"], "name", at);
      fail(at + "auth-provider" + (provider.empty() ? "" : " " + quote(provider)) +
           ": auth providers are not supported" + hint);
    }
    if (has(body, "username") || has(body, "password")) {
      fail(at + "username/password: basic authentication is not supported" + hint);
    }
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
      if (has(body, key)) {
        fail(at + key +
             ": impersonation is not supported; give the credentials of the identity to use");
      }
    }
  }

  void loadToken(const YAML::Node& body, const std::string& at, ClusterAccess& access) const {
    access.token = str(body, "token", at);
    if (std::string problem = tokenProblem(access.token); !problem.empty()) {
      fail(at + "token: " + problem);
    }
    if (const std::string tokenFile = str(body, "tokenFile", at); !tokenFile.empty()) {
      access.tokenFile = resolve(tokenFile);
      // Checked now so a wrong path fails at start-up; read again on every request.
      std::string why;
      if (!readTokenFile(access.tokenFile, why)) fail(at + "tokenFile " + why);
    }
  }

  // client-certificate(-data) and client-key(-data), both or neither. True when given.
  bool loadClientCertificate(const YAML::Node& body, const std::string& at,
                             ClusterAccess& access) const {
    const Material cert = material(body, at, "client-certificate");
    const Material key = material(body, at, "client-key");
    if (cert.present != key.present) {
      fail(at +
           (cert.present ? cert.label + " is set but client-key(-data) is not"
                         : key.label + " is set but client-certificate(-data) is not") +
           "; give both");
    }
    if (cert.present) {
      std::string error;
      const std::vector<X509Ptr> certs = readCertificates(cert.pem, error);
      if (certs.empty()) fail(at + cert.label + ": " + error);
      PkeyPtr pkey = readPrivateKey(key.pem, error);
      if (!pkey) fail(at + key.label + ": " + error);
      if (X509_check_private_key(certs.front().get(), pkey.get()) != 1) {
        ERR_clear_error();
        fail(at + key.label + " does not match " + cert.label +
             " (the key must be the one the certificate was issued for)");
      }
      access.clientCertPem = cert.pem;
      access.clientKeyPem = key.pem;
    }
    return cert.present;
  }

  fs::path file_;
  fs::path dir_;
  std::string prefix_;
  // Type errors read "PREFIX users[0] (name admin): token: expected a string".
  StrictYaml yaml_{[this](const YAML::Node&, const std::string& path, const std::string& what) {
    fail(path + ": " + what);
  }};
};

}  // namespace

ClusterAccessResult loadInCluster(
    const std::function<std::optional<std::string>(const std::string&)>& getenv,
    const fs::path& serviceAccountDir) {
  const std::string prefix = std::string(kInCluster) + ": ";
  auto fail = [](std::string message) {
    return ClusterAccessResult{std::nullopt, std::move(message)};
  };
  // Like client-go, an empty variable counts as unset.
  const std::optional<std::string> host = getenv("KUBERNETES_SERVICE_HOST");
  const std::optional<std::string> port = getenv("KUBERNETES_SERVICE_PORT");
  auto notInCluster = [&](const char* name) {
    return fail(std::string("not running in a cluster (") + name +
                " is not set): give --kubeconfig or cluster.kubeconfig");
  };
  if (!host || host->empty()) return notInCluster("KUBERNETES_SERVICE_HOST");
  if (!port || port->empty()) return notInCluster("KUBERNETES_SERVICE_PORT");

  ClusterAccess access;
  access.source = std::string(kInCluster);
  access.host = *host;
  if (access.host.size() > 2 && access.host.front() == '[' && access.host.back() == ']') {
    access.host = access.host.substr(1, access.host.size() - 2);
  }
  const bool hostOk = access.host.find(':') != std::string::npos ? validIpv6(access.host)
                                                                 : validHostName(access.host);
  if (!hostOk) {
    return fail(prefix + "KUBERNETES_SERVICE_HOST " + quote(*host) +
                " is not a host name or IP address");
  }
  const std::optional<int> portNumber = parsePort(*port, 1);
  if (!portNumber) {
    return fail(prefix + "KUBERNETES_SERVICE_PORT " + quote(*port) +
                " is not a port number from 1 to 65535");
  }
  access.port = *portNumber;

  std::error_code ec;
  if (!fs::is_directory(serviceAccountDir, ec)) {
    return fail(prefix + serviceAccountDir.string() +
                ": no such directory; the pod has no service account token mounted (is "
                "automountServiceAccountToken false?)");
  }
  access.tokenFile = serviceAccountDir / "token";
  std::string error;
  if (!readTokenFile(access.tokenFile, error)) return fail(prefix + "token " + error);
  const fs::path caFile = serviceAccountDir / "ca.crt";
  std::optional<std::string> ca = readFile(caFile, error);
  if (!ca) return fail(prefix + "ca.crt " + error);
  if (readCertificates(*ca, error).empty()) {
    return fail(prefix + "ca.crt " + caFile.string() + ": " + error);
  }
  access.caPem = std::move(*ca);
  // The namespace file is informational; a pod without it still works.
  if (fs::exists(serviceAccountDir / "namespace", ec)) {
    if (std::optional<std::string> ns = readFile(serviceAccountDir / "namespace", error)) {
      access.defaultNamespace = trim(*ns);
    }
  }
  return {std::move(access), ""};
}

ClusterAccessResult loadKubeconfig(const fs::path& file, const std::string& context) {
  ClusterAccessResult result;
  try {
    result.access = Kubeconfig(file).load(context);
  } catch (const LoadError& e) {
    result.error = e.message;
  } catch (const YAML::Exception& e) {
    result.error = "kubeconfig " + file.string() + ": " + e.msg;
  } catch (const std::exception& e) {
    result.error = "kubeconfig " + file.string() + ": " + e.what();
  }
  return result;
}

std::optional<std::string> bearerToken(const ClusterAccess& access, std::string& error) {
  if (access.tokenFile.empty()) return access.token;
  std::string why;
  std::optional<std::string> token = readTokenFile(access.tokenFile, why);
  if (!token) {
    error = (access.source.empty() ? "" : access.source + ": ") + "token file " + why;
  }
  return token;
}

std::string serverUrl(const ClusterAccess& access) {
  const bool ipv6 = access.host.find(':') != std::string::npos;
  return "https://" + (ipv6 ? "[" + access.host + "]" : access.host) + ":" +
         std::to_string(access.port);
}

}  // namespace aw::webhook::kube

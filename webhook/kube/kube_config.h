// Where the Kubernetes API server is and how to authenticate to it: the pod's service account
// (in-cluster) or a kubeconfig file, read the way kubectl / client-go read them. Pure loading
// (environment and files, no network): every problem, from a missing file to a client key that
// does not match its certificate, is found here at start-up and returned as a message naming the
// file, the key path and what to do; nothing throws across this interface.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace aw::webhook::kube {

struct ClusterAccess {
  std::string host;  // "10.96.0.1", "kubernetes.default.svc", "::1" (no brackets)
  int port = 443;
  std::string caPem;  // PEM bundle to verify the API server; empty only when insecureSkipVerify
  bool insecureSkipVerify = false;
  std::string tlsServerName;  // kubeconfig clusters[].cluster.tls-server-name, may be empty
  std::string token;          // a static bearer token, may be empty
  // Re-read on every request (bound service account tokens rotate), may be empty.
  std::filesystem::path tokenFile;
  std::string clientCertPem, clientKeyPem;  // client certificate auth, may be empty
  // "in-cluster service account" or "kubeconfig /path (context NAME)", for messages.
  std::string source;
  // The context's namespace (kubeconfig) or the pod's namespace (in-cluster); may be empty.
  // Informational: the webhook names every namespace it reads explicitly.
  std::string defaultNamespace;
};

struct ClusterAccessResult {
  std::optional<ClusterAccess> access;
  std::string error;  // set when access is empty
};

// In-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT from `getenv`, token and ca.crt
// (and, when present, namespace) in `serviceAccountDir`. An IPv6 host is fine. The token must be
// readable now; it is re-read on every request through bearerToken.
ClusterAccessResult loadInCluster(
    const std::function<std::optional<std::string>(const std::string&)>& getenv,
    const std::filesystem::path& serviceAccountDir =
        "/var/run/secrets/kubernetes.io/serviceaccount");

// kubeconfig: current-context (or `context` when non-empty) → its cluster and user. Files the
// kubeconfig names (relative to its own directory) are read now, except tokenFile, which is only
// checked now and re-read on every request.
ClusterAccessResult loadKubeconfig(const std::filesystem::path& file,
                                   const std::string& context = "");

// The bearer token to send now: tokenFile's content (trimmed of surrounding whitespace, re-read
// on every call) when set, else token. Empty string when there is none. On a read error (or a
// file that is empty or holds more than one token): nullopt, and `error` says which file and why.
std::optional<std::string> bearerToken(const ClusterAccess& access, std::string& error);

// "https://10.96.0.1:443", "https://[::1]:6443": the API server's address, for messages.
std::string serverUrl(const ClusterAccess& access);

}  // namespace aw::webhook::kube

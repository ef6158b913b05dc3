// Test support: a fake Kubernetes API server over real TLS on 127.0.0.1, speaking the wire
// formats kube-apiserver speaks for the calls a controller makes (GET one object, LIST with
// pagination, WATCH as a chunked stream of JSON events), with faults a test can inject.
//
// It is faithful where a client can tell the difference: one global resourceVersion counter (etcd's
// revision), consistent snapshots across list pages, continue tokens and watch resourceVersions
// that expire on compaction (410 Expired, as an ERROR event on a 200 stream like the watch cache
// does), BOOKMARK events, Status bodies on every error, core-group list items without
// apiVersion/kind. Objects change through put/remove, and through the writes the background
// audit makes: POST (create, 409 AlreadyExists), PUT (replace, 409 Conflict on a stale
// metadata.resourceVersion), PATCH as server-side apply (application/apply-patch+yaml with a
// fieldManager: the object given is stored as it is). DELETE and other patch types are 405/415.
// GET /apis/GROUP/VERSION answers the discovery document of the collections added under it.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aw::test {

class FakeApiServer {
 public:
  struct Options {
    std::filesystem::path cert, key;   // serving certificate (default: devCerts().cert/.key)
    std::string token = "test-token";  // accepted bearer token; empty: any/no token accepted
    // When set, a client certificate signed by it is ALSO accepted instead of a token.
    std::optional<std::filesystem::path> clientCa;
    // A watch from a compacted resourceVersion: false answers 200 and one ERROR event (the watch
    // cache, what current servers do); true answers HTTP 410 (etcd-served watches).
    bool watchTooOldAsHttp410 = false;
    // How often a watch that asked for bookmarks gets one on its own (real servers: about a
    // minute). Zero: only sendBookmarks() sends them.
    std::chrono::milliseconds bookmarkInterval{1000};
  };

  FakeApiServer();  // default Options
  explicit FakeApiServer(Options options);
  ~FakeApiServer();  // stops; returns promptly even with watches and idle connections open
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  int port() const;
  std::string url() const;  // "https://127.0.0.1:PORT"
  // A kubeconfig for this server: its URL, the development CA, a user with `token`.
  std::string kubeconfig(const std::string& token = "test-token") const;

  // A collection: `path` is the collection URL path, e.g.
  // "/apis/deckhouse.io/v1alpha1/istiofederations" (cluster-scoped) or
  // "/api/v1/namespaces/kube-system/secrets" (namespaced). apiVersion/kind are the objects' (e.g.
  // "deckhouse.io/v1alpha1", "IstioFederation"); the list kind is kind + "List".
  void addCollection(const std::string& path, const std::string& apiVersion,
                     const std::string& kind);
  // Now 404 (CRD not installed) and its open watches end; addCollection again restores an empty
  // one.
  void removeCollection(const std::string& path);

  // Creates or replaces the object of that metadata.name; assigns a new metadata.resourceVersion
  // (one global counter, rendered as a decimal string), sets apiVersion/kind (and, as the real
  // server does, metadata.uid and creationTimestamp when new, metadata.namespace for a namespaced
  // collection), and sends ADDED (new) or MODIFIED to matching watches. Returns the new RV.
  // Throws std::invalid_argument for an unknown collection or an object without metadata.name.
  std::string put(const std::string& collection, nlohmann::json object);
  // Deletes it; watches get DELETED carrying the last state with a new resourceVersion. Returns
  // the RV; empty (and nothing changes) when there is no such object.
  std::string remove(const std::string& collection, const std::string& name);
  // The object as stored now; null if absent.
  nlohmann::json get(const std::string& collection, const std::string& name) const;
  std::string resourceVersion() const;  // current global RV

  // A namespaced resource of a custom resource definition: GROUP_VERSION_PATH/namespaces/NS/
  // RESOURCE exists in every namespace NS (made on first use), and GROUP_VERSION_PATH/RESOURCE
  // lists the objects of all namespaces (no pagination, labelSelector honoured).
  // groupVersionPath: "/apis/wgpolicyk8s.io/v1alpha2"; kind: "PolicyReport".
  void addNamespacedResource(const std::string& groupVersionPath, const std::string& resource,
                             const std::string& kind);

  // Tokens other than this get 401 from now on (token rotation / expiry); open watches go on.
  void setToken(std::string token);
  // Server-side cap on a client's `limit` (default: unlimited, honour the client's limit). A list
  // without `limit` is never paginated, as on a real server.
  void setPageSize(std::size_t max);

  // ---- faults ----
  // Forgets all history up to now: any list continue token or watch resourceVersion older than
  // the current RV is "too old" (410 Expired).
  void compact();
  // The next `count` requests (any path, before authentication) get `status` with a Status body.
  void failNext(int count, int status);
  // The next `count` writes (POST, PUT, PATCH) whose path contains `pathPart` get `status` with a
  // Status body; GETs go through. A status of 0 makes each of them wait 11 s first and then
  // answer 504 (a client with a 10 s read timeout sees a timeout).
  void failNextWrites(int count, int status, const std::string& pathPart = "");
  // Every open watch stream is cut mid-stream: connection closed WITHOUT the final 0-length chunk.
  void dropWatches();
  // Every open watch ends cleanly (final chunk), as at timeoutSeconds, after what it already had
  // queued.
  void endWatches();
  // Every open watch gets an ERROR event with a 410 Expired Status (etcd compacted past it), then
  // ends.
  void sendWatchError410();
  void sendRaw(const std::string& line);  // every open watch gets this raw text as-is
  // Every open watch that asked for bookmarks gets a BOOKMARK at the current RV.
  void sendBookmarks();
  // Every response waits this long before answering (slow server); 0 turns it off.
  void setDelay(std::chrono::milliseconds delay);
  // Open and new watches send nothing at all (headers sent, then silence): a hung stream. Events
  // queue meanwhile; setWatchStall(false) lets them (and any end) through, as a network that
  // comes back. dropWatches still cuts a stalled stream.
  void setWatchStall(bool stall);

  // ---- observation ----
  struct RequestRecord {
    std::string method, path;
    std::map<std::string, std::string> query;  // decoded; the first value of a repeated key
    int status;                                // 0 while the request is still being answered
    std::string authorization;                 // the Authorization header as sent
    std::string contentType;                   // the Content-Type header as sent
  };
  std::vector<RequestRecord> requests() const;  // every request so far, in arrival order
  int openWatches() const;
  // Until at least `count` are open; false on timeout.
  bool waitForWatches(int count, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aw::test

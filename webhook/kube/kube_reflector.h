// Keeps one collection of the Kubernetes API mirrored the way client-go's reflector does: a
// paginated LIST, then a WATCH from the list's resourceVersion with bookmarks; a re-LIST when the
// server says that resourceVersion is gone (410 Expired); a reconnect with capped exponential
// backoff and jitter after any other failure. It never busy-loops: every path back to the server
// either follows a watch that lived, or waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "webhook/kube/kube_client.h"

namespace aw::webhook::kube {

struct WatchEvent {
  enum class Type { Added, Modified, Deleted };
  Type type = Type::Added;
  nlohmann::json object;
};

// Where the reflector's objects go. Called from the reflector's thread only.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // A complete list: everything known before is replaced.
  virtual void replace(std::vector<nlohmann::json> objects) = 0;
  // Changes in the order the server sent them (one call per batch read from the stream).
  virtual void apply(std::vector<WatchEvent> events) = 0;
};

struct ReflectorOptions {
  std::string resource;    // for logs and metrics: "istiofederations", "secret"
  std::string collection;  // "/apis/deckhouse.io/v1alpha1/istiofederations"
  // Non-empty: mirror the one object of this name, with GET (not LIST) and a watch filtered by
  // fieldSelector=metadata.name, so RBAC can grant get/watch on that name alone.
  std::string objectName;
  // Non-empty: mirror only the objects with these labels (list and watch alike), e.g.
  // "federation.istio.deckhouse.io/public-service".
  std::string labelSelector;
  std::size_t pageSize = 500;
  // A watch asks the server to end it after watchTimeout..2*watchTimeout (jittered, as client-go
  // does, so replicas do not reconnect in step); a read silent for that long plus readSlack means
  // the stream hung.
  std::chrono::seconds watchTimeout{300};
  std::chrono::seconds readSlack{30};
  std::chrono::seconds listTimeout{60};
  std::chrono::milliseconds backoffInitial{500};
  std::chrono::milliseconds backoffMax{30000};
  // While the collection does not exist (404: its CRD is not installed), how often to look again.
  std::chrono::milliseconds absentRetry{30000};
  std::size_t maxEventBytes =
      std::size_t{16} * 1024 * 1024;  // one watch event line; above: malformed
};

// What the reflector has been through, for /readyz, metrics and logs.
struct ReflectorStatus {
  bool synced = false;                             // a list completed (ever)
  std::chrono::steady_clock::time_point lastSync;  // last list, event or bookmark received
  std::string lastError;                           // empty once a list or watch succeeds
  bool absent = false;                             // the collection answered 404 (not installed)
};

class Reflector {
 public:
  // reason: expired | closed | disconnected | error | malformed
  using RestartCallback = std::function<void(const std::string& resource, const char* reason)>;

  Reflector(const Client& client, ReflectorOptions options, ReflectorSink& sink,
            RestartCallback onRestart = nullptr);
  ~Reflector();  // stops

  void start();  // runs on its own thread
  void stop();   // interrupts a call in flight and waits for the thread
  ReflectorStatus status() const;
  const ReflectorOptions& options() const { return options_; }

  // One step each, for tests that drive the reflector by hand.
  enum class ListOutcome { Listed, Absent, Failed };
  ListOutcome listOnce();
  enum class WatchEnd { Closed, Expired, Disconnected, Error, Malformed, Stopped };
  WatchEnd watchOnce();
  std::string watchTarget(std::chrono::seconds timeout) const;
  // One piece of the watch stream: whole lines become events; false ends the watch (`end`).
  bool receive(std::string_view data, std::string& buffer, std::optional<WatchEnd>& end);
  const std::string& resourceVersion() const { return resourceVersion_; }

 private:
  void run();
  bool sleepFor(std::chrono::milliseconds d);  // false when stopping
  std::chrono::milliseconds nextBackoff();
  void failed(const std::string& what);
  void touched(bool listed);
  bool handleLine(std::string_view line, std::vector<WatchEvent>& batch, WatchEnd& end);

  const Client& client_;
  ReflectorOptions options_;
  ReflectorSink& sink_;
  RestartCallback onRestart_;
  Interrupt interrupt_;
  std::thread thread_;
  std::mt19937_64 random_;
  std::chrono::milliseconds backoff_{0};
  std::string resourceVersion_;  // reflector thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  ReflectorStatus status_;
};

}  // namespace aw::webhook::kube

// A small Kubernetes API client on cpp-httplib's TLS client: one GET, or one GET whose body is
// read as it arrives (a watch), or one write (POST, PUT, PATCH) of the background audit. A new
// connection per call: calls are few (a list, then a watch that lasts minutes), and it keeps a call
// free of any state another call left behind.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "webhook/kube/kube_config.h"

namespace httplib {
class ClientImpl;
}

namespace aw::webhook::kube {

struct Response {
  int status = 0;         // the HTTP status; 0 when no response arrived
  std::string body;       // for a stream, only a non-200 answer's body (the Status)
  std::string error;      // why the call failed below HTTP (connect, TLS, read); empty otherwise
  bool canceled = false;  // the receiver or an Interrupt stopped it

  bool ok() const { return error.empty() && status == 200; }
};

// What went wrong, for a log line or /readyz: "connect to 10.96.0.1:443 failed: Connection",
// "HTTP 403 Forbidden: istiofederations.deckhouse.io is forbidden: ...".
std::string describeFailure(const Response& response);

// The `reason` and `code` of a Kubernetes Status body, when it is one.
struct Status {
  std::string reason;
  std::string message;
  int code = 0;
};
Status parseStatus(std::string_view body);

// Stops the call in progress (and every later one) from another thread: shutdown.
class Interrupt {
 public:
  void fire();
  bool fired() const { return fired_.load(); }

  // Used by Client around a call: registers its connection so fire() can shut it down (false:
  // already fired, do not start), then forgets it.
  bool enter(httplib::ClientImpl* call);
  void leave();

 private:
  std::atomic<bool> fired_{false};
  std::mutex mutex_;
  httplib::ClientImpl* call_ = nullptr;
};

class Client {
 public:
  explicit Client(ClusterAccess access) : access_(std::move(access)) {}

  const ClusterAccess& access() const { return access_; }

  // GET `target` (path and query); the whole body. `timeout` bounds each read.
  Response get(const std::string& target, std::chrono::seconds timeout,
               Interrupt* interrupt = nullptr) const;
  // GET `target`; a 200 answer's body goes to `onData` piece by piece as it arrives, until the
  // server ends it, a read waits longer than `readTimeout`, or `onData` returns false.
  Response stream(const std::string& target, std::chrono::seconds readTimeout,
                  const std::function<bool(std::string_view)>& onData,
                  Interrupt* interrupt = nullptr) const;
  // POST, PUT or PATCH `target` with `body` of `contentType` (the background audit's Lease and
  // reports); the whole answer. `timeout` bounds each read.
  Response send(const std::string& method, const std::string& target, const std::string& body,
                const std::string& contentType, std::chrono::seconds timeout,
                Interrupt* interrupt = nullptr) const;

 private:
  ClusterAccess access_;
};

}  // namespace aw::webhook::kube

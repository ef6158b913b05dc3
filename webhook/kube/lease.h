// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
// holder renews spec.renewTime every leaseDuration/3; another replica takes the Lease over once
// its record (holder, renewTime) has not changed for leaseDurationSeconds as this replica observes
// it (its own clock, so clocks need not agree); every write carries the resourceVersion it read,
// so of two replicas that try at once, one gets 409 Conflict and stays a follower.
// leading() is false from the moment a renewal is refused, or when none has succeeded for two
// thirds of the lease (before any other replica may take it over).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "webhook/kube/kube_client.h"

namespace aw::webhook {

struct LeaseOptions {
  std::string ns;        // the webhook's own namespace
  std::string name;      // alliance-webhook-audit
  std::string identity;  // POD_NAME, else HOSTNAME-PID
  std::chrono::milliseconds duration{15000};
};

class LeaseElector {
 public:
  LeaseElector(const kube::Client& client, LeaseOptions options);
  ~LeaseElector();

  void start();
  void stop();
  bool leading() const;
  const LeaseOptions& options() const { return options_; }

  // One attempt to acquire or renew (the loop's step; tests may drive it).
  void tryOnce();

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  void lost(const std::string& why);
  bool write(const std::string& method, const std::string& target, const nlohmann::json& lease);
  nlohmann::json record(const nlohmann::json* current, bool takeOver) const;

  const kube::Client& client_;
  LeaseOptions options_;
  std::string collection_;
  kube::Interrupt interrupt_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;

  std::atomic<bool> leader_{false};
  std::atomic<Clock::rep> renewedAt_{0};  // steady clock of the last successful write
  // What this replica last saw of another holder's record, and since when (its own clock).
  std::string observed_;
  Clock::time_point observedAt_;
};

// This replica's identity: $POD_NAME, else the host name and the process id.
std::string leaseIdentity();
// The webhook's own namespace: $POD_NAMESPACE, else the service account's namespace file, else
// alliance-webhook.
std::string ownNamespace();

}  // namespace aw::webhook

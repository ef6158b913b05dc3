// The background audit of `serve` (SPEC §9): once the cluster state is first synced, and then
// every audit.interval, every validating rule runs over every IstioFederation, IstioMulticluster
// and (audit.services) public federation Service the cluster holds, each judged as if it were
// created now against all the others: check's scan (webhook/scan.h), with the configuration and
// local cluster of the snapshot admission reads. It runs on its own thread over objects mirrored
// by its own reflectors, so it never holds up an admission; a configuration reload during a run
// starts the run again on the new configuration.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "webhook/audit/audit_results.h"
#include "webhook/audit/audit_store.h"
#include "webhook/audit/policy_reports.h"
#include "webhook/kube/kube_client.h"
#include "webhook/kube/kube_reflector.h"
#include "webhook/kube/lease.h"
#include "webhook/state/state.h"

namespace aw::webhook {

class BackgroundAudit {
 public:
  // `settings` are those of the configuration at start (services and leaseDuration apply from
  // then on; interval follows reloads). `clusterWaiting` says what the cluster state still
  // lacks (ClusterSync::waitingFor), empty once synced.
  BackgroundAudit(kube::ClusterAccess access, const AuditSettings& settings,
                  StateComposer& composer, std::function<std::string()> clusterWaiting);
  ~BackgroundAudit();

  void start();
  void stop();

  HttpResult lastRun() const { return results_.http(); }
  void renderMetrics(std::string& out) const;

 private:
  void run();
  bool waitForSync();
  bool sleepFor(std::chrono::milliseconds d);
  void runOnce();
  std::chrono::milliseconds interval() const;

  kube::Client client_;
  AuditSettings settings_;
  StateComposer& composer_;
  std::function<std::string()> clusterWaiting_;
  AuditObjectTable federations_, multiclusters_, services_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  AuditResults results_;
  ReportWriter writer_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> stop_{false};
};

}  // namespace aw::webhook

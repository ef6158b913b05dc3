// The background audit's PolicyReports (wgpolicyk8s.io/v1alpha2, SPEC §9): one PolicyReport per
// namespace with findings and one ClusterPolicyReport, each named alliance-webhook, kept up to
// date with server-side apply (field manager alliance-webhook) by the replica that holds the
// Lease. Whether the CRD is installed is asked once at start; where it is not, nothing is
// written and the log says so once. A namespace whose findings went away gets an empty report.
// Writes run on their own thread: a failed one (403, 409, 5xx, timeout) is retried with
// backoff and counted, and never holds up a scan or an admission.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "webhook/audit/audit_results.h"
#include "webhook/kube/kube_client.h"
#include "webhook/kube/lease.h"

namespace aw::webhook {

inline constexpr const char* kReportName = "alliance-webhook";
inline constexpr const char* kReportGroupVersion = "wgpolicyk8s.io/v1alpha2";

// The reports a run's findings make: namespace -> PolicyReport, "" -> the ClusterPolicyReport
// (always present, empty when no cluster-scoped object has a finding).
std::map<std::string, nlohmann::json> policyReports(const std::vector<AuditFinding>& findings);
// An empty report for `ns` ("" : the ClusterPolicyReport).
nlohmann::json emptyPolicyReport(const std::string& ns);

class ReportWriter {
 public:
  ReportWriter(kube::ClusterAccess access, LeaseOptions lease);
  ~ReportWriter();

  void start();
  void stop();
  // A run completed: these are the reports to keep written.
  void update(const std::vector<AuditFinding>& findings);
  // alliance_webhook_audit_leader, alliance_webhook_audit_report_writes_total,
  // alliance_webhook_audit_report_write_errors_total.
  void renderMetrics(std::string& out) const;

 private:
  enum class Crd { Unknown, Absent, Installed };
  void run();
  void loop();
  Crd discover();
  void adoptExisting();
  bool writeAll();
  bool writeOne(const std::string& ns, const nlohmann::json& report);
  bool sleepFor(std::chrono::milliseconds d);

  kube::Client client_;
  std::unique_ptr<LeaseElector> elector_;
  kube::Interrupt interrupt_;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool dirty_ = false;  // desired_ has not been written since it changed
  bool woken_ = false;  // update() since the writer last looked
  std::map<std::string, nlohmann::json> desired_;
  std::map<std::string, unsigned long long> errors_;  // rendered labels -> count
  unsigned long long writes_ = 0;                     // reports written
  std::atomic<Crd> crd_{Crd::Unknown};

  // Writer thread only.
  std::map<std::string, std::string> written_;  // namespace -> report as last written
  std::set<std::string> known_;                 // namespaces that hold a report of ours
  std::chrono::milliseconds backoff_{0};
};

}  // namespace aw::webhook

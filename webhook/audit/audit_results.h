// The last background audit run, where operators look (SPEC §9): GET /audit, the gauges
// alliance_webhook_audit_*, and a log line for each finding that appeared or went away since the
// run before.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "webhook/admission/handler.h"
#include "webhook/audit/scan.h"
#include "webhook/state/config.h"

namespace aw::webhook {

// One finding of a run, owned (the scan's objects may be gone when it is read).
struct AuditFinding {
  std::string apiVersion, kind, ns, name, uid;
  std::string rule, action, path, message;
  nlohmann::json json;  // as check --output json writes it

  // What makes it the same finding in the next run.
  std::string identity() const;
};

struct AuditRun {
  std::vector<AuditFinding> findings;
  std::size_t objects = 0;  // judged
  std::size_t denied = 0;   // objects that would be denied
  Mode mode = Mode::Enforce;
  std::chrono::system_clock::time_point started;
  double seconds = 0;  // how long the scan took
};

// The run's findings, owned, from a completed scan.
AuditRun auditRunOf(const ScanResult& scan, std::size_t objects, Mode mode);

class AuditResults {
 public:
  // The run just completed: logs what appeared and went away, then serves it.
  void record(AuditRun run);
  // GET /audit: the last run as JSON; 503 with {"error": ...} before the first one.
  HttpResult http() const;
  // alliance_webhook_audit_violations{rule,action,kind}, _last_run_timestamp_seconds,
  // _duration_seconds.
  void renderMetrics(std::string& out) const;
  std::optional<AuditRun> last() const;

 private:
  mutable std::mutex mutex_;
  std::optional<AuditRun> last_;
  std::string body_;
  // Label set -> findings of the last run; a label set seen once stays, at 0 when none is left.
  std::map<std::string, std::size_t> violations_;
};

}  // namespace aw::webhook

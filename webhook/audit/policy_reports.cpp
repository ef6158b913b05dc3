#include "webhook/audit/policy_reports.h"

#include "webhook/kube/kube_list.h"
#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::chrono::seconds kTimeout{10};
constexpr auto kBackoffInitial = 500ms;
constexpr auto kBackoffMax = 30000ms;
constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";

const std::string kApis = std::string("/apis/") + kReportGroupVersion;

std::string reportPath(const std::string& ns) {
  return ns.empty() ? kApis + "/clusterpolicyreports/" + kReportName
                    : kApis + "/namespaces/" + ns + "/policyreports/" + kReportName;
}

// deny: the object would be refused (fail); warn and audit: it would be let through (warn).
const char* resultOf(const std::string& action) {
  return action == "deny" ? "fail" : "warn";
}

Json resultJson(const AuditFinding& f) {
  Json resource = {{"apiVersion", f.apiVersion}, {"kind", f.kind}, {"name", f.name}};
  if (!f.ns.empty()) resource["namespace"] = f.ns;
  if (!f.uid.empty()) resource["uid"] = f.uid;
  return {{"policy", kReportName},
          {"rule", f.rule},
          {"result", resultOf(f.action)},
          {"source", kReportName},
          {"message", f.path + ": " + f.message},
          {"properties", {{"action", f.action}, {"path", f.path}}},
          {"resources", Json::array({resource})}};
}

}  // namespace

Json emptyPolicyReport(const std::string& ns) {
  Json metadata = {{"name", kReportName}, {"labels", {{kManagedBy, kReportName}}}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"apiVersion", kReportGroupVersion},
          {"kind", ns.empty() ? "ClusterPolicyReport" : "PolicyReport"},
          {"metadata", metadata},
          {"summary", {{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}}},
          {"results", Json::array()}};
}

std::map<std::string, Json> policyReports(const std::vector<AuditFinding>& findings) {
  std::map<std::string, Json> reports;
  reports[""] = emptyPolicyReport("");
  for (const AuditFinding& f : findings) {
    auto [it, added] = reports.try_emplace(f.ns);
    if (added) it->second = emptyPolicyReport(f.ns);
    Json& report = it->second;
    report["results"].push_back(resultJson(f));
    report["summary"][resultOf(f.action)] = report["summary"][resultOf(f.action)].get<int>() + 1;
  }
  return reports;
}

ReportWriter::ReportWriter(kube::ClusterAccess access, LeaseOptions lease)
    : client_(std::move(access)),
      elector_(std::make_unique<LeaseElector>(client_, std::move(lease))) {}

ReportWriter::~ReportWriter() {
  stop();
}

void ReportWriter::start() {
  thread_ = std::thread([this] { run(); });
}

void ReportWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  interrupt_.fire();
  if (thread_.joinable()) thread_.join();
  elector_->stop();
}

void ReportWriter::update(const std::vector<AuditFinding>& findings) {
  std::map<std::string, Json> reports = policyReports(findings);
  {
    std::lock_guard lock(mutex_);
    desired_ = std::move(reports);
    dirty_ = true;
    woken_ = true;
  }
  wake_.notify_all();
}

bool ReportWriter::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

ReportWriter::Crd ReportWriter::discover() {
  auto backoff = kBackoffInitial;
  for (;;) {
    const kube::Response r = client_.get(kApis, kTimeout, &interrupt_);
    if (r.canceled) return Crd::Unknown;
    if (r.error.empty() && r.status == 404) return Crd::Absent;
    if (r.ok()) {
      const Json list = Json::parse(r.body, nullptr, false);
      bool reports = false;
      if (list.is_object() && list.contains("resources") && list["resources"].is_array()) {
        for (const Json& res : list["resources"]) {
          reports = reports || (res.is_object() && res.value("name", "") == "policyreports");
        }
      }
      return reports ? Crd::Installed : Crd::Absent;
    }
    log::warn("audit: cannot tell whether the PolicyReport CRD is installed; asking again",
              {{"error", "GET " + kApis + ": " + kube::describeFailure(r)}});
    if (!sleepFor(backoff)) return Crd::Unknown;
    backoff = std::min(backoff * 2, kBackoffMax);
  }
}

void ReportWriter::run() {
  try {
    loop();
  } catch (const std::exception& e) {  // never let an exception end the process
    log::error("audit: the report writer stopped; no more PolicyReports are written here",
               {{"error", e.what()}});
  }
}

void ReportWriter::loop() {
  const Crd crd = discover();
  crd_ = crd;
  if (crd == Crd::Unknown) return;  // stopping
  if (crd == Crd::Absent) {
    log::info(std::string("audit: the PolicyReport CRD (") + kReportGroupVersion +
              ") is not installed: no PolicyReports are written (the findings are in /audit, "
              "the metrics and this log)");
    return;
  }
  log::info("audit: PolicyReports are written by the replica that holds the Lease",
            {{"lease", elector_->options().ns + "/" + elector_->options().name},
             {"identity", elector_->options().identity}});
  elector_->start();
  bool wasLeading = false;
  auto retryAt = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Woken by a new run at once; otherwise looks at the Lease every 100 ms.
    wake_.wait_for(lock, 100ms, [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) break;
    const bool leading = elector_->leading();
    if (!leading || std::chrono::steady_clock::now() < retryAt) {
      wasLeading = wasLeading && leading;
      continue;
    }
    // Nothing to write before the first run; nothing new while leading since the last write.
    if (desired_.empty() || (!dirty_ && wasLeading)) continue;
    lock.unlock();
    if (!wasLeading) {
      // What another leader wrote is unknown here: write everything again, and empty the
      // reports of namespaces whose findings went away meanwhile.
      written_.clear();
      adoptExisting();
      wasLeading = true;
    }
    const bool done = writeAll();
    lock.lock();
    if (done) {
      backoff_ = 0ms;
    } else {
      dirty_ = true;
      backoff_ = backoff_ == 0ms ? kBackoffInitial : std::min(backoff_ * 2, kBackoffMax);
      retryAt = std::chrono::steady_clock::now() + backoff_;
    }
  }
}

void ReportWriter::adoptExisting() {
  kube::ListOptions options;
  options.labelSelector = std::string(kManagedBy) + "=" + kReportName;
  options.timeout = kTimeout;
  kube::ListResult listed = kube::listAll(client_, kApis + "/policyreports", options, &interrupt_);
  for (const Json& report : listed.items) {
    const std::string* ns = kube::stringAt(report, {"metadata", "namespace"});
    const std::string* name = kube::stringAt(report, {"metadata", "name"});
    if (ns != nullptr && name != nullptr && *name == kReportName) known_.insert(*ns);
  }
  if (listed.outcome == kube::ListResult::Outcome::Failed) {
    log::warn(
        "audit: the existing PolicyReports could not be listed; those of namespaces "
        "without findings now may stay as they are",
        {{"error", listed.error}});
  }
}

// False when a write failed (to be retried after a backoff) or the Lease was lost.
bool ReportWriter::writeAll() {
  std::map<std::string, Json> reports;
  {
    std::lock_guard lock(mutex_);
    reports = desired_;
    dirty_ = false;
  }
  for (const std::string& ns : known_) {
    if (!reports.contains(ns)) reports.emplace(ns, emptyPolicyReport(ns));
  }
  for (const auto& [ns, report] : reports) {
    // A lost Lease stops the writing at once, between two reports.
    if (!elector_->leading()) return true;
    if (!writeOne(ns, report)) return false;
  }
  return true;
}

bool ReportWriter::writeOne(const std::string& ns, const Json& report) {
  std::string body = report.dump();
  const auto was = written_.find(ns);
  if (was != written_.end() && was->second == body) return true;
  const kube::Response r =
      client_.send("PATCH", reportPath(ns) + "?fieldManager=alliance-webhook&force=true", body,
                   "application/apply-patch+yaml", kTimeout, &interrupt_);
  if (r.canceled) return false;
  if (r.error.empty() && (r.status == 200 || r.status == 201)) {
    written_[ns] = std::move(body);
    if (!ns.empty()) known_.insert(ns);
    std::lock_guard lock(mutex_);
    ++writes_;
    return true;
  }
  const std::string code = r.error.empty() ? std::to_string(r.status) : "transport";
  const std::string kind = ns.empty() ? "ClusterPolicyReport" : "PolicyReport";
  {
    std::lock_guard lock(mutex_);
    ++errors_["kind=\"" + kind + "\",code=\"" + code + "\""];
  }
  log::warn(
      "audit: writing a report failed; retrying with backoff",
      {{"report", ns.empty() ? kind + " " + kReportName : kind + " " + ns + "/" + kReportName},
       {"error", "PATCH " + reportPath(ns) + ": " + kube::describeFailure(r)}});
  return false;
}

void ReportWriter::renderMetrics(std::string& out) const {
  if (crd_.load() != Crd::Installed) return;
  out +=
      "# HELP alliance_webhook_audit_leader 1 while this replica holds the Lease and writes the "
      "PolicyReports.\n";
  out += "# TYPE alliance_webhook_audit_leader gauge\n";
  out += std::string("alliance_webhook_audit_leader ") + (elector_->leading() ? "1" : "0") + "\n";
  out +=
      "# HELP alliance_webhook_audit_report_writes_total PolicyReports and ClusterPolicyReports "
      "this replica wrote.\n";
  out += "# TYPE alliance_webhook_audit_report_writes_total counter\n";
  {
    std::lock_guard lock(mutex_);
    out += "alliance_webhook_audit_report_writes_total " + std::to_string(writes_) + "\n";
  }
  out +=
      "# HELP alliance_webhook_audit_report_write_errors_total PolicyReport writes that failed "
      "(each is retried), by report kind and HTTP status (transport: no answer).\n";
  out += "# TYPE alliance_webhook_audit_report_write_errors_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [labels, n] : errors_) {
    out += "alliance_webhook_audit_report_write_errors_total{" + labels + "} " + std::to_string(n) +
           "\n";
  }
}

}  // namespace aw::webhook

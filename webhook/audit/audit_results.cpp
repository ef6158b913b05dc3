#include "webhook/audit/audit_results.h"

#include <cstdio>
#include <ctime>
#include <set>

#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

namespace {

using Json = nlohmann::json;

std::string text(const Json& object, std::initializer_list<const char*> path) {
  const Json* node = &object;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) return {};
    node = &(*node)[key];
  }
  return node->is_string() ? node->get<std::string>() : std::string();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

double unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

Json logFields(const AuditFinding& f) {
  return {{"rule", f.rule}, {"action", f.action}, {"kind", f.kind},      {"namespace", f.ns},
          {"name", f.name}, {"path", f.path},     {"message", f.message}};
}

std::string body(const AuditRun& run) {
  Json findings = Json::array();
  std::map<std::string, std::size_t> byAction{{"deny", 0}, {"warn", 0}, {"audit", 0}};
  for (const AuditFinding& f : run.findings) {
    findings.push_back(f.json);
    ++byAction[f.action];
  }
  const auto finished =
      run.started + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::duration<double>(run.seconds));
  const Json doc = {{"findings", std::move(findings)},
                    {"summary",
                     {{"objects", run.objects},
                      {"denied", run.denied},
                      {"findings", byAction},
                      {"mode", modeName(run.mode)}}},
                    {"run",
                     {{"started", rfc3339(run.started)},
                      {"finished", rfc3339(finished)},
                      {"durationSeconds", run.seconds}}}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string AuditFinding::identity() const {
  std::string id;
  for (const std::string* part : {&kind, &ns, &name, &rule, &action, &path, &message}) {
    id += *part;
    id += '\0';
  }
  return id;
}

AuditRun auditRunOf(const ScanResult& scan, std::size_t objects, Mode mode) {
  AuditRun run;
  run.objects = objects;
  run.denied = scan.denied;
  run.mode = mode;
  run.findings.reserve(scan.reported.size());
  for (const Reported& r : scan.reported) {
    const Json& object = r.source->object;
    run.findings.push_back({text(object, {"apiVersion"}), r.kind, r.ns, r.name,
                            text(object, {"metadata", "uid"}), r.finding->rule, r.action,
                            r.finding->path, r.finding->message, findingJson(r)});
  }
  return run;
}

void AuditResults::record(AuditRun run) {
  std::set<std::string> now, before;
  for (const AuditFinding& f : run.findings) now.insert(f.identity());
  std::optional<AuditRun> previous = last();
  if (previous) {
    for (const AuditFinding& f : previous->findings) before.insert(f.identity());
  }
  for (const AuditFinding& f : run.findings) {
    if (!before.contains(f.identity())) log::warn("audit: new finding", logFields(f));
  }
  if (previous) {
    for (const AuditFinding& f : previous->findings) {
      if (!now.contains(f.identity())) log::info("audit: finding gone", logFields(f));
    }
  }
  std::string rendered = body(run);
  std::lock_guard lock(mutex_);
  for (auto& [labels, n] : violations_) n = 0;
  for (const AuditFinding& f : run.findings) {
    ++violations_["rule=\"" + labelValue(f.rule) + "\",action=\"" + labelValue(f.action) +
                  "\",kind=\"" + labelValue(f.kind) + "\""];
  }
  body_ = std::move(rendered);
  last_ = std::move(run);
}

HttpResult AuditResults::http() const {
  std::lock_guard lock(mutex_);
  if (!last_) {
    return {503, Json{{"error",
                       "no audit run has completed yet: the first starts once the cluster "
                       "state is synced"}}
                         .dump() +
                     "\n"};
  }
  return {200, body_};
}

std::optional<AuditRun> AuditResults::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void AuditResults::renderMetrics(std::string& out) const {
  std::lock_guard lock(mutex_);
  out +=
      "# HELP alliance_webhook_audit_violations Findings of the last background audit run, by "
      "rule, action and kind.\n";
  out += "# TYPE alliance_webhook_audit_violations gauge\n";
  for (const auto& [labels, n] : violations_) {
    out += "alliance_webhook_audit_violations{" + labels + "} " + std::to_string(n) + "\n";
  }
  if (!last_) return;
  out +=
      "# HELP alliance_webhook_audit_last_run_timestamp_seconds When the last background audit "
      "run started.\n";
  out += "# TYPE alliance_webhook_audit_last_run_timestamp_seconds gauge\n";
  out += "alliance_webhook_audit_last_run_timestamp_seconds " +
         number(unixSeconds(last_->started)) + "\n";
  out += "# HELP alliance_webhook_audit_duration_seconds How long the last audit run took.\n";
  out += "# TYPE alliance_webhook_audit_duration_seconds gauge\n";
  out += "alliance_webhook_audit_duration_seconds " + number(last_->seconds) + "\n";
}

}  // namespace aw::webhook

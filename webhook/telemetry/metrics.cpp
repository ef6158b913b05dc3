#include "webhook/telemetry/metrics.h"

#include <cstdio>

namespace aw::webhook {

std::string labelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

Metrics::Metrics() {
  for (const char* what : {"config", "certificate"}) {
    for (const char* result : {"success", "failure"}) {
      reloads_[std::string("what=\"") + what + "\",result=\"" + result + "\""] = 0;
    }
  }
}

void Metrics::request(const std::string& endpoint, const std::string& kind,
                      const std::string& operation, const std::string& decision, double seconds) {
  std::string labels = "endpoint=\"" + labelValue(endpoint) + "\",kind=\"" + labelValue(kind) +
                       "\",operation=\"" + labelValue(operation) + "\",decision=\"" +
                       labelValue(decision) + "\"";
  std::lock_guard lock(mutex_);
  ++requests_[labels];
  Histogram& h = durations_[endpoint];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::finding(const std::string& rule, const std::string& action) {
  std::string labels = "rule=\"" + labelValue(rule) + "\",action=\"" + labelValue(action) + "\"";
  std::lock_guard lock(mutex_);
  ++findings_[labels];
}

void Metrics::reload(const std::string& what, bool ok) {
  std::string labels =
      "what=\"" + labelValue(what) + "\",result=\"" + (ok ? "success" : "failure") + "\"";
  std::lock_guard lock(mutex_);
  ++reloads_[labels];
}

void Metrics::watchRestart(const std::string& resource, const std::string& reason) {
  std::string labels =
      "resource=\"" + labelValue(resource) + "\",reason=\"" + labelValue(reason) + "\"";
  std::lock_guard lock(mutex_);
  ++watchRestarts_[labels];
}

void Metrics::addSource(std::function<void(std::string&)> source) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(source));
}

void Metrics::setMode(const std::string& mode) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
}

void Metrics::setCertificateExpiry(double unixSeconds) {
  std::lock_guard lock(mutex_);
  certExpiry_ = unixSeconds;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP alliance_webhook_build_info Build information.\n";
  out += "# TYPE alliance_webhook_build_info gauge\n";
  out += "alliance_webhook_build_info{version=\"" AW_VERSION "\"} 1\n";
  out += "# HELP alliance_webhook_mode The mode in force (1 for the active one).\n";
  out += "# TYPE alliance_webhook_mode gauge\n";
  for (const char* m : {"enforce", "audit"}) {
    out +=
        std::string("alliance_webhook_mode{mode=\"") + m + "\"} " + (mode_ == m ? "1" : "0") + "\n";
  }
  out +=
      "# HELP alliance_webhook_requests_total Admission requests by endpoint, kind, operation and "
      "decision.\n";
  out += "# TYPE alliance_webhook_requests_total counter\n";
  for (const auto& [labels, n] : requests_) {
    out += "alliance_webhook_requests_total{" + labels + "} " + std::to_string(n) + "\n";
  }
  out += "# HELP alliance_webhook_request_duration_seconds Time to answer an admission request.\n";
  out += "# TYPE alliance_webhook_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : durations_) {
    const std::string e = "endpoint=\"" + labelValue(endpoint) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "alliance_webhook_request_duration_seconds_bucket{" + e + ",le=\"" +
             number(kBuckets[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
    }
    out += "alliance_webhook_request_duration_seconds_bucket{" + e + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "alliance_webhook_request_duration_seconds_sum{" + e + "} " + number(h.sum) + "\n";
    out += "alliance_webhook_request_duration_seconds_count{" + e + "} " + std::to_string(h.count) +
           "\n";
  }
  out += "# HELP alliance_webhook_findings_total Rule findings by rule and configured action.\n";
  out += "# TYPE alliance_webhook_findings_total counter\n";
  for (const auto& [labels, n] : findings_) {
    out += "alliance_webhook_findings_total{" + labels + "} " + std::to_string(n) + "\n";
  }
  out += "# HELP alliance_webhook_reloads_total Configuration and certificate reloads by result.\n";
  out += "# TYPE alliance_webhook_reloads_total counter\n";
  for (const auto& [labels, n] : reloads_) {
    out += "alliance_webhook_reloads_total{" + labels + "} " + std::to_string(n) + "\n";
  }
  if (!watchRestarts_.empty()) {
    out +=
        "# HELP alliance_webhook_watch_restarts_total Watches of the Kubernetes API started "
        "again, by resource and reason.\n";
    out += "# TYPE alliance_webhook_watch_restarts_total counter\n";
    for (const auto& [labels, n] : watchRestarts_) {
      out += "alliance_webhook_watch_restarts_total{" + labels + "} " + std::to_string(n) + "\n";
    }
  }
  for (const auto& source : sources_) source(out);
  if (certExpiry_ > 0) {
    out +=
        "# HELP alliance_webhook_certificate_expiry_timestamp_seconds notAfter of the serving "
        "certificate.\n";
    out += "# TYPE alliance_webhook_certificate_expiry_timestamp_seconds gauge\n";
    out += "alliance_webhook_certificate_expiry_timestamp_seconds " + number(certExpiry_) + "\n";
  }
  return out;
}

}  // namespace aw::webhook

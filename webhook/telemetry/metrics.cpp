#include "webhook/telemetry/metrics.h"

#include <atomic>
#include <cstdint>

namespace aw::webhook {

namespace {
std::atomic<std::uint64_t> nextId{1};  // Metrics::id_
}  // namespace

Metrics::Metrics() : id_(nextId++) {
  for (const char* what : {"config", "certificate"}) {
    for (const char* result : {"success", "failure"}) {
      reloads_[labelSet({{"what", what}, {"result", result}})] = 0;
    }
  }
}

namespace {

// The label set of a call, built in a buffer each thread keeps.
std::string& labelBuffer() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

// The entry of `key`, made the first time it is seen (the only time the key is copied).
template <class Map>
typename Map::mapped_type& entry(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
  return it->second;
}

}  // namespace

namespace {

// The counter and histogram of the last label set a thread counted a request under, so that a
// thread answering the same kind of request again finds them without rendering the label set
// and searching the maps. `metrics` is the Metrics object's id (an address can be reused).
struct LastRequest {
  std::uint64_t metrics = 0;
  std::string endpoint, kind, operation, decision;
  unsigned long long* counter = nullptr;
  void* histogram = nullptr;
};
thread_local LastRequest tLast;

}  // namespace

void Metrics::request(std::string_view endpoint, std::string_view kind, std::string_view operation,
                      std::string_view decision, double seconds) {
  LastRequest& last = tLast;
  const bool seen = last.metrics == id_ && last.endpoint == endpoint && last.kind == kind &&
                    last.operation == operation && last.decision == decision;
  std::lock_guard lock(mutex_);
  if (!seen) {
    std::string& labels = labelBuffer();
    appendLabelSet(
        labels,
        {{"endpoint", endpoint}, {"kind", kind}, {"operation", operation}, {"decision", decision}});
    last.metrics = id_;
    last.endpoint = endpoint;
    last.kind = kind;
    last.operation = operation;
    last.decision = decision;
    last.counter = &entry(requests_, labels);  // map nodes stay where they are
    last.histogram = &entry(durations_, endpoint);
  }
  ++*last.counter;
  Histogram& h = *static_cast<Histogram*>(last.histogram);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::finding(std::string_view rule, std::string_view action) {
  std::string& labels = labelBuffer();
  appendLabelSet(labels, {{"rule", rule}, {"action", action}});
  std::lock_guard lock(mutex_);
  ++entry(findings_, labels);
}

void Metrics::reload(const std::string& what, bool ok) {
  std::string labels = labelSet({{"what", what}, {"result", ok ? "success" : "failure"}});
  std::lock_guard lock(mutex_);
  ++reloads_[labels];
}

void Metrics::watchRestart(const std::string& resource, const std::string& reason) {
  std::string labels = labelSet({{"resource", resource}, {"reason", reason}});
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
  PrometheusWriter w(out);
  w.family("alliance_webhook_build_info", "gauge", "Build information.");
  w.sample("alliance_webhook_build_info", labelSet({{"version", AW_VERSION}}), "1");
  w.family("alliance_webhook_mode", "gauge", "The mode in force (1 for the active one).");
  for (const char* m : {"enforce", "audit"}) {
    w.sample("alliance_webhook_mode", labelSet({{"mode", m}}), mode_ == m ? "1" : "0");
  }
  w.family("alliance_webhook_requests_total", "counter",
           "Admission requests by endpoint, kind, operation and decision.");
  for (const auto& [labels, n] : requests_) w.sample("alliance_webhook_requests_total", labels, n);
  renderDurations(w);
  w.family("alliance_webhook_findings_total", "counter",
           "Rule findings by rule and configured action.");
  for (const auto& [labels, n] : findings_) w.sample("alliance_webhook_findings_total", labels, n);
  w.family("alliance_webhook_reloads_total", "counter",
           "Configuration and certificate reloads by result.");
  for (const auto& [labels, n] : reloads_) w.sample("alliance_webhook_reloads_total", labels, n);
  if (!watchRestarts_.empty()) {
    w.family("alliance_webhook_watch_restarts_total", "counter",
             "Watches of the Kubernetes API started again, by resource and reason.");
    for (const auto& [labels, n] : watchRestarts_) {
      w.sample("alliance_webhook_watch_restarts_total", labels, n);
    }
  }
  for (const auto& source : sources_) source(out);
  if (certExpiry_ > 0) {
    w.family("alliance_webhook_certificate_expiry_timestamp_seconds", "gauge",
             "notAfter of the serving certificate.");
    w.sample("alliance_webhook_certificate_expiry_timestamp_seconds", "",
             PrometheusWriter::number(certExpiry_));
  }
  return out;
}

void Metrics::renderDurations(PrometheusWriter& w) const {
  const std::string_view name = "alliance_webhook_request_duration_seconds";
  w.family(name, "histogram", "Time to answer an admission request.");
  for (const auto& [endpoint, h] : durations_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      w.sample("alliance_webhook_request_duration_seconds_bucket",
               labelSet({{"endpoint", endpoint}, {"le", PrometheusWriter::number(kBuckets[i])}}),
               h.buckets[i]);
    }
    w.sample("alliance_webhook_request_duration_seconds_bucket",
             labelSet({{"endpoint", endpoint}, {"le", "+Inf"}}), h.count);
    const std::string e = labelSet({{"endpoint", endpoint}});
    w.sample("alliance_webhook_request_duration_seconds_sum", e, PrometheusWriter::number(h.sum));
    w.sample("alliance_webhook_request_duration_seconds_count", e, h.count);
  }
}

}  // namespace aw::webhook

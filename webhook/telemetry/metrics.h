// Prometheus text exposition (SPEC §7). Label sets are small and fixed by the code, so a map
// under one mutex is enough; rendering takes the same mutex.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "webhook/telemetry/prometheus.h"

namespace aw::webhook {

class Metrics {
 public:
  Metrics();

  void request(const std::string& endpoint, const std::string& kind, const std::string& operation,
               const std::string& decision, double seconds);
  void finding(const std::string& rule, const std::string& action);
  // what: config | certificate | cluster-configuration (the Secret)
  void reload(const std::string& what, bool ok);
  // A watch of the Kubernetes API ended and was started again (reason: expired, closed,
  // disconnected, error, malformed).
  void watchRestart(const std::string& resource, const std::string& reason);
  // More lines rendered with the rest (gauges another part computes when scraped). Sources
  // must outlive every render().
  void addSource(std::function<void(std::string&)> source);
  void setMode(const std::string& mode);
  void setCertificateExpiry(double unixSeconds);

  std::string render() const;  // text/plain; version=0.0.4

  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

 private:
  struct Histogram {
    std::array<unsigned long long, kBuckets.size()> buckets{};
    unsigned long long count = 0;
    double sum = 0;
  };
  void renderDurations(PrometheusWriter& w) const;  // under mutex_

  mutable std::mutex mutex_;
  std::map<std::string, unsigned long long> requests_;  // rendered label set -> count
  std::map<std::string, Histogram> durations_;          // endpoint -> histogram
  std::map<std::string, unsigned long long> findings_;
  std::map<std::string, unsigned long long> reloads_;
  std::map<std::string, unsigned long long> watchRestarts_;
  std::vector<std::function<void(std::string&)>> sources_;
  std::string mode_;
  double certExpiry_ = 0;
};

}  // namespace aw::webhook

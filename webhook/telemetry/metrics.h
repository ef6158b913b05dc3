// Prometheus text exposition (SPEC §7). Label sets are small and fixed by the code, so a map
// under one mutex is enough; rendering takes the same mutex.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/telemetry/prometheus.h"

namespace aw::webhook {

class Metrics {
 public:
  Metrics();

  // Allocate nothing once their label set has been seen on the calling thread's buffer.
  void request(std::string_view endpoint, std::string_view kind, std::string_view operation,
               std::string_view decision, double seconds);
  void finding(std::string_view rule, std::string_view action);
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

  const std::uint64_t id_;  // unique among the process's Metrics (see request())
  mutable std::mutex mutex_;
  // Rendered label set -> count; std::less<> finds a key by string_view, without a copy.
  using Counters = std::map<std::string, unsigned long long, std::less<>>;
  Counters requests_;
  std::map<std::string, Histogram, std::less<>> durations_;  // endpoint -> histogram
  Counters findings_;
  Counters reloads_;
  Counters watchRestarts_;
  std::vector<std::function<void(std::string&)>> sources_;
  std::string mode_;
  double certExpiry_ = 0;
};

}  // namespace aw::webhook

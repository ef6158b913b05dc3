// Background audit figures (issue 13): a scan of N members and N public Services, in process, as
// serve runs it (the audit's object tables filled as its reflectors fill them, then
// collect + scanObjects + auditRunOf on the snapshot's configuration). Prints:
// - the wall time of one scan (target: under 2 s for 10,000 + 10,000);
// - resident memory with the state loaded (the admission snapshot and the audit's tables) and its
//   peak during the scan (target: at most +20%);
// - admission latency (AdmissionHandler::handle, a federation checked against every member, and a
//   Service) p50/p99 without a scan, then while scans run back to back on another thread.
//
//   aw_bench_audit [N] [REQUESTS]   (default: 10000 members and Services; 2000 requests without a
//                                    scan, and as many as it takes while three scans run)
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json_view.h"
#include "rules/model/kinds.h"
#include "test/support/review.h"
#include "webhook/admission/handler.h"
#include "webhook/audit/audit_results.h"
#include "webhook/audit/audit_store.h"
#include "webhook/audit/scan.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace aw::webhook;

// Member i (up to 10,239): its own /24 pod and service ranges, apart from each other's.
Json member(int i) {
  const std::string lo = std::to_string(i % 256);
  const std::string name = "member-" + std::to_string(i);
  Json m = aw::test::federation(name, name + ".local",
                                "10." + std::to_string(140 + i / 256) + "." + lo + ".0/24",
                                "172." + std::to_string(16 + i / 256) + "." + lo + ".0/24");
  m["metadata"]["uid"] = "uid-" + name;
  m["metadata"]["resourceVersion"] = std::to_string(1000 + i);
  return m;
}

// Service i in one of 100 namespaces; every 100th has a port without a name (a finding).
Json publicService(int i) {
  Json ports = Json::array({{{"port", 443}, {"name", "https"}, {"protocol", "TCP"}}});
  if (i % 100 == 0) ports.push_back({{"port", 8080}, {"protocol", "TCP"}});
  Json s = aw::test::service("svc-" + std::to_string(i), ports);
  s["metadata"]["namespace"] = "ns-" + std::to_string(i % 100);
  s["metadata"]["uid"] = "uid-svc-" + std::to_string(i);
  s["status"] = {{"loadBalancer", Json::object()}};
  return s;
}

long statusKiB(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  }
  return -1;
}

void resetPeak() {
  std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * v.size()))];
}

struct Audit {
  AuditObjectTable federations, services;
  std::size_t objects = 0, findings = 0;

  double scanOnce(const State& state) {
    const auto start = Clock::now();
    const auto snapshot = state.current();
    Config config = snapshot->config;
    config.local = snapshot->alliance.local();
    std::vector<std::shared_ptr<const ManifestObject>> held;
    federations.collect(held);
    services.collect(held);
    std::vector<const ManifestObject*> pointers;
    pointers.reserve(held.size());
    for (const auto& o : held) pointers.push_back(o.get());
    const ScanResult scan = scanObjects(config, pointers, nullptr);
    AuditRun run = auditRunOf(scan, pointers.size(), config.mode);
    objects = run.objects;
    findings = run.findings.size();
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
};

std::vector<double> admissions(const AdmissionHandler& handler,
                               const std::vector<std::string>& bodies, int requests) {
  std::vector<double> ms;
  ms.reserve(requests);
  for (int i = 0; i < requests; ++i) {
    const auto start = Clock::now();
    handler.handle(Endpoint::Validate, bodies[i % bodies.size()]);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 10000;
  const int requests = argc > 2 ? std::stoi(argv[2]) : 2000;
  mallopt(M_ARENA_MAX, 1);  // as serve does
  std::string logError;
  aw::webhook::log::setup("json", "warn", logError);  // no line per admission
  const long baseKiB = statusKiB("VmRSS:");

  ConfigResult parsed = parseConfig(
      "localCluster: {clusterDomain: cluster-a.local, podSubnetCIDR: 10.111.0.0/16, "
      "serviceSubnetCIDR: 10.222.0.0/16}\ncluster: {watch: true}\naudit: {interval: 5m}\n",
      "bench", ".");
  State state;
  StateComposer composer(state);
  Audit audit;
  {
    std::vector<Json> federations, services;
    std::vector<aw::rules::Member> members;
    for (int i = 0; i < n; ++i) {
      federations.push_back(member(i));
      members.push_back(aw::rules::memberFromObject(
          aw::rules::KindId::IstioFederation, aw::json::Document::of(federations.back()).root()));
      services.push_back(publicService(i));
    }
    composer.addMemberSource([&members](std::vector<aw::rules::Member>& out) {
      out.insert(out.end(), members.begin(), members.end());
    });
    composer.setConfig(*parsed.config);  // the admission snapshot, with every member
    members.clear();
    audit.federations.replace(std::move(federations));
    audit.services.replace(std::move(services));
  }
  malloc_trim(0);
  const long stateKiB = statusKiB("VmRSS:");

  resetPeak();
  const double scanSeconds = audit.scanOnce(state);
  const long peakKiB = statusKiB("VmHWM:");

  Metrics metrics;
  const AdmissionHandler handler(state, metrics);
  const std::vector<std::string> bodies = {
      aw::test::review(member(n + 5)).dump(),  // checked against every member's subnets
      aw::test::review(publicService(1)).dump()};
  admissions(handler, bodies, requests / 10);  // warm-up
  const std::vector<double> idle = admissions(handler, bodies, requests);
  std::atomic<bool> stop{false};
  std::atomic<int> scans{0};
  std::thread scanner([&] {
    while (!stop.load()) {
      audit.scanOnce(state);
      ++scans;
    }
  });
  // Admissions while at least three scans run (as many requests as it takes).
  std::vector<double> busy;
  while (scans.load() < 3) {
    const std::vector<double> more = admissions(handler, bodies, requests / 10);
    busy.insert(busy.end(), more.begin(), more.end());
  }
  stop = true;
  scanner.join();

  std::printf("background audit: %d members + %d public Services (in process)\n", n, n);
  std::printf("  scan wall time          %8.3f s   (target < 2 s)  objects %zu, findings %zu\n",
              scanSeconds, audit.objects, audit.findings);
  std::printf("  RSS before loading      %8.1f MiB\n", baseKiB / 1024.0);
  std::printf("  RSS with state loaded   %8.1f MiB\n", stateKiB / 1024.0);
  std::printf(
      "  peak RSS during scan    %8.1f MiB   %+.1f%% of the loaded state (target <= +20%%)\n",
      peakKiB / 1024.0, 100.0 * (peakKiB - stateKiB) / stateKiB);
  std::printf("  admission p50 / p99     %8.3f / %.3f ms without a scan (%d requests)\n",
              percentile(idle, 50), percentile(idle, 99), requests);
  std::printf("  admission p50 / p99     %8.3f / %.3f ms during scans (%zu requests, %d scans)\n",
              percentile(busy, 50), percentile(busy, 99), busy.size(), scans.load());
  return 0;
}

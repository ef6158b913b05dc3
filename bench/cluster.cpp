// Cluster state figures (issue 6): the webhook binary against the fake API server holding N
// IstioFederations. For each N: time from start to ready (the first sync), resident memory once
// synced, and how long a change in the fake takes to reach decisions (a member that overlaps a
// newcomer is created, then deleted; the newcomer's /validate answer is polled until it flips).
// Prints one table; memory per 1,000 members is the slope between the smallest and largest N.
//
//   aw_bench_cluster [ROUNDS] [N...]      (default: 20 rounds, N = 0 1000 10000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "test/support/fake_apiserver.h"
#include "test/support/process.h"
#include "test/support/review.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using aw::test::FakeApiServer;

constexpr const char* kFederations = "/apis/deckhouse.io/v1alpha1/istiofederations";

// Member i (up to 10,239): its own /24 pod and service ranges, 10.140-10.179 and 172.16-172.55,
// apart from the local cluster's, the newcomer's and each other's.
Json member(int i) {
  const std::string hi = std::to_string(i / 256), lo = std::to_string(i % 256);
  const std::string name = "member-" + std::to_string(i);
  return aw::test::federation(name, name + ".local",
                              "10." + std::to_string(140 + i / 256) + "." + lo + ".0/24",
                              "172." + std::to_string(16 + i / 256) + "." + lo + ".0/24");
}

double percentile(std::vector<double> v, double p) {
  return aw::test::percentile(std::move(v), p);
}

struct Figures {
  int members = 0;
  double readyMs = 0;
  long rssKiB = 0;
  std::vector<double> appearMs, disappearMs;
};

Figures measure(int members, int rounds) {
  Figures out;
  out.members = members;
  FakeApiServer fake;
  fake.addCollection(kFederations, "deckhouse.io/v1alpha1", "IstioFederation");
  fake.addCollection("/apis/deckhouse.io/v1alpha1/istiomulticlusters", "deckhouse.io/v1alpha1",
                     "IstioMulticluster");
  for (int i = 0; i < members; ++i) fake.put(kFederations, member(i));

  aw::test::TempDir dir;
  aw::test::writeFile(dir / "kubeconfig", fake.kubeconfig());
  aw::test::writeFile(dir / "config.yaml",
                      "localCluster:\n  clusterDomain: cluster-a.local\n  podSubnetCIDR: "
                      "10.111.0.0/16\n  serviceSubnetCIDR: 10.222.0.0/16\ncluster:\n  watch: "
                      "true\n  kubeconfig: kubeconfig\n");
  const auto start = Clock::now();
  aw::test::ServerProcess server(
      {"--config", (dir / "config.yaml").string(), "--log-level", "warn"}, false);
  if (!server.waitReady(120s)) {
    std::fprintf(stderr, "not ready with %d members:\n%s\n", members, server.log().c_str());
    return out;
  }
  out.readyMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::this_thread::sleep_for(1s);
  out.rssKiB = aw::test::processStatus(server.pid()).rssKiB;

  const Json newcomer =
      aw::test::federation("newcomer", "newcomer.local", "10.200.0.0/16", "10.201.0.0/16");
  const std::string body = aw::test::review(newcomer).dump();
  aw::test::TlsClient::Options tls;
  tls.ca = aw::test::devCerts().ca;
  aw::test::TlsClient client(server.port(), tls);
  auto allowed = [&]() -> int {
    auto r = client.request("POST", "/validate", body);
    if (!r) return -1;
    return aw::test::responseOf(r->body).value("allowed", false) ? 1 : 0;
  };
  // Until the answer is `want`; milliseconds from `from`, or -1 after 10 s.
  auto until = [&](int want, Clock::time_point from) {
    while (Clock::now() - from < 10s) {
      if (allowed() == want) {
        return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
      }
    }
    return -1.0;
  };
  for (int r = 0; r < rounds; ++r) {
    const Json overlapping =
        aw::test::federation("overlapping", "overlapping.local", "10.200.1.0/24", "");
    auto t0 = Clock::now();
    fake.put(kFederations, overlapping);
    out.appearMs.push_back(until(0, t0));
    t0 = Clock::now();
    fake.remove(kFederations, "overlapping");
    out.disappearMs.push_back(until(1, t0));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  std::vector<int> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {0, 1000, 10000};

  std::vector<Figures> all;
  std::printf("%-8s %10s %10s %28s %28s\n", "members", "ready ms", "RSS KiB",
              "create->deny ms p50/p90/max", "delete->allow ms p50/p90/max");
  for (int n : sizes) {
    Figures f = measure(n, rounds);
    auto stats = [](const std::vector<double>& v) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f / %.2f / %.2f", percentile(v, 50), percentile(v, 90),
                    v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
      return std::string(buf);
    };
    std::printf("%-8d %10.0f %10ld %28s %28s\n", n, f.readyMs, f.rssKiB, stats(f.appearMs).c_str(),
                stats(f.disappearMs).c_str());
    std::fflush(stdout);
    all.push_back(std::move(f));
  }
  if (all.size() >= 2 && all.back().members > all.front().members) {
    const double perThousand = double(all.back().rssKiB - all.front().rssKiB) /
                               (all.back().members - all.front().members) * 1000.0;
    std::printf("memory per 1,000 members: %.0f KiB (RSS slope from %d to %d members)\n",
                perThousand, all.front().members, all.back().members);
  }
  return 0;
}

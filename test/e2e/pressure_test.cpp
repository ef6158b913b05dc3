// Connection pressure (issue 7 item 7, issue 16): connections held open without a request, or
// with part of one, must not starve live requests, and cost next to nothing while held.
// - 500 held connections (400 idle after the handshake, 100 with half a request): a live
//   client's p99 over 200 sequential requests stays within 10x of its p99 without them, and
//   holding them takes under 1% of a core (httplib 0.11.4 polled each idle connection every
//   ~11 ms: 500 took half a core; D14 in hostile_test.cpp).
// - 1,100 slow senders (more than httplib's 1,024 threads, which they used to hold all): normal
//   requests keep a p99 under 50 ms.
// - 20 concurrent 7 MiB bodies stay within the memory limit the Deployment declares; beyond the
//   body budget they get 503 with Retry-After, never an out-of-memory kill.
// The p99 of each phase is the best of five runs and the unloaded p99 counts as at least 0.5 ms:
// on this shared two-core machine, noise from other processes alone made single runs' p99 swing
// from 0.2 to 20 ms.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test/support/process.h"
#include "test/support/review.h"

namespace aw::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeld = 500;      // connections held open by the "attacker"
constexpr std::size_t kHalf = 100;      // of which this many sent half a request
constexpr std::size_t kRequests = 200;  // sequential live requests measured
constexpr double kMaxSlowdown = 10.0;   // allowed p99 ratio, loaded / unloaded
constexpr double kNoiseFloorMs = 0.5;   // the unloaded p99 counts as at least this
constexpr double kMaxHoldCpu = 0.01;    // CPU (cores) the server may spend holding them idle
constexpr int kHoldSeconds = 3;         // measured over this long (CPU time counts in 10 ms ticks)

struct Live {
  std::string error;              // empty: all requests answered correctly
  double handshakeMs = 0;         // connect + TLS handshake
  std::vector<double> latencyMs;  // one per request, in order
};

// A fresh keep-alive connection, then `count` sequential requests on it.
Live measure(int port, const std::string& body, std::size_t count, milliseconds timeout) {
  Live live;
  const auto start = Clock::now();
  TlsClient::Options o{devCerts().ca};
  o.timeout = timeout;
  TlsClient c(port, o);
  live.handshakeMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!c.connected()) {
    live.error =
        "no TLS handshake within " + std::to_string(timeout.count()) + " ms (" + c.error() + ")";
    return live;
  }
  for (std::size_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    auto r = c.request("POST", "/validate", body);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r) {
      live.error = "request " + std::to_string(i) + " not answered within " +
                   std::to_string(timeout.count()) + " ms";
      return live;
    }
    if (r->status != 200 || responseOf(r->body)["allowed"] != false) {
      live.error = "request " + std::to_string(i) + " got " + std::to_string(r->status) + ": " +
                   r->body.substr(0, 200);
      return live;
    }
    live.latencyMs.push_back(ms);
  }
  return live;
}

std::string describe(const Live& live) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "handshake %.2f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                live.handshakeMs, percentile(live.latencyMs, 50), percentile(live.latencyMs, 99),
                percentile(live.latencyMs, 100));
  return buf;
}

// The best p99 of `runs` measurements, each on a fresh connection: the machine is shared, so
// the best run is the one least disturbed by anything but what the test does.
Live bestOf(int runs, int port, const std::string& body, milliseconds timeout) {
  Live best;
  for (int i = 0; i < runs; ++i) {
    Live live = measure(port, body, kRequests, timeout);
    if (!live.error.empty()) return live;
    if (best.latencyMs.empty() || percentile(live.latencyMs, 99) < percentile(best.latencyMs, 99)) {
      best = std::move(live);
    }
  }
  return best;
}

TEST(Pressure, FiveHundredHeldConnectionsDoNotStarveLiveRequests) {
  // This program holds 500 sockets, and the server (a child) inherits the limit set here.
  const long files = raiseFileLimit(4096);
  if (files < static_cast<long>(kHeld) + 200) {
    GTEST_SKIP() << "RLIMIT_NOFILE is " << files << ": cannot hold " << kHeld << " connections";
  }
  ServerProcess server;
  const std::string body =
      review(service("web", json::array({{{"port", 80}, {"protocol", "TCP"}}}))).dump();

  // Without pressure: a warm-up connection, then the measured ones.
  ASSERT_EQ(measure(server.port(), body, 50, milliseconds(5000)).error, "");
  const Live unloaded = bestOf(5, server.port(), body, milliseconds(5000));
  ASSERT_EQ(unloaded.error, "");
  const double unloadedP99 = percentile(unloaded.latencyMs, 99);
  // Below this, a p99 on a shared machine is scheduler noise, not the server's.
  const double baselineMs = std::max(unloadedP99, kNoiseFloorMs);

  // The pressure: 500 TLS connections, handshaken; 400 send nothing, 100 half a request.
  const auto holdStart = Clock::now();
  ConnectionSwarm swarm(server.port());
  const std::size_t handshaken = swarm.open(kHeld, milliseconds(8000));
  const double setupMs =
      std::chrono::duration<double, std::milli>(Clock::now() - holdStart).count();
  swarm.send(kHeld - kHalf, kHalf,
             "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Content-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2));
  std::this_thread::sleep_for(milliseconds(200));  // let the server take them all in

  const Live loaded = bestOf(5, server.port(), body, milliseconds(3000));
  // What merely holding them costs the server: its CPU over quiet seconds.
  const double cpuBefore = processCpuSeconds(server.pid());
  std::this_thread::sleep_for(std::chrono::seconds(kHoldSeconds));
  const double holdCpu = (processCpuSeconds(server.pid()) - cpuBefore) / kHoldSeconds;
  const std::size_t stillHeld = swarm.stillOpen();
  const ProcessStatus st = processStatus(server.pid());
  const double loadedP99 = percentile(loaded.latencyMs, 99);

  std::printf("unloaded (best of 5): %s\n", describe(unloaded).c_str());
  std::printf(
      "held: %zu of %zu connections handshaken in %.0f ms (%zu sent half a request); "
      "%zu still open at the end\n",
      handshaken, kHeld, setupMs, kHalf, stillHeld);
  if (loaded.error.empty()) {
    std::printf(
        "under pressure (best of 5): %s; p99 %.1fx the unloaded one (limit %.0fx of "
        "%.3f ms)\n",
        describe(loaded).c_str(), loadedP99 / unloadedP99, kMaxSlowdown, baselineMs);
  } else {
    std::printf("under pressure: live client failed: %s\n", loaded.error.c_str());
  }
  std::printf("server while held: %ld threads, RSS %ld MiB, %.0f%% of a core to hold them\n",
              st.threads, st.rssKiB / 1024, holdCpu * 100);
  std::fflush(stdout);
  RecordProperty("unloaded_p99_ms", std::to_string(unloadedP99));
  RecordProperty("loaded_p99_ms", loaded.error.empty() ? std::to_string(loadedP99) : "starved");
  RecordProperty("hold_cpu_percent", std::to_string(holdCpu * 100));

  std::vector<std::string> failures;
  if (handshaken < kHeld) {
    failures.push_back("only " + std::to_string(handshaken) + " of " + std::to_string(kHeld) +
                       " connections got a TLS handshake within 8 s");
  }
  if (!loaded.error.empty()) {
    failures.push_back("live client under pressure: " + loaded.error);
  } else if (loadedP99 > kMaxSlowdown * baselineMs) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "p99 under pressure %.3f ms > %.0f x %.3f ms", loadedP99,
                  kMaxSlowdown, baselineMs);
    failures.push_back(buf);
  }
  // Idle connections must cost next to nothing: CPU spent on them is taken from live requests
  // (on two cores, 50% of one made single runs' live p99 2-100x worse).
  std::vector<std::string> idleCost;
  if (handshaken < kHeld / 2) {
    idleCost.push_back("not measured: too few connections held");
  } else if (holdCpu > kMaxHoldCpu) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "holding them idle took %.1f%% of a core (limit %.0f%%)",
                  holdCpu * 100, kMaxHoldCpu * 100);
    idleCost.push_back(buf);
  }
  if (failures.empty() && stillHeld < handshaken * 95 / 100) {
    // The measurement only counts if the pressure was still on while it ran.
    ADD_FAILURE() << "only " << stillHeld << " of " << handshaken
                  << " held connections were still open at the end of the measurement";
  }
  for (const std::string& f : failures) ADD_FAILURE() << f;
  for (const std::string& f : idleCost) ADD_FAILURE() << f;
  EXPECT_TRUE(server.alive()) << server.log();
}

TEST(Pressure, ElevenHundredSlowSendersDoNotSlowNormalRequests) {
  constexpr std::size_t kSlow = 1100;  // httplib had 1,024 threads: this many held them all
  const long files = raiseFileLimit(8192);
  if (files < static_cast<long>(kSlow) + 200) {
    GTEST_SKIP() << "RLIMIT_NOFILE is " << files << ": cannot hold " << kSlow << " connections";
  }
  ServerProcess server;
  const std::string body =
      review(service("web", json::array({{{"port", 80}, {"protocol", "TCP"}}}))).dump();
  ASSERT_EQ(measure(server.port(), body, 50, milliseconds(5000)).error, "");

  // 1,100 connections, each sending a request one header byte at a time.
  const auto setupStart = Clock::now();
  ConnectionSwarm slow(server.port());
  std::size_t handshaken = 0;
  for (std::size_t opened = 0; opened < kSlow; opened += 100) {
    handshaken += slow.open(100, milliseconds(8000));
  }
  slow.send(0, slow.size(), "POST /validate HTTP/1.1\r\nHost: localhost\r\n");
  const double setupMs =
      std::chrono::duration<double, std::milli>(Clock::now() - setupStart).count();
  // A byte on every connection every ~0.5 s, while normal requests are measured.
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (int i = 0; !stop.load(); ++i) {
      slow.send(0, slow.size(), "X-Slow-" + std::to_string(i % 10));
      for (int k = 0; k < 5 && !stop.load(); ++k) std::this_thread::sleep_for(milliseconds(100));
    }
  });
  const Live loaded = bestOf(3, server.port(), body, milliseconds(5000));
  stop = true;
  trickle.join();
  const std::size_t stillOpen = slow.stillOpen();
  const ProcessStatus st = processStatus(server.pid());
  const double p99 = loaded.error.empty() ? percentile(loaded.latencyMs, 99) : -1;
  std::printf(
      "%zu slow senders: %zu handshaken in %.0f ms, %zu still open after the measurement; "
      "normal requests: %s; server %ld threads, RSS %ld MiB\n",
      kSlow, handshaken, setupMs, stillOpen,
      loaded.error.empty() ? describe(loaded).c_str() : loaded.error.c_str(), st.threads,
      st.rssKiB / 1024);
  RecordProperty("slow_senders_p99_ms", std::to_string(p99));
  EXPECT_GE(handshaken, kSlow * 95 / 100) << "too few slow senders connected";
  EXPECT_GE(stillOpen, handshaken * 95 / 100) << "the pressure was not on while measuring";
  ASSERT_EQ(loaded.error, "");
  EXPECT_LT(p99, 50.0) << "normal requests' p99 with 1,100 slow senders";
  EXPECT_TRUE(server.alive()) << server.log();
}

// A valid AdmissionReview of a ServiceEntry of about `bytes` (endpoints, as a large mesh has).
std::string serviceEntryReview(std::size_t bytes) {
  json endpoints = json::array();
  json se = {{"apiVersion", "networking.istio.io/v1beta1"},
             {"kind", "ServiceEntry"},
             {"metadata", {{"name", "payments-external"}, {"namespace", "payments"}}},
             {"spec",
              {{"hosts", {"api.payments.example.com"}},
               {"ports", {{{"number", 443}, {"name", "https"}, {"protocol", "TLS"}}}},
               {"resolution", "STATIC"}}}};
  const std::size_t base = review(se).dump().size();
  std::size_t size = base;
  for (std::size_t e = 0; size < bytes; ++e) {
    json ep = {{"address", "10." + std::to_string(e / 65536 % 256) + "." +
                               std::to_string(e / 256 % 256) + "." + std::to_string(e % 256)},
               {"ports", {{"https", 8443}}},
               {"labels", {{"app", "payments"}, {"version", e % 2 ? "v2" : "v1"}}},
               {"locality", e % 3 ? "eu-west/zone-a" : "eu-west/zone-b"}};
    size += ep.dump().size() + 1;
    endpoints.push_back(std::move(ep));
  }
  se["spec"]["endpoints"] = std::move(endpoints);
  return review(se).dump();
}

// resources.limits.memory of the Deployment, in KiB (the documented limit).
long deploymentMemoryLimitKiB() {
  const std::string text = readFile(std::string(AW_SOURCE_DIR) + "/manifests/base/deployment.yaml");
  const auto limits = text.find("limits:");
  const auto memory = text.find("memory:", limits);
  if (limits == std::string::npos || memory == std::string::npos) return -1;
  const long mib = std::stol(text.substr(memory + 7));
  return text.compare(text.find_first_not_of(" 0123456789", memory + 7), 2, "Mi") == 0 ? mib * 1024
                                                                                       : -1;
}

TEST(Pressure, TwentySevenMebibyteBodiesStayWithinTheMemoryLimit) {
  constexpr int kClients = 20;
  const long limitKiB = deploymentMemoryLimitKiB();
  ASSERT_GT(limitKiB, 0) << "no memory limit in manifests/base/deployment.yaml";
  ServerProcess server;
  const std::string body = serviceEntryReview(7 * 1024 * 1024);
  const long idleKiB = processStatus(server.pid()).rssKiB;
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::atomic<bool> retryAfter{true};
  std::vector<std::thread> clients;
  const auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      TlsClient::Options o{devCerts().ca};
      o.timeout = milliseconds(30000);
      TlsClient c(server.port(), o);
      auto r = c.connected() ? c.request("POST", "/mutate", body) : std::nullopt;
      if (r && r->status == 200 && responseOf(r->body)["allowed"] == true) {
        ++ok;
      } else if (r && r->status == 503) {
        ++busy;
        if (r->headers["retry-after"].empty()) retryAfter = false;
      } else {
        ++other;
        const std::string what = !c.connected() ? c.error()
                                 : r ? std::to_string(r->status) + " " + r->body.substr(0, 200)
                                     : "no answer";
        std::printf("  other (port %d): %s\n", c.localPort(), what.c_str());
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(milliseconds(1000));
  const ProcessStatus st = processStatus(server.pid());
  std::printf(
      "%d concurrent %zu-byte ServiceEntry reviews: %d answered 200, %d got 503 (body budget), "
      "%d other, in %.1f s; server RSS idle %ld MiB, peak %ld MiB, 1 s after %ld MiB; "
      "memory limit %ld MiB\n",
      kClients, body.size(), ok.load(), busy.load(), other.load(), seconds, idleKiB / 1024,
      st.peakRssKiB / 1024, st.rssKiB / 1024, limitKiB / 1024);
  RecordProperty("peak_rss_kib", std::to_string(st.peakRssKiB));
  EXPECT_EQ(other.load(), 0) << "every request is answered: 200, or 503 beyond the budget";
  EXPECT_GE(ok.load(), 8) << "the 64 MiB budget holds 8 such bodies at once at least";
  EXPECT_TRUE(retryAfter.load()) << "a 503 without Retry-After";
#if !defined(AW_SANITIZED)
  EXPECT_LT(st.peakRssKiB, limitKiB) << "peak RSS over the Deployment's memory limit";
  EXPECT_LT(st.rssKiB, idleKiB + 32 * 1024) << "the big buffers were not given back";
#endif
  EXPECT_TRUE(server.alive()) << server.log();
}

}  // namespace
}  // namespace aw::test

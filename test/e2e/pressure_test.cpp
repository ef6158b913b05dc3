// Connection pressure (issue 7, item 7): 500 connections that are held open without a request,
// or with half of one, must not starve live requests. A live client's p99 over 200 sequential
// requests on a fresh keep-alive connection stays within 10x of its p99 without the pressure.
//
// Fails today, for two reasons (known defects, listed in hostile_test.cpp):
// - D8: httplib ties one worker thread to each connection for as long as it is open, and the
//   server has 32: the 33rd connection (the live client's too) waits for a held one to time out;
// - D14: httplib 0.11.4 checks an idle keep-alive connection every ~11 ms (poll 10 ms, sleep
//   1 ms): with enough threads to hold them all, 400 idle connections take half a core from live
//   requests. So the test also bounds the CPU the server spends merely holding them.
// Each knownDefect mark below goes once its fix is in. The p99 of each phase is the best of five
// runs and the unloaded p99 counts as at least 0.5 ms: on this shared two-core machine, noise
// from other processes alone made single runs' p99 swing from 0.2 to 20 ms.
#include <gtest/gtest.h>

#include <algorithm>
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

const std::string kIdlePolling = "D14-idle-keep-alive-connections-polled-100-times-a-second";

constexpr std::size_t kHeld = 500;      // connections held open by the "attacker"
constexpr std::size_t kHalf = 100;      // of which this many sent half a request
constexpr std::size_t kRequests = 200;  // sequential live requests measured
constexpr double kMaxSlowdown = 10.0;   // allowed p99 ratio, loaded / unloaded
constexpr double kNoiseFloorMs = 0.5;   // the unloaded p99 counts as at least this
constexpr double kMaxHoldCpu = 0.10;    // CPU (cores) the server may spend holding them idle

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
  // What merely holding them costs the server: its CPU over one quiet second.
  const double cpuBefore = processCpuSeconds(server.pid());
  std::this_thread::sleep_for(milliseconds(1000));
  const double holdCpu = processCpuSeconds(server.pid()) - cpuBefore;
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
    std::snprintf(buf, sizeof buf,
                  "holding them idle took %.0f%% of a core (limit %.0f%%): httplib polls every "
                  "idle keep-alive connection about 90 times a second",
                  holdCpu * 100, kMaxHoldCpu * 100);
    idleCost.push_back(buf);
  }
  if (failures.empty() && stillHeld < handshaken * 95 / 100) {
    // The measurement only counts if the pressure was still on while it ran.
    ADD_FAILURE() << "only " << stillHeld << " of " << handshaken
                  << " held connections were still open at the end of the measurement";
  }
  for (const std::string& f : failures) ADD_FAILURE() << f;
  knownDefect(kIdlePolling, idleCost);
  EXPECT_TRUE(server.alive()) << server.log();
}

}  // namespace
}  // namespace aw::test

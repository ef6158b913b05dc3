// SIGTERM as a rolling update sends it (issue 16, item 3): /readyz turns 503 at once, requests
// are served as before for --shutdown-delay, then every answer says Connection: close and idle
// connections are closed, and the process exits 0 once none is left, or at --shutdown-timeout.
// Short delays and timeouts here; the defaults (5 s, 20 s) would only make the tests slow.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

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

const std::string kBody =
    review(service("web", json::array({{{"port", 80}, {"protocol", "TCP"}}}))).dump();

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

TEST(Drain, SigtermUnderKeepAliveLoadLosesNoRequest) {
  ServerProcess server({"--shutdown-delay", "1s", "--shutdown-timeout", "8s"});
  constexpr int kClients = 16;
  std::atomic<bool> stop{false}, terminated{false};
  std::atomic<int> answered{0}, answeredAfterSigterm{0}, lost{0}, wrong{0}, refused{0};
  std::atomic<int> toldToClose{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      std::unique_ptr<TlsClient> c;
      while (!stop.load()) {
        if (!c) {
          c = std::make_unique<TlsClient>(server.port(), TlsClient::Options{devCerts().ca});
          if (!c->connected()) {  // the listener is closed: fine, nothing was sent
            ++refused;
            c.reset();
            std::this_thread::sleep_for(milliseconds(20));
            continue;
          }
        }
        auto r = c->request("POST", "/validate", kBody);
        if (!r) {  // sent, and never answered: what a rolling update must not do
          ++lost;
          c.reset();
          continue;
        }
        if (r->status != 200 || responseOf(r->body)["allowed"] != false) ++wrong;
        ++answered;
        if (terminated.load()) ++answeredAfterSigterm;
        if (r->headers["connection"] == "close") {
          ++toldToClose;
          c.reset();
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(500));
  const int before = answered.load();
  const auto sigterm = Clock::now();
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  terminated = true;
  // /readyz says so at once, while requests are still served.
  std::this_thread::sleep_for(milliseconds(100));
  {
    TlsClient probe(server.port(), {devCerts().ca});
    ASSERT_TRUE(probe.connected()) << probe.error();
    auto r = probe.request("GET", "/readyz", "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(r->body, "not ready: shutting down\n");
  }
  const int status = server.terminate(milliseconds(10000));
  const double exitAfter = secondsSince(sigterm);
  stop = true;
  for (std::thread& t : clients) t.join();
  std::printf(
      "%d keep-alive clients: %d answered before SIGTERM, %d after; exit %d after %.2f s; "
      "%d lost, %d told Connection: close, %d connects refused after the listener closed\n",
      kClients, before, answeredAfterSigterm.load(), status, exitAfter, lost.load(),
      toldToClose.load(), refused.load());
  EXPECT_EQ(status, 0);
  EXPECT_EQ(lost.load(), 0) << "requests sent and never answered";
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(before, 0);
  EXPECT_GT(answeredAfterSigterm.load(), 0) << "nothing was served during the shutdown delay";
  EXPECT_GE(toldToClose.load(), kClients) << "every busy connection is told to close";
  EXPECT_GE(exitAfter, 0.9) << "exited before the shutdown delay ended";
  EXPECT_LT(exitAfter, 4.0) << "nothing held it: it should exit soon after the delay";
  EXPECT_NE(server.log().find("draining: listeners closed"), std::string::npos) << server.log();
}

TEST(Drain, ASlowSenderDoesNotHoldTheExit) {
  ServerProcess server({"--shutdown-delay", "500ms", "--shutdown-timeout", "3s"});
  TlsClient slow(server.port(), {devCerts().ca});
  ASSERT_TRUE(slow.connected()) << slow.error();
  ASSERT_TRUE(slow.sendRaw("POST /validate HTTP/1.1\r\nHost: localhost\r\n"));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (int i = 0; !stop.load() && i < 200; ++i) {
      if (!slow.sendRaw("X")) break;  // one header byte every 200 ms
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  const auto sigterm = Clock::now();
  const int status = server.terminate(milliseconds(8000));
  const double exitAfter = secondsSince(sigterm);
  stop = true;
  trickle.join();
  std::printf("a slow sender at SIGTERM: exit %d after %.2f s (--shutdown-timeout 3s)\n", status,
              exitAfter);
  EXPECT_EQ(status, 0);
  EXPECT_GE(exitAfter, 2.5) << "a request still arriving was cut before the timeout";
  EXPECT_LT(exitAfter, 4.5) << "the slow sender held the exit past --shutdown-timeout";
}

TEST(Drain, IdleKeepAliveConnectionsAreClosedAfterTheDelay) {
  const int metricsPort = freePort();
  ServerProcess server({"--shutdown-delay", "500ms", "--shutdown-timeout", "10s",
                        "--metrics-listen", "127.0.0.1:" + std::to_string(metricsPort)});
  // One idle keep-alive connection on each port.
  TlsClient idle(server.port(), {devCerts().ca});
  ASSERT_TRUE(idle.connected()) << idle.error();
  ASSERT_TRUE(idle.request("GET", "/healthz", ""));
  const int plain = connectTcp(metricsPort);
  ASSERT_GE(plain, 0);
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(plain, get.data(), get.size(), MSG_NOSIGNAL), static_cast<ssize_t>(get.size()));
  char buf[512];
  ASSERT_GT(::recv(plain, buf, sizeof buf, 0), 0);

  const auto sigterm = Clock::now();
  const int status = server.terminate(milliseconds(12000));
  const double exitAfter = secondsSince(sigterm);
  std::printf("idle keep-alive connections on both ports: exit %d after %.2f s\n", status,
              exitAfter);
  EXPECT_EQ(status, 0);
  EXPECT_LT(exitAfter, 2.5) << "idle connections held the exit (--shutdown-timeout 10s)";
  EXPECT_TRUE(idle.waitClosed(milliseconds(100)));
  EXPECT_TRUE(waitTcpClosed(plain, milliseconds(100)));
  ::close(plain);
}

TEST(Drain, TheNewFlagsAreChecked) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--shutdown-delay", "30s", "--shutdown-timeout", "20s"},
       "--shutdown-delay must not be longer than --shutdown-timeout"},
      {{"--shutdown-timeout", "soon"}, "--shutdown-timeout soon: expected a duration"},
      {{"--body-budget", "1Mi"}, "--body-budget 1Mi: must hold at least one 8 MiB body"},
      {{"--body-budget", "lots"}, "--body-budget lots: expected a size"},
      {{"--max-connections", "0"}, "--max-connections 0: expected a whole number from 1"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> argv = {AW_BINARY,    "serve",
                                     "--tls-cert", devCerts().cert.string(),
                                     "--tls-key",  devCerts().key.string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const RunResult r = run(argv);
    EXPECT_EQ(r.status, 2) << flags.front();
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace aw::test

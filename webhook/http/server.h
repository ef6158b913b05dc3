// The HTTPS admission server, its plain-HTTP metrics twin, and the certificate reload. It knows
// paths, limits and TLS; what a POST body means is its owner's (webhook/cli/serve.cpp) business.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "webhook/http/connection_server.h"
#include "webhook/http/direct_post.h"
#include "webhook/http/http_stream.h"
#include "webhook/http/tls.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;
  std::string certFile;
  std::string keyFile;
  std::string clientCaFile;
  std::string metricsHost;  // empty: no metrics listener
  int metricsPort = 0;
  std::string mode;  // for the "serving" log line

  // The connection layer (webhook/connection_server.h): budgets, not thread counts.
  std::size_t maxConnections = 4096;                 // on --listen; the metrics port has 64 more
  std::size_t bodyBudget = 64 * 1024 * 1024;         // request bytes buffered, all connections
  std::size_t workers = 0;                           // threads running requests; 0: CPUs, 4 to 8
  std::size_t maxBodyBytes = 8 * 1024 * 1024;        // above: 413
  std::chrono::milliseconds shutdownDelay{5000};     // SIGTERM: served as before this long
  std::chrono::milliseconds shutdownTimeout{20000};  // SIGTERM: exit after this at the latest
  std::size_t keepAliveMaxRequests = 1000000;
  std::chrono::milliseconds reloadInterval{1000};  // how often the certificate files are looked at
};

// A POST answered by the server's owner: status and JSON body.
struct HttpReply {
  int status = 200;
  std::string body;
};
// `body` is followed by kReadablePastBody readable bytes (webhook/http/http_stream.h).
using PostHandler = std::function<HttpReply(std::string_view body)>;
using GetHandler = std::function<HttpReply()>;

class AdmissionServer {
 public:
  AdmissionServer(ServerOptions options, CertificateStore& certs, Metrics& metrics);
  ~AdmissionServer();

  // Serves POST `path` on the TLS port with `handler`, the body read to the size limit first;
  // other methods on it answer 405. Set before bind().
  void post(std::string path, PostHandler handler);
  // More that /readyz waits for: `waitingFor` returns what is missing, empty when nothing is.
  // Set before run().
  void setReadiness(std::function<std::string()> waitingFor);
  // Serves GET `path` on both ports (TLS and --metrics-listen) with `handler`'s JSON answer.
  // Set before bind().
  void get(std::string path, GetHandler handler);

  // One whole request answered as the TLS listener answers it, without sockets: by the direct
  // lane when `direct` and the lane takes it, else by httplib. For tests that compare the two.
  std::string answer(std::string_view request, bool direct);

  // Binds the ports. False with a message when a port cannot be bound.
  bool bind(std::string& error);
  // Serves until a drain ends or stop().
  void run();
  // SIGTERM: /readyz answers 503 at once; requests are served for shutdownDelay, then with
  // Connection: close while idle connections are closed; run() returns when none is left, or
  // after shutdownTimeout. Safe from any thread (the signal thread).
  void drain();
  // Stops at once (requests being processed finish first). Safe from any thread.
  void stop();

 private:
  void routes(HttpEngine& server, bool admission);
  void servePost(const std::string& path, const PostHandler& handler, HttpEngine& server);
  // Routes, limits, Keep-Alive figures and the direct lane of the TLS listener's engine.
  void configureAdmission(HttpEngine& server);
  // The POST routes again, past httplib's parser for the plain requests (direct_post.h).
  void directLane(HttpEngine& server, http::KeepAlive keepAlive);
  void reloadLoop();
  void reloadCertificate();
  std::string notReady() const;  // empty when ready

  ServerOptions options_;
  std::vector<std::pair<std::string, PostHandler>> posts_;
  std::function<std::string()> waitingFor_;
  std::vector<std::pair<std::string, GetHandler>> gets_;
  CertificateStore& certs_;
  Metrics& metrics_;
  SslCtx tls_;
  HttpEngine https_;
  HttpEngine plain_;
  std::unique_ptr<ConnectionServer> connections_;
  std::thread reloadThread_;
  std::mutex stopMutex_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::string lastCertError_;  // reload thread only
};

}  // namespace aw::webhook

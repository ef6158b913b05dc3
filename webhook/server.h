// The HTTPS admission server, its plain-HTTP metrics twin, and the reload loop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "webhook/connection_server.h"
#include "webhook/handler.h"
#include "webhook/http_stream.h"
#include "webhook/metrics.h"
#include "webhook/state.h"
#include "webhook/tls.h"

namespace aw::webhook {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;
  std::string certFile;
  std::string keyFile;
  std::string clientCaFile;
  std::string metricsHost;  // empty: no metrics listener
  int metricsPort = 0;
  std::optional<std::filesystem::path> configFile;  // reloaded when it changes
  bool auditOnly = false;

  // The connection layer (webhook/connection_server.h): budgets, not thread counts.
  std::size_t maxConnections = 4096;                 // on --listen; the metrics port has 64 more
  std::size_t bodyBudget = 64 * 1024 * 1024;         // request bytes buffered, all connections
  std::size_t workers = 0;                           // threads running requests; 0: CPUs, 4 to 8
  std::size_t maxBodyBytes = 8 * 1024 * 1024;        // above: 413
  std::chrono::milliseconds shutdownDelay{5000};     // SIGTERM: served as before this long
  std::chrono::milliseconds shutdownTimeout{20000};  // SIGTERM: exit after this at the latest
  std::size_t keepAliveMaxRequests = 1000000;
  std::chrono::milliseconds reloadInterval{1000};
};

// Parses "HOST:PORT" ("[::1]:8443" for IPv6). Returns false with a message naming the flag.
bool parseHostPort(const std::string& flag, const std::string& value, std::string& host, int& port,
                   std::string& error);

class AdmissionServer {
 public:
  // Admission requests read composer.state(); a reloaded configuration goes to the composer.
  AdmissionServer(ServerOptions options, StateComposer& composer, CertificateStore& certs,
                  Metrics& metrics);
  ~AdmissionServer();

  // More that /readyz waits for: `waitingFor` returns what is missing, empty when nothing is.
  // Set before run().
  void setReadiness(std::function<std::string()> waitingFor);
  // GET /audit (both ports) answers what `lastRun` returns: the background audit's last run.
  // Unset: 404, the audit is off. Set before bind().
  void setAuditSource(std::function<HttpResult()> lastRun);

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
  void reloadLoop();
  void reloadConfig();
  void reloadCertificate();
  std::string notReady() const;  // empty when ready

  ServerOptions options_;
  StateComposer& composer_;
  const State& state_;
  std::function<std::string()> waitingFor_;
  std::function<HttpResult()> audit_;
  CertificateStore& certs_;
  Metrics& metrics_;
  AdmissionHandler handler_;
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

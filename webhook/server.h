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

#include "webhook/handler.h"
#include "webhook/metrics.h"
#include "webhook/state.h"
#include "webhook/tls.h"

namespace httplib {
class Server;
}

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

  // One thread per open connection (idle keep-alive included), started as connections come:
  // `workers` at most (a held connection costs ~48 KiB: 1024 fit the pod's 128 MiB limit).
  std::size_t minWorkers = 4;  // kept while idle
  std::size_t workers = 1024;
  std::size_t maxBodyBytes = 8 * 1024 * 1024;  // above: 413
  int readTimeoutSeconds = 10;
  int writeTimeoutSeconds = 10;
  int keepAliveTimeoutSeconds = 10;  // idle keep-alive connections close after this
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

  // Binds the ports. False with a message when a port cannot be bound.
  bool bind(std::string& error);
  // Serves until stop(); in-flight requests finish before it returns.
  void run();
  // Safe from any thread (the signal thread).
  void stop();

 private:
  void routes(httplib::Server& server, bool admission);
  void reloadLoop();
  void reloadConfig();
  void reloadCertificate();
  std::string notReady() const;  // empty when ready

  ServerOptions options_;
  StateComposer& composer_;
  const State& state_;
  std::function<std::string()> waitingFor_;
  CertificateStore& certs_;
  Metrics& metrics_;
  AdmissionHandler handler_;
  std::unique_ptr<httplib::Server> https_;
  std::unique_ptr<httplib::Server> plain_;
  std::thread plainThread_;
  std::thread reloadThread_;
  std::mutex stopMutex_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::string lastCertError_;  // reload thread only
};

}  // namespace aw::webhook

#include "webhook/server.h"

#include <httplib.h>

#include "webhook/admission.h"
#include "webhook/file_watch.h"
#include "webhook/log.h"

namespace aw::webhook {

namespace {
constexpr const char* kJson = "application/json";

std::string statusError(int status) {
  switch (status) {
    case 404:
      return "no such path; the webhook serves POST /validate and POST /mutate";
    case 405:
      return "method not allowed; admission requests are POST";
    case 413:
      return "request body exceeds the 8 MiB limit";
    case 414:
      return "request URI too long";
    default:
      return "request could not be served (HTTP " + std::to_string(status) + ")";
  }
}
}  // namespace

bool parseHostPort(const std::string& flag, const std::string& value, std::string& host, int& port,
                   std::string& error) {
  std::string h, p;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      error = flag + " " + value + ": expected [IPV6]:PORT";
      return false;
    }
    h = value.substr(1, close - 1);
    p = value.substr(close + 2);
  } else {
    const auto colon = value.rfind(':');
    if (colon == std::string::npos) {
      error = flag + " " + value + ": expected HOST:PORT, for example 0.0.0.0:8443";
      return false;
    }
    h = value.substr(0, colon);
    p = value.substr(colon + 1);
  }
  int n = 0;
  bool ok = !p.empty() && p.size() <= 5;
  for (char c : p) ok = ok && c >= '0' && c <= '9';
  if (ok) n = std::stoi(p);
  if (!ok || n < 0 || n > 65535) {
    error = flag + " " + value + ": port must be a number from 0 to 65535";
    return false;
  }
  host = h.empty() ? "0.0.0.0" : h;
  port = n;
  return true;
}

AdmissionServer::AdmissionServer(ServerOptions options, State& state, CertificateStore& certs,
                                 Metrics& metrics)
    : options_(std::move(options)),
      state_(state),
      certs_(certs),
      metrics_(metrics),
      handler_(state, metrics) {}

AdmissionServer::~AdmissionServer() {
  stop();
  if (plainThread_.joinable()) plainThread_.join();
  if (reloadThread_.joinable()) reloadThread_.join();
}

bool AdmissionServer::ready() const {
  return state_.current() != nullptr && certs_.current() != nullptr;
}

void AdmissionServer::routes(httplib::Server& server, bool admission) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (ready()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: configuration or certificate not loaded\n", "text/plain");
    }
  });
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(errorBody(statusError(res.status)), kJson);
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(errorBody("internal error while answering; see the webhook's log"), kJson);
      });
  if (!admission) return;
  for (Endpoint e : {Endpoint::Validate, Endpoint::Mutate}) {
    const std::string path(endpointPath(e));
    server.Post(path, [this, e](const httplib::Request& req, httplib::Response& res) {
      HttpResult r = handler_.handle(e, req.body);
      res.status = r.status;
      res.set_content(std::move(r.body), kJson);
    });
    auto notAllowed = [](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_content(errorBody(statusError(405)), kJson);
    };
    server.Get(path, notAllowed);
    server.Put(path, notAllowed);
    server.Patch(path, notAllowed);
    server.Delete(path, notAllowed);
    server.Options(path, notAllowed);
  }
}

bool AdmissionServer::bind(std::string& error) {
  std::string tlsError;
  auto https = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    return configureServerContext(ctx, certs_, options_.clientCaFile, tlsError);
  });
  if (!https->is_valid()) {
    error = tlsError.empty() ? "TLS setup failed: " + opensslErrors() : tlsError;
    return false;
  }
  const std::size_t workers = options_.workers;
  https->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  https->set_keep_alive_max_count(options_.keepAliveMaxRequests);
  https->set_keep_alive_timeout(options_.keepAliveTimeoutSeconds);
  https->set_read_timeout(options_.readTimeoutSeconds, 0);
  https->set_write_timeout(options_.writeTimeoutSeconds, 0);
  https->set_payload_max_length(options_.maxBodyBytes);
  https->set_tcp_nodelay(true);
  routes(*https, true);
  if (!https->bind_to_port(options_.host, options_.port)) {
    error = "--listen " + options_.host + ":" + std::to_string(options_.port) +
            ": cannot bind (address in use or not available here)";
    return false;
  }
  https_ = std::move(https);

  if (!options_.metricsHost.empty()) {
    auto plain = std::make_unique<httplib::Server>();
    plain->new_task_queue = [] { return new httplib::ThreadPool(2); };
    plain->set_read_timeout(options_.readTimeoutSeconds, 0);
    plain->set_keep_alive_timeout(options_.keepAliveTimeoutSeconds);
    routes(*plain, false);
    if (!plain->bind_to_port(options_.metricsHost, options_.metricsPort)) {
      error = "--metrics-listen " + options_.metricsHost + ":" +
              std::to_string(options_.metricsPort) +
              ": cannot bind (address in use or not available here)";
      return false;
    }
    plain_ = std::move(plain);
  }
  return true;
}

void AdmissionServer::run() {
  if (plain_) plainThread_ = std::thread([this] { plain_->listen_after_bind(); });
  reloadThread_ = std::thread([this] { reloadLoop(); });
  log::info(
      "serving",
      {{"listen", options_.host + ":" + std::to_string(options_.port)},
       {"metrics", plain_ ? options_.metricsHost + ":" + std::to_string(options_.metricsPort) : ""},
       {"client_ca", options_.clientCaFile},
       {"mode", std::string(modeName(state_.current()->config.mode))}});
  https_->listen_after_bind();
  stop();
  if (plainThread_.joinable()) plainThread_.join();
  if (reloadThread_.joinable()) reloadThread_.join();
}

void AdmissionServer::stop() {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  if (https_) https_->stop();
  if (plain_) plain_->stop();
}

void AdmissionServer::reloadConfig() {
  ConfigResult loaded = loadConfig(*options_.configFile);
  if (!loaded.config) {
    metrics_.reload("config", false);
    log::error("configuration reload refused; the previous configuration stays in force",
               {{"error", loaded.error}});
    return;
  }
  if (options_.auditOnly) loaded.config->mode = Mode::Audit;
  metrics_.setMode(std::string(modeName(loaded.config->mode)));
  const std::string mode(modeName(loaded.config->mode));
  state_.replace(makeSnapshot(std::move(*loaded.config)));
  metrics_.reload("config", true);
  log::info("configuration reloaded", {{"file", options_.configFile->string()}, {"mode", mode}});
}

void AdmissionServer::reloadCertificate() {
  std::string error;
  std::shared_ptr<const KeyPair> pair = KeyPair::load(options_.certFile, options_.keyFile, error);
  if (!pair) {
    // Retried every interval until it succeeds; said and counted once per distinct cause.
    if (error != lastCertError_) {
      metrics_.reload("certificate", false);
      log::warn("certificate reload failed; still serving the previous certificate",
                {{"error", error}});
      lastCertError_ = error;
    }
    return;
  }
  lastCertError_.clear();
  metrics_.setCertificateExpiry(pair->notAfter());
  certs_.replace(std::move(pair));
  metrics_.reload("certificate", true);
  log::info("certificate reloaded", {{"cert", options_.certFile}});
}

void AdmissionServer::reloadLoop() {
  std::vector<std::filesystem::path> configFiles;
  if (options_.configFile) {
    configFiles = state_.current()->config.sources;
    if (configFiles.empty()) configFiles.push_back(*options_.configFile);
  }
  FileWatch configWatch(configFiles);
  FileWatch certWatch({options_.certFile, options_.keyFile});
  bool certPending = false;  // last attempt failed: retry until a load succeeds
  std::unique_lock lock(stopMutex_);
  while (!stopCv_.wait_for(lock, options_.reloadInterval, [this] { return stopping_; })) {
    lock.unlock();
    if (options_.configFile && configWatch.changed()) {
      reloadConfig();
      std::vector<std::filesystem::path> files = state_.current()->config.sources;
      if (files.empty()) files.push_back(*options_.configFile);
      if (files != configFiles) {
        configFiles = files;
        configWatch.reset(files);
      }
    }
    if (certWatch.changed() || certPending) {
      const auto before = certs_.current();
      reloadCertificate();
      certPending = certs_.current() == before;
    }
    lock.lock();
  }
}

}  // namespace aw::webhook

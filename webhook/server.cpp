#include "webhook/server.h"

#include <httplib.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

#include <deque>

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
    case 411:
      return "a request body needs Content-Length or Transfer-Encoding: chunked";
    case 413:
      return "request body exceeds the 8 MiB limit";
    case 414:
      return "request URI too long";
    case 415:
      return "the AdmissionReview must be sent as plain JSON: no Content-Encoding, no multipart";
    default:
      return "request could not be served (HTTP " + std::to_string(status) + ")";
  }
}

// httplib gives a connection a worker thread for as long as it stays open (idle keep-alive and
// half-sent requests included), so a fixed pool of N threads is starved by N held connections.
// This pool keeps `min` threads and starts another whenever a connection arrives and no thread is
// free, up to `max`; a thread idle for `idleExit` goes away again (down to `min`).
class ElasticThreadPool final : public httplib::TaskQueue {
 public:
  ElasticThreadPool(std::size_t min, std::size_t max, std::chrono::milliseconds idleExit)
      : s_(std::make_shared<Shared>()) {
    s_->min = min;
    s_->max = std::max(min, max);
    s_->idleExit = idleExit;
    std::lock_guard lock(s_->mutex);
    for (std::size_t i = 0; i < min; ++i) spawnLocked();
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(s_->mutex);
      s_->jobs.push_back(std::move(fn));
      if (s_->idle < s_->jobs.size() && s_->threads < s_->max) spawnLocked();
    }
    s_->work.notify_one();
  }

  // Runs the jobs already queued, then returns once every thread has exited.
  void shutdown() override {
    std::unique_lock lock(s_->mutex);
    s_->stopping = true;
    s_->work.notify_all();
    s_->exited.wait(lock, [this] { return s_->threads == 0; });
  }

 private:
  // Shared with the threads, which are detached: the last of them may still be returning when
  // the pool is destroyed.
  struct Shared {
    std::mutex mutex;
    std::condition_variable work, exited;
    std::deque<std::function<void()>> jobs;
    std::size_t threads = 0, idle = 0, min = 0, max = 0;
    std::chrono::milliseconds idleExit{0};
    bool stopping = false;
  };

  void spawnLocked() {
    ++s_->threads;
    std::thread([s = s_] { run(*s); }).detach();
  }

  static void run(Shared& s) {
    std::unique_lock lock(s.mutex);
    for (;;) {
      ++s.idle;
      const bool woken =
          s.work.wait_for(lock, s.idleExit, [&] { return s.stopping || !s.jobs.empty(); });
      --s.idle;
      if (!s.jobs.empty()) {
        std::function<void()> job = std::move(s.jobs.front());
        s.jobs.pop_front();
        lock.unlock();
        job();
        lock.lock();
        continue;
      }
      if (s.stopping || (!woken && s.threads > s.min)) break;
    }
    --s.threads;
    s.exited.notify_all();
  }

  std::shared_ptr<Shared> s_;
};

// Ends a connection after its last answer without losing that answer: a client still sending a
// body it was refused would otherwise get a reset, which can discard the answer unread. Sends
// FIN, then reads and drops what the client still sends, for at most 2 s (1 s of silence).
void lingeringClose(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  char buf[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) <= 0) break;
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) break;
  }
  ::shutdown(fd, SHUT_RD);
}

// Answers with `status` and closes the connection once the answer is written. For a request
// whose body is left unread (too long, of an unsupported framing or encoding, or only partly
// read): its bytes must never be taken for the next request on the connection.
void answerAndClose(const httplib::Request& req, httplib::Response& res, int status,
                    const std::string& message) {
  const int fd = req.ssl != nullptr ? SSL_get_fd(req.ssl) : -1;
  auto body = std::make_shared<std::string>(errorBody(message));
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content_provider(
      body->size(), kJson,
      [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        return sink.write(body->data() + offset, length);
      },
      // Runs once the answer is written: httplib then finds the socket closed and drops it.
      [fd](bool) {
        if (fd >= 0) lingeringClose(fd);
      });
}

}  // namespace

// httplib's default socket options add SO_REUSEPORT, which lets a second server bind the same
// port and take half its connections; SO_REUSEADDR alone allows a quick restart and nothing more.
static void exclusiveAddress(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

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

AdmissionServer::AdmissionServer(ServerOptions options, StateComposer& composer,
                                 CertificateStore& certs, Metrics& metrics)
    : options_(std::move(options)),
      composer_(composer),
      state_(composer.state()),
      certs_(certs),
      metrics_(metrics),
      handler_(composer.state(), metrics) {}

void AdmissionServer::setReadiness(std::function<std::string()> waitingFor) {
  waitingFor_ = std::move(waitingFor);
}

AdmissionServer::~AdmissionServer() {
  stop();
  if (plainThread_.joinable()) plainThread_.join();
  if (reloadThread_.joinable()) reloadThread_.join();
}

std::string AdmissionServer::notReady() const {
  if (state_.current() == nullptr || certs_.current() == nullptr) {
    return "configuration or certificate not loaded";
  }
  return waitingFor_ ? waitingFor_() : std::string();
}

void AdmissionServer::routes(httplib::Server& server, bool admission) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (const std::string missing = notReady(); missing.empty()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + missing + "\n", "text/plain");
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
    // The body is read here, not by httplib: httplib holds neither a chunked nor a decoded
    // (Content-Encoding) body to the payload limit, parses multipart and form bodies itself, and
    // reads a declared Content-Length to its end before it answers 413.
    server.Post(path, [this, e](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& read) {
      const std::size_t limit = options_.maxBodyBytes;
      const bool chunked = req.has_header("Transfer-Encoding");
      if (chunked &&
          strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") != 0) {
        return answerAndClose(req, res, 501,
                              "Transfer-Encoding " + req.get_header_value("Transfer-Encoding") +
                                  " is not supported; send chunked or a Content-Length");
      }
      if (!chunked && !req.has_header("Content-Length")) {
        res.status = 411;  // RFC 9112 6.3: no body at all; nothing left unread
        res.set_content(errorBody(statusError(411)), kJson);
        return;
      }
      if (!chunked && req.get_header_value<uint64_t>("Content-Length") > limit) {
        return answerAndClose(req, res, 413, statusError(413));
      }
      const std::string encoding = req.get_header_value("Content-Encoding");
      if ((!encoding.empty() && encoding != "identity") || req.is_multipart_form_data()) {
        return answerAndClose(req, res, 415, statusError(415));
      }
      std::string body;
      if (!chunked) body.reserve(req.get_header_value<uint64_t>("Content-Length"));
      bool tooLarge = false;
      const bool complete = read([&](const char* data, std::size_t n) {
        if (body.size() + n > limit) {
          tooLarge = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      if (tooLarge) return answerAndClose(req, res, 413, statusError(413));
      if (!complete) {
        return answerAndClose(req, res, 400, "request body could not be read (timed out or cut)");
      }
      HttpResult r = handler_.handle(e, body);
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
  const std::size_t minWorkers = options_.minWorkers, maxWorkers = options_.workers;
  https->new_task_queue = [minWorkers, maxWorkers] {
    return new ElasticThreadPool(minWorkers, maxWorkers, std::chrono::seconds(30));
  };
  https->set_keep_alive_max_count(options_.keepAliveMaxRequests);
  https->set_keep_alive_timeout(options_.keepAliveTimeoutSeconds);
  https->set_read_timeout(options_.readTimeoutSeconds, 0);
  https->set_write_timeout(options_.writeTimeoutSeconds, 0);
  https->set_payload_max_length(options_.maxBodyBytes);
  https->set_tcp_nodelay(true);
  routes(*https, true);
  https->set_socket_options(exclusiveAddress);
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
    plain->set_socket_options(exclusiveAddress);
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
  if (!(loaded.config->cluster == state_.current()->config.cluster)) {
    // The watches and their credentials are set up once: say so rather than pretend.
    log::warn(
        "the cluster block changed; restart the webhook to apply it (the rest of the "
        "configuration is reloaded)");
  }
  metrics_.setMode(std::string(modeName(loaded.config->mode)));
  const std::string mode(modeName(loaded.config->mode));
  composer_.setConfig(std::move(*loaded.config));
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

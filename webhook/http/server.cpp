#include "webhook/http/server.h"

#include <httplib.h>

#include <algorithm>

#include "webhook/base/error_body.h"
#include "webhook/base/file_watch.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

namespace {
constexpr const char* kJson = "application/json";
constexpr std::string_view kInternalError = "internal error while answering; see the webhook's log";

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
    case 408:
      return "request not received in time (headers within 10 s, the whole request within 30 s)";
    case 414:
      return "request URI too long";
    case 431:
      return "request header fields exceed 64 KiB or 100 fields";
    case 415:
      return "the AdmissionReview must be sent as plain JSON: no Content-Encoding, no multipart";
    case 503:
      return "too many request bodies in flight (memory budget); retry shortly";
    default:
      return "request could not be served (HTTP " + std::to_string(status) + ")";
  }
}

// Answers with `status` and Connection: close: for a request whose body is left unread (too
// long, or of an unsupported encoding), whose bytes must never be taken for the next request.
// The connection layer closes the connection once the answer is written, and keeps reading and
// dropping what the client still sends for a while, so a reset cannot destroy the answer.
void answerAndClose(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content(errorBody(message), kJson);
}

}  // namespace

AdmissionServer::AdmissionServer(ServerOptions options, CertificateStore& certs, Metrics& metrics)
    : options_(std::move(options)), certs_(certs), metrics_(metrics) {}

void AdmissionServer::post(std::string path, PostHandler handler) {
  posts_.emplace_back(std::move(path), std::move(handler));
}

void AdmissionServer::setReadiness(std::function<std::string()> waitingFor) {
  waitingFor_ = std::move(waitingFor);
}

void AdmissionServer::get(std::string path, GetHandler handler) {
  gets_.emplace_back(std::move(path), std::move(handler));
}

AdmissionServer::~AdmissionServer() {
  stop();
  if (reloadThread_.joinable()) reloadThread_.join();
}

std::string AdmissionServer::notReady() const {
  if (connections_ && connections_->draining()) return "shutting down";
  if (certs_.current() == nullptr) return "configuration or certificate not loaded";
  return waitingFor_ ? waitingFor_() : std::string();
}

void AdmissionServer::routes(HttpEngine& server, bool admission) {
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
  for (const auto& route : gets_) {
    server.Get(route.first,
               [handler = route.second](const httplib::Request&, httplib::Response& res) {
                 HttpReply r = handler();
                 res.status = r.status;
                 res.set_content(r.body, kJson);
               });
  }
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(errorBody(statusError(res.status)), kJson);
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        res.status = 500;
        res.set_content(errorBody(kInternalError), kJson);
      });
  if (!admission) return;
  for (const auto& [path, handler] : posts_) servePost(path, handler, server);
}

namespace {

// Reads a POST body to `limit` bytes. False when the request has been answered instead: no
// length (411), too long (413), encoded or multipart (415), cut or late (400).
// The body is read here, not by httplib: httplib holds neither a chunked nor a decoded
// (Content-Encoding) body to the payload limit, parses multipart and form bodies itself, and
// reads a declared Content-Length to its end before it answers 413.
bool readBody(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader& read, std::size_t limit, std::string& body) {
  // The connection layer has refused every other transfer coding (400) before this runs.
  const bool chunked = req.has_header("Transfer-Encoding");
  if (!chunked && !req.has_header("Content-Length")) {
    res.status = 411;  // RFC 9112 6.3: no body at all; nothing left unread
    res.set_content(errorBody(statusError(411)), kJson);
    return false;
  }
  if (!chunked && req.get_header_value<uint64_t>("Content-Length") > limit) {
    answerAndClose(res, 413, statusError(413));
    return false;
  }
  const std::string encoding = req.get_header_value("Content-Encoding");
  if ((!encoding.empty() && encoding != "identity") || req.is_multipart_form_data()) {
    answerAndClose(res, 415, statusError(415));
    return false;
  }
  if (!chunked) {
    body.reserve(req.get_header_value<uint64_t>("Content-Length") + kReadablePastBody);
  }
  bool tooLarge = false;
  const bool complete = read([&](const char* data, std::size_t n) {
    if (body.size() + n > limit) {
      tooLarge = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (tooLarge) {
    answerAndClose(res, 413, statusError(413));
  } else if (!complete) {
    answerAndClose(res, 400, "request body could not be read (timed out or cut)");
  }
  return complete && !tooLarge;
}

}  // namespace

void AdmissionServer::servePost(const std::string& path, const PostHandler& handler,
                                HttpEngine& server) {
  server.Post(path, [this, handler](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& read) {
    std::string body;
    if (!readBody(req, res, read, options_.maxBodyBytes, body)) return;
    const std::size_t size = body.size();
    body.append(kReadablePastBody, '\0');
    HttpReply r = handler(std::string_view(body).substr(0, size));
    res.status = r.status;
    res.set_content(r.body, kJson);
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

namespace {
// What the Keep-Alive answer field says: the connection layer's idle timeout.
long long idleSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(ConnectionLimits{}.idleTimeout).count();
}
}  // namespace

void AdmissionServer::configureAdmission(HttpEngine& server) {
  // httplib only parses, routes and writes here; these set what its Keep-Alive header says.
  server.set_keep_alive_max_count(options_.keepAliveMaxRequests);
  server.set_keep_alive_timeout(idleSeconds());
  server.set_payload_max_length(options_.maxBodyBytes);
  routes(server, true);
  directLane(server, {idleSeconds(), options_.keepAliveMaxRequests});
}

std::string AdmissionServer::answer(std::string_view request, bool direct) {
  HttpEngine engine;
  configureAdmission(engine);
  http::Limits limits;
  limits.maxBody = options_.maxBodyBytes;
  http::RequestHead head;
  http::Refusal refusal;
  if (http::parseHead(request, limits, head, refusal) != http::Parse::Complete) return {};
  std::string out;
  if (direct && engine.direct(request, head, false, out)) return out;
  out.clear();
  const std::string loopback = "127.0.0.1";
  BufferedStream strm(request, out, loopback, 40000, loopback, options_.port);
  bool connectionClosed = false;
  engine.process_request(strm, false, connectionClosed,
                         [](httplib::Request& req) { req.headers.erase("Expect"); });
  return out;
}

void AdmissionServer::directLane(HttpEngine& server, http::KeepAlive keepAlive) {
  server.direct = [this, keepAlive](std::string_view request, const http::RequestHead& head,
                                    bool closeConnection, std::string& out) {
    http::DirectPost post;
    if (!http::readDirectPost(request, head, post)) return false;
    const auto route = std::find_if(posts_.begin(), posts_.end(),
                                    [&post](const auto& p) { return p.first == post.path; });
    if (route == posts_.end()) return false;
    HttpReply r;
    try {
      r = route->second(post.body);
    } catch (...) {  // as the exception handler answers on httplib's lane
      r = {500, errorBody(kInternalError)};
    }
    if (r.status >= 400 && r.body.empty()) r.body = errorBody(statusError(r.status));
    http::appendResponse(out, r.status, kJson, r.body, closeConnection || post.close, keepAlive);
    return true;
  };
}

bool AdmissionServer::bind(std::string& error) {
  std::string tlsError;
  tls_ = newServerContext(certs_, options_.clientCaFile, tlsError);
  if (!tls_) {
    error = tlsError.empty() ? "TLS setup failed: " + opensslErrors() : tlsError;
    return false;
  }
  ConnectionLimits limits;
  limits.bodyBudget = options_.bodyBudget;
  limits.workers = options_.workers;
  limits.http.maxBody = options_.maxBodyBytes;
  limits.keepAliveMaxRequests = options_.keepAliveMaxRequests;
  connections_ =
      std::make_unique<ConnectionServer>(limits, [](int status, const std::string& message) {
        return errorBody(message.empty() ? statusError(status) : message);
      });
  configureAdmission(https_);
  if (!connections_->listen("--listen", options_.host, options_.port, tls_.get(), https_,
                            options_.maxConnections, error)) {
    return false;
  }
  if (!options_.metricsHost.empty()) {
    plain_.set_keep_alive_timeout(idleSeconds());
    routes(plain_, false);
    if (!connections_->listen("--metrics-listen", options_.metricsHost, options_.metricsPort,
                              nullptr, plain_, 64, error)) {
      return false;
    }
  }
  return true;
}

void AdmissionServer::run() {
  reloadThread_ = std::thread([this] { reloadLoop(); });
  log::info("serving",
            {{"listen", options_.host + ":" + std::to_string(options_.port)},
             {"metrics", options_.metricsHost.empty()
                             ? ""
                             : options_.metricsHost + ":" + std::to_string(options_.metricsPort)},
             {"client_ca", options_.clientCaFile},
             {"max_connections", options_.maxConnections},
             {"body_budget", options_.bodyBudget},
             {"mode", options_.mode}});
  connections_->run();
  stop();
  if (reloadThread_.joinable()) reloadThread_.join();
}

void AdmissionServer::drain() {
  if (connections_) connections_->drain(options_.shutdownDelay, options_.shutdownTimeout);
}

void AdmissionServer::stop() {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  if (connections_) connections_->stop();
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
  FileWatch certWatch({options_.certFile, options_.keyFile});
  bool certPending = false;  // last attempt failed: retry until a load succeeds
  std::unique_lock lock(stopMutex_);
  while (!stopCv_.wait_for(lock, options_.reloadInterval, [this] { return stopping_; })) {
    lock.unlock();
    if (certWatch.changed() || certPending) {
      const auto before = certs_.current();
      reloadCertificate();
      certPending = certs_.current() == before;
    }
    lock.lock();
  }
}

}  // namespace aw::webhook

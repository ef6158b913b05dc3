#include "test/support/fake_apiserver.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "test/support/process.h"

namespace aw::test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kJson = "application/json";
// apiserver gzips a response only from this size on (defaultGzipThresholdBytes), and never a
// watch stream.
constexpr std::size_t kGzipThreshold = 128 * 1024;
// How long a list for a resourceVersion the server has not reached yet waits for it, as the watch
// cache does before answering 504 "Too large resource version".
constexpr auto kWaitForResourceVersion = std::chrono::seconds(3);
// How often an idle watch checks that its client is still connected.
constexpr auto kPeerCheck = std::chrono::milliseconds(200);

// "Expired" for 410: apiserver's NewResourceExpired (the older "Gone" is no longer sent).
std::string reasonFor(int code) {
  static const std::map<int, std::string> reasons = {{400, "BadRequest"},
                                                     {401, "Unauthorized"},
                                                     {403, "Forbidden"},
                                                     {404, "NotFound"},
                                                     {405, "MethodNotAllowed"},
                                                     {409, "Conflict"},
                                                     {410, "Expired"},
                                                     {422, "Invalid"},
                                                     {429, "TooManyRequests"},
                                                     {500, "InternalError"},
                                                     {503, "ServiceUnavailable"},
                                                     {504, "Timeout"}};
  const auto it = reasons.find(code);
  return it == reasons.end() ? "" : it->second;  // "": StatusReasonUnknown, omitted
}

std::string quote(const std::string& s) {
  return json(s).dump();
}

// A Status body, its fields in the order apiserver writes them.
std::string statusJson(int code, const std::string& message, const json& details = nullptr,
                       const std::string& continueToken = "") {
  std::string s = R"({"kind":"Status","apiVersion":"v1","metadata":{)";
  if (!continueToken.empty()) s += R"("continue":)" + quote(continueToken);
  s += R"(},"status":"Failure","message":)" + quote(message);
  if (const std::string reason = reasonFor(code); !reason.empty()) {
    s += R"(,"reason":)" + quote(reason);
  }
  if (!details.is_null()) s += R"(,"details":)" + details.dump();
  return s + R"(,"code":)" + std::to_string(code) + "}";
}

void respond(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, kJson);
}

void fail(httplib::Response& res, int code, const std::string& message,
          const json& details = nullptr, const std::string& continueToken = "") {
  if (code == 429 || code == 504) res.set_header("Retry-After", "1");
  respond(res, code, statusJson(code, message, details, continueToken));
}

std::string eventLine(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

std::string bookmarkLine(const std::string& apiVersion, const std::string& kind, std::uint64_t rv,
                         bool initialEventsEnd = false) {
  std::string meta = R"({"resourceVersion":")" + std::to_string(rv) + '"';
  if (initialEventsEnd) meta += R"(,"annotations":{"k8s.io/initial-events-end":"true"})";
  return eventLine("BOOKMARK", R"({"kind":)" + quote(kind) + R"(,"apiVersion":)" +
                                   quote(apiVersion) + R"(,"metadata":)" + meta + "}}");
}

// strconv.ParseBool, which apiserver's query parameter decoding uses.
bool isTrue(const std::string& s) {
  return s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True";
}

template <class T>
std::optional<T> parseNumber(const std::string& s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::string param(const httplib::Request& req, const char* key) {
  return req.get_param_value(key);
}

// ---- continue tokens: base64url (unpadded) JSON {"v","rv","start"}, as apiserver encodes them
// ----

constexpr const char* kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64Url(const std::string& in) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (unsigned char c : in) {
    value = ((value << 8) | c) & 0xFFFFFF;
    for (bits += 8; bits >= 6; bits -= 6) out += kBase64Url[(value >> (bits - 6)) & 63];
  }
  if (bits > 0) out += kBase64Url[(value << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> unbase64Url(const std::string& in) {
  const std::string alphabet = kBase64Url;
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    const auto digit = alphabet.find(c);
    if (digit == std::string::npos) return std::nullopt;
    value = ((value << 6) | static_cast<unsigned>(digit)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xFF);
    }
  }
  return out;
}

// `start` is the key to resume at: the last name sent plus "\0", the next possible key.
std::string encodeContinue(std::int64_t rv, const std::string& lastName) {
  return base64Url(R"({"v":"meta.k8s.io/v1","rv":)" + std::to_string(rv) + R"(,"start":)" +
                   quote(lastName + '\0') + "}");
}

struct ContinueToken {
  std::int64_t rv = 0;  // -1: continue at the latest state (after an expired token)
  std::string after;    // list names greater than this
};

std::optional<ContinueToken> decodeContinue(const std::string& token) {
  const auto raw = unbase64Url(token);
  if (!raw) return std::nullopt;
  const json j = json::parse(*raw, nullptr, false);
  if (!j.is_object() || j.value("v", "") != "meta.k8s.io/v1" || !j.contains("rv") ||
      !j["rv"].is_number_integer() || !j.contains("start") || !j["start"].is_string()) {
    return std::nullopt;
  }
  ContinueToken t{j["rv"].get<std::int64_t>(), j["start"].get<std::string>()};
  if (t.rv == 0 || t.after.empty()) return std::nullopt;
  if (t.after.back() == '\0') t.after.pop_back();
  return t;
}

// ---- selectors: the subset a controller uses ----

struct Requirement {
  std::string key, op, value;  // op: "=", "!=", "exists", "!exists"
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> splitTerms(const std::string& s) {
  std::vector<std::string> terms;
  std::size_t start = 0;
  for (std::size_t comma; (comma = s.find(',', start)) != std::string::npos; start = comma + 1) {
    terms.push_back(trim(s.substr(start, comma - start)));
  }
  terms.push_back(trim(s.substr(start)));
  return terms;
}

std::optional<Requirement> parseEquality(const std::string& term) {
  for (const char* op : {"!=", "==", "="}) {
    if (const auto at = term.find(op); at != std::string::npos) {
      return Requirement{trim(term.substr(0, at)), op[0] == '!' ? "!=" : "=",
                         trim(term.substr(at + std::string(op).size()))};
    }
  }
  return std::nullopt;
}

struct Selector {
  std::vector<Requirement> fields, labels;

  bool empty() const { return fields.empty() && labels.empty(); }

  // An error message for a selector this fake (or apiserver) does not understand.
  std::optional<std::string> parse(const std::string& fieldSelector,
                                   const std::string& labelSelector) {
    if (!trim(fieldSelector).empty()) {
      for (const std::string& term : splitTerms(fieldSelector)) {
        auto r = parseEquality(term);
        if (!r) return "invalid selector: '" + fieldSelector + "'; can't understand '" + term + "'";
        // Custom resources support only these two; this fake does not know other kinds' fields.
        if (r->key != "metadata.name" && r->key != "metadata.namespace") {
          return "field label not supported: " + r->key;
        }
        fields.push_back(*r);
      }
    }
    if (!trim(labelSelector).empty()) {
      for (const std::string& term : splitTerms(labelSelector)) {
        if (term.find('(') != std::string::npos) {
          return "unable to parse requirement: set-based selectors are not supported by the "
                 "fake API server: " +
                 term;
        }
        if (auto r = parseEquality(term)) {
          labels.push_back(*r);
        } else if (!term.empty() && term[0] == '!') {
          labels.push_back({trim(term.substr(1)), "!exists", ""});
        } else if (!term.empty()) {
          labels.push_back({term, "exists", ""});
        } else {
          return "unable to parse requirement: empty term in '" + labelSelector + "'";
        }
      }
    }
    return std::nullopt;
  }

  bool matches(const json& object) const {
    const json& meta = object["metadata"];
    for (const Requirement& r : fields) {
      const std::string field = r.key == "metadata.name" ? "name" : "namespace";
      const std::string value = meta.value(field, "");
      if ((r.op == "=") != (value == r.value)) return false;
    }
    const json labelsJson = meta.value("labels", json::object());
    for (const Requirement& r : labels) {
      const bool has = labelsJson.contains(r.key) && labelsJson[r.key].is_string();
      const std::string value = has ? labelsJson[r.key].get<std::string>() : "";
      if (r.op == "exists" && !has) return false;
      if (r.op == "!exists" && has) return false;
      if (r.op == "=" && (!has || value != r.value)) return false;
      if (r.op == "!=" && has && value == r.value) return false;
    }
    return true;
  }
};

// ---- connections, so the destructor can cut idle keep-alive ones ----

// Every server-side TLS connection from the start of its handshake until httplib frees its SSL
// (which it does before closing the socket: an fd in here is never a reused number).
class Connections {
 public:
  void add(const void* ssl, int fd) {
    std::lock_guard lock(mutex_);
    fds_[ssl] = fd;
  }
  void remove(const void* ssl) {
    std::lock_guard lock(mutex_);
    fds_.erase(ssl);
  }
  // Wakes every worker waiting on a connection (httplib waits up to the keep-alive timeout for
  // the next request, and checks for stop() only between requests).
  void shutdownAll() {
    std::lock_guard lock(mutex_);
    for (const auto& [ssl, fd] : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  std::mutex mutex_;
  std::map<const void*, int> fds_;
};

void onSslFree(void* ssl, void* connections, CRYPTO_EX_DATA*, int, long, void*) {
  if (connections != nullptr) static_cast<Connections*>(connections)->remove(ssl);
}

int sslIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, onSslFree);
  return index;
}

int ctxIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void onSslInfo(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
  auto* connections =
      static_cast<Connections*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctxIndex()));
  if (connections == nullptr) return;
  // The info callback gets a const SSL; tagging it is what lets onSslFree untrack it.
  SSL_set_ex_data(const_cast<SSL*>(ssl), sslIndex(), connections);
  connections->add(ssl, SSL_get_fd(ssl));
}

// The client closed its end (or the connection broke): a real server's request context ends.
bool peerGone(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) != 0) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

std::string nowRfc3339() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct FakeApiServer::Impl {
  struct Event {
    std::uint64_t rv;
    std::string type;  // ADDED, MODIFIED, DELETED
    json object;
  };
  struct Collection {
    std::string path, apiVersion, kind;
    std::string group, resource, ns;  // from the path: for messages and metadata.namespace
    bool core = false;                // under /api/v1: typed list items carry no apiVersion/kind
    std::map<std::string, json> objects;
    std::vector<Event> history;  // every change since the collection was added, in RV order
  };
  struct Watch {
    std::string collection, apiVersion, kind;
    Selector selector;
    bool bookmarks = false;
    std::optional<Clock::time_point> deadline;
    Clock::time_point nextBookmark;
    std::deque<std::string> queue;  // lines not sent yet
    bool ending = false;            // takes nothing more; ends cleanly once the queue is sent
    bool dropping = false;          // cut now
    int fd = -1;
  };

  explicit Impl(Options o) : options(std::move(o)), token(options.token) {}

  void start();
  void handle(const httplib::Request& req, httplib::Response& res);
  void serve(const httplib::Request& req, httplib::Response& res);
  void serveList(const httplib::Request& req, httplib::Response& res, std::string path,
                 std::unique_lock<std::mutex>& lock);
  void serveWatch(const httplib::Request& req, httplib::Response& res, const Collection& c,
                  const std::string& name);
  void serveWrite(const httplib::Request& req, httplib::Response& res);
  bool serveDiscovery(const std::string& path, httplib::Response& res);
  bool serveAllNamespaces(const httplib::Request& req, const std::string& path,
                          httplib::Response& res);
  void materialize(const std::string& path);
  // The collection at `path`, or the one holding the object `path` names (then `name` is set).
  std::map<std::string, Collection>::iterator findCollection(const std::string& path,
                                                             std::string& name) {
    auto it = collections.find(path);
    if (it != collections.end()) return it;
    const auto slash = path.rfind('/');
    name = path.substr(slash + 1);
    return collections.find(path.substr(0, slash));
  }                                               // a templated namespaced collection, on first use
  std::string store(Collection& c, json object);  // put's work; mu held
  bool pump(Watch& w, httplib::DataSink& sink);
  bool authenticated(const httplib::Request& req);
  void broadcast(const Collection& c, const std::string& type, const json& object);
  std::map<std::string, json> stateAt(const Collection& c, std::uint64_t at) const;
  Collection& collection(const std::string& path);

  const Options options;
  Connections connections;
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mu;  // everything below
  mutable std::condition_variable cv;
  bool stopping = false;
  std::uint64_t rv = 1000;  // etcd's revision: global, never reused
  std::uint64_t compactedRv = 0;
  std::map<std::string, Collection> collections;
  std::list<std::shared_ptr<Watch>> watches;
  std::string token;
  std::size_t pageSize = 0;
  int failCount = 0, failStatus = 0;
  int failWrites = 0, failWriteStatus = 0;
  std::string failWritePath;
  struct Template {
    std::string groupVersionPath, resource, kind;
  };
  std::vector<Template> templates;
  std::chrono::milliseconds delay{0};
  bool stall = false;
  std::vector<RequestRecord> records;
  std::mt19937_64 random{std::random_device{}()};
};

void FakeApiServer::Impl::start() {
  sslIndex();  // registered before the first connection, so every SSL has the free callback
  server = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, options.cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&ctx, options.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return false;
    }
    if (options.clientCa) {
      if (SSL_CTX_load_verify_locations(&ctx, options.clientCa->c_str(), nullptr) != 1) {
        return false;
      }
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.clientCa->c_str())) {
        SSL_CTX_set_client_CA_list(&ctx, names);
      }
      // Like kube-apiserver (tls.RequestClientCert): ask for a certificate, but let the handshake
      // through without one or with one that does not verify; the request is then authenticated
      // by its token instead. The handler checks the verification result.
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
      static const unsigned char kSessionContext[] = "aw-fake-apiserver";
      SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1);
    }
    SSL_CTX_set_ex_data(&ctx, ctxIndex(), &connections);
    SSL_CTX_set_info_callback(&ctx, onSslInfo);
    return true;
  });
  if (!server->is_valid()) {
    throw std::runtime_error("FakeApiServer: TLS setup failed for " + options.cert.string());
  }
  // Every watch holds a worker for as long as it is open.
  server->new_task_queue = [] { return new httplib::ThreadPool(64); };
  // Go's server: no limit on requests per connection, 90 s idle timeout (kube-apiserver's).
  server->set_keep_alive_max_count(1000000);
  server->set_keep_alive_timeout(90);
  server->set_tcp_nodelay(true);
  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res);
  };
  server->Get(".*", handler);
  server->Post(".*", handler);
  server->Put(".*", handler);
  server->Patch(".*", handler);
  server->Delete(".*", handler);
  server->Options(".*", handler);
  port = server->bind_to_any_port("127.0.0.1");
  if (port <= 0) throw std::runtime_error("FakeApiServer: cannot bind 127.0.0.1");
  thread = std::thread([this] { server->listen_after_bind(); });
  // stop() does nothing before listening has begun: the destructor must not race it.
  while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FakeApiServer::Impl::handle(const httplib::Request& req, httplib::Response& res) {
  // httplib compresses any JSON response, a chunked one too (buffered by zlib: a watch would
  // stall), for a client that accepts it. apiserver never compresses a watch or a response
  // under kGzipThreshold, so the header is hidden from httplib and given back only for large
  // bodies. The Request is httplib's own non-const object, so changing it is well defined.
  auto& headers = const_cast<httplib::Headers&>(req.headers);
  const bool acceptsGzip =
      req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
  headers.erase("Accept-Encoding");

  std::size_t index;
  int injected = 0;
  {
    std::unique_lock lock(mu);
    index = records.size();
    RequestRecord record{req.method,
                         req.path,
                         {},
                         0,
                         req.get_header_value("Authorization"),
                         req.get_header_value("Content-Type")};
    for (const auto& [key, value] : req.params) record.query.emplace(key, value);
    records.push_back(std::move(record));
    cv.wait_for(lock, delay, [this] { return stopping; });
    if (failCount > 0) {
      --failCount;
      injected = failStatus;
    } else if (req.method != "GET" && failWrites > 0 &&
               req.path.find(failWritePath) != std::string::npos) {
      --failWrites;
      injected = failWriteStatus;
      if (injected == 0) {
        cv.wait_for(lock, std::chrono::seconds(11), [this] { return stopping; });
        injected = 504;
      }
    }
  }
  if (injected != 0) {
    fail(res, injected, "injected failure (HTTP " + std::to_string(injected) + ")",
         injected == 429 ? json{{"retryAfterSeconds", 1}} : json(nullptr));
  } else if (!authenticated(req)) {
    fail(res, 401, "Unauthorized");
  } else if (req.method != "GET") {
    serveWrite(req, res);
  } else {
    serve(req, res);
  }
  if (acceptsGzip && res.body.size() >= kGzipThreshold) headers.emplace("Accept-Encoding", "gzip");
  std::lock_guard lock(mu);
  records[index].status = res.status;
}

bool FakeApiServer::Impl::authenticated(const httplib::Request& req) {
  std::string want;
  {
    std::lock_guard lock(mu);
    want = token;
  }
  if (want.empty()) return true;
  // kube-apiserver tries the client certificate first, then the bearer token.
  if (options.clientCa && req.ssl != nullptr && SSL_get0_peer_certificate(req.ssl) != nullptr &&
      SSL_get_verify_result(req.ssl) == X509_V_OK) {
    return true;
  }
  // As apiserver's bearer token authenticator: trimmed, scheme case-insensitive, split on spaces.
  const std::string auth = trim(req.get_header_value("Authorization"));
  const auto space = auth.find(' ');
  if (space == std::string::npos) return false;
  std::string scheme = auth.substr(0, space);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  const std::string rest = auth.substr(space + 1);
  return scheme == "bearer" && rest.substr(0, rest.find(' ')) == want;
}

void FakeApiServer::Impl::serve(const httplib::Request& req, httplib::Response& res) {
  std::unique_lock lock(mu);
  std::string path = req.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (serveDiscovery(path, res) || serveAllNamespaces(req, path, res)) return;
  materialize(path);
  std::string name;
  auto it = findCollection(path, name);
  if (it == collections.end() || (it->first != path && name.empty())) {
    return fail(res, 404, "the server could not find the requested resource", json::object());
  }
  const Collection& c = it->second;
  if (isTrue(param(req, "watch"))) return serveWatch(req, res, c, name);
  if (name.empty()) return serveList(req, res, c.path, lock);
  if (const auto object = c.objects.find(name); object != c.objects.end()) {
    return respond(res, 200, object->second.dump());
  }
  json details = {{"name", name}, {"kind", c.resource}};
  if (!c.group.empty()) details["group"] = c.group;
  fail(res, 404,
       (c.group.empty() ? c.resource : c.resource + "." + c.group) + " \"" + name + "\" not found",
       details);
}

std::map<std::string, json> FakeApiServer::Impl::stateAt(const Collection& c,
                                                         std::uint64_t at) const {
  std::map<std::string, json> state;
  for (const Event& e : c.history) {
    if (e.rv > at) break;
    const std::string name = e.object["metadata"]["name"];
    if (e.type == "DELETED") {
      state.erase(name);
    } else {
      state[name] = e.object;
    }
  }
  return state;
}

// `path` (a copy) names a collection that exists now; it is looked up again after any wait (the
// lock is released meanwhile, and the collection may be removed).
void FakeApiServer::Impl::serveList(const httplib::Request& req, httplib::Response& res,
                                    std::string path, std::unique_lock<std::mutex>& lock) {
  Selector selector;
  if (auto error = selector.parse(param(req, "fieldSelector"), param(req, "labelSelector"))) {
    return fail(res, 400, *error);
  }
  std::size_t limit = 0;
  if (const std::string l = param(req, "limit"); !l.empty()) {
    const auto parsed = parseNumber<long long>(l);
    if (!parsed) return fail(res, 400, "invalid limit: " + l);
    limit = *parsed > 0 ? static_cast<std::size_t>(*parsed) : 0;
  }
  if (limit > 0 && pageSize > 0) limit = std::min(limit, pageSize);

  const std::string continueParam = param(req, "continue");
  const std::string rvParam = param(req, "resourceVersion");
  std::uint64_t at = rv;  // the snapshot served
  std::string after;      // names up to this one were on earlier pages
  if (!continueParam.empty()) {
    if (!rvParam.empty() && rvParam != "0") {
      return fail(res, 400, "specifying resource version is not allowed when using continue");
    }
    const auto cont = decodeContinue(continueParam);
    if (!cont || cont->rv > static_cast<std::int64_t>(rv) || cont->rv < -1) {
      return fail(res, 400, "invalid continue token: continue key is not valid");
    }
    after = cont->after;
    if (cont->rv >= 0 && static_cast<std::uint64_t>(cont->rv) < compactedRv) {
      // etcd3 store's handleCompactedErrorForPaging: 410, and a token (rv -1) that continues
      // the list at the latest state for a client that accepts an inconsistent list.
      return fail(res, 410,
                  "The provided continue parameter is too old to display a consistent list "
                  "result. You can start a new list without the continue parameter, or use the "
                  "continue token in this response to retrieve the remainder of the results. "
                  "Continuing with the provided token results in an inconsistent list - objects "
                  "that were created, modified, or deleted between the time the first chunk was "
                  "returned and now may show up in the list.",
                  nullptr, encodeContinue(-1, after));
    }
    if (cont->rv > 0) at = static_cast<std::uint64_t>(cont->rv);
  } else if (!rvParam.empty() && rvParam != "0") {
    const auto want = parseNumber<std::uint64_t>(rvParam);
    if (!want) return fail(res, 400, "invalid resource version: " + rvParam);
    if (*want > rv &&
        !cv.wait_for(lock, kWaitForResourceVersion, [&] { return stopping || rv >= *want; })) {
      return fail(res, 504,
                  "Too large resource version: " + rvParam + ", current: " + std::to_string(rv),
                  {{"causes", json::array({{{"reason", "ResourceVersionTooLarge"},
                                            {"message", "Too large resource version"}}})},
                   {"retryAfterSeconds", 1}});
    }
    if (param(req, "resourceVersionMatch") == "Exact") {
      if (*want < compactedRv) {
        return fail(res, 410, "The resourceVersion for the provided list is too old.");
      }
      at = *want;
    } else {
      at = rv;  // NotOlderThan (the default): the latest state is not older
    }
  }

  const auto found = collections.find(path);
  if (found == collections.end()) {
    return fail(res, 404, "the server could not find the requested resource", json::object());
  }
  const Collection& c = found->second;
  std::map<std::string, json> past;
  const std::map<std::string, json>& state = at == rv ? c.objects : (past = stateAt(c, at));
  std::vector<const json*> items;
  for (auto it = after.empty() ? state.begin() : state.upper_bound(after); it != state.end();
       ++it) {
    if (selector.matches(it->second)) items.push_back(&it->second);
  }
  std::string meta = R"({"resourceVersion":")" + std::to_string(at) + '"';
  if (limit > 0 && items.size() > limit) {
    meta += R"(,"continue":)" +
            quote(encodeContinue(static_cast<std::int64_t>(at),
                                 (*items[limit - 1])["metadata"]["name"].get<std::string>()));
    // apiserver counts the rest only when no selector has to filter it.
    if (selector.empty()) {
      meta += R"(,"remainingItemCount":)" + std::to_string(items.size() - limit);
    }
    items.resize(limit);
  }
  std::string body = R"({"kind":)" + quote(c.kind + "List") + R"(,"apiVersion":)" +
                     quote(c.apiVersion) + R"(,"metadata":)" + meta + R"(},"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body += ',';
    if (c.core) {
      json item = *items[i];
      item.erase("apiVersion");
      item.erase("kind");
      body += item.dump();
    } else {
      body += items[i]->dump();
    }
  }
  respond(res, 200, body + "]}");
}

void FakeApiServer::Impl::serveWatch(const httplib::Request& req, httplib::Response& res,
                                     const Collection& c, const std::string& name) {
  auto w = std::make_shared<Watch>();
  w->collection = c.path;
  w->apiVersion = c.apiVersion;
  w->kind = c.kind;
  if (auto error = w->selector.parse(param(req, "fieldSelector"), param(req, "labelSelector"))) {
    return fail(res, 400, *error);
  }
  // GET .../NAME?watch=true: the deprecated single-object watch, a name selector.
  if (!name.empty()) w->selector.fields.push_back({"metadata.name", "=", name});
  w->bookmarks = isTrue(param(req, "allowWatchBookmarks"));
  if (const std::string t = param(req, "timeoutSeconds"); !t.empty()) {
    const auto seconds = parseNumber<long long>(t);
    if (!seconds) return fail(res, 400, "invalid timeoutSeconds: " + t);
    if (*seconds > 0) w->deadline = Clock::now() + std::chrono::seconds(*seconds);
  }
  const std::string rvParam = param(req, "resourceVersion");
  const bool sendInitialEvents = isTrue(param(req, "sendInitialEvents"));
  if (rvParam.empty() || rvParam == "0" || sendInitialEvents) {
    // The current state as synthetic ADDED events (each object at its own resourceVersion).
    for (const auto& [n, object] : c.objects) {
      if (w->selector.matches(object)) w->queue.push_back(eventLine("ADDED", object.dump()));
    }
    if (sendInitialEvents && w->bookmarks) {
      w->queue.push_back(bookmarkLine(c.apiVersion, c.kind, rv, true));
    }
  } else {
    const auto from = parseNumber<std::uint64_t>(rvParam);
    if (!from) return fail(res, 400, "invalid resource version: " + rvParam);
    if (*from < compactedRv) {
      const std::string status = statusJson(
          410, "too old resource version: " + rvParam + " (" + std::to_string(compactedRv) + ")");
      if (options.watchTooOldAsHttp410) return respond(res, 410, status);
      // The watch cache has parsed the request: errors now come as an ERROR event on a 200.
      w->queue.push_back(eventLine("ERROR", status));
      w->ending = true;
    } else {
      for (const Event& e : c.history) {
        if (e.rv > *from && w->selector.matches(e.object)) {
          w->queue.push_back(eventLine(e.type, e.object.dump()));
        }
      }
    }
  }
  w->nextBookmark = Clock::now() + options.bookmarkInterval;
  w->fd = req.ssl != nullptr ? SSL_get_fd(req.ssl) : -1;
  watches.push_back(w);
  cv.notify_all();
  res.status = 200;
  res.set_chunked_content_provider(
      kJson, [this, w](std::size_t, httplib::DataSink& sink) { return pump(*w, sink); },
      [this, w](bool) {
        std::lock_guard lock(mu);
        watches.remove(w);
        cv.notify_all();
      });
}

// httplib calls this until it returns false (the connection is then closed without the last
// chunk: a cut stream) or calls sink.done() (the last chunk: a clean end). One line per call, the
// lock not held while writing, so a slow client holds up nobody else.
bool FakeApiServer::Impl::pump(Watch& w, httplib::DataSink& sink) {
  std::unique_lock lock(mu);
  for (;;) {
    if (stopping || w.dropping) return false;
    const auto now = Clock::now();
    auto wake = now + kPeerCheck;
    if (!stall) {
      if (!w.queue.empty()) {
        const std::string line = std::move(w.queue.front());
        w.queue.pop_front();
        lock.unlock();
        return sink.write(line.data(), line.size());
      }
      if (w.ending) {
        lock.unlock();
        sink.done();
        return true;
      }
      if (w.deadline && now >= *w.deadline) {
        w.ending = true;  // timeoutSeconds: a clean end
        continue;
      }
      if (w.bookmarks && options.bookmarkInterval.count() > 0) {
        if (now >= w.nextBookmark) {
          w.queue.push_back(bookmarkLine(w.apiVersion, w.kind, rv));
          w.nextBookmark = now + options.bookmarkInterval;
          continue;
        }
        wake = std::min(wake, w.nextBookmark);
      }
      if (w.deadline) wake = std::min(wake, *w.deadline);
    }
    if (peerGone(w.fd)) return false;
    cv.wait_until(lock, wake);
  }
}

void FakeApiServer::Impl::broadcast(const Collection& c, const std::string& type,
                                    const json& object) {
  const std::string line = eventLine(type, object.dump());
  for (const auto& w : watches) {
    if (w->collection == c.path && !w->ending && w->selector.matches(object)) {
      w->queue.push_back(line);
    }
  }
  cv.notify_all();  // the watches, and any list waiting for this resourceVersion
}

FakeApiServer::Impl::Collection& FakeApiServer::Impl::collection(const std::string& path) {
  const auto it = collections.find(path);
  if (it == collections.end()) throw std::invalid_argument("FakeApiServer: no collection " + path);
  return it->second;
}

// ---- the public interface ----

FakeApiServer::FakeApiServer() : FakeApiServer(Options{}) {}

FakeApiServer::FakeApiServer(Options options) {
  if (options.cert.empty()) options.cert = devCerts().cert;
  if (options.key.empty()) options.key = devCerts().key;
  impl_ = std::make_unique<Impl>(std::move(options));
  impl_->start();
}

FakeApiServer::~FakeApiServer() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->server->stop();
  impl_->connections.shutdownAll();
  impl_->thread.join();
}

int FakeApiServer::port() const {
  return impl_->port;
}

std::string FakeApiServer::url() const {
  return "https://127.0.0.1:" + std::to_string(port());
}

std::string FakeApiServer::kubeconfig(const std::string& token) const {
  return "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
         "clusters:\n- name: fake\n  cluster:\n    server: " +
         url() + "\n    certificate-authority: " + devCerts().ca.string() +
         "\nusers:\n- name: webhook\n  user:\n    token: " + token +
         "\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: webhook\n";
}

void FakeApiServer::addCollection(const std::string& path, const std::string& apiVersion,
                                  const std::string& kind) {
  removeCollection(path);  // a second add starts over, as deleting and recreating a CRD does
  Impl::Collection c;
  c.path = path;
  c.apiVersion = apiVersion;
  c.kind = kind;
  c.core = path.rfind("/api/", 0) == 0;
  // /api/v1[/namespaces/NS]/RESOURCE or /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE
  std::vector<std::string> parts;
  for (std::size_t start = 1, slash; start <= path.size(); start = slash + 1) {
    slash = std::min(path.find('/', start), path.size());
    parts.push_back(path.substr(start, slash - start));
  }
  if (!c.core && parts.size() > 1) c.group = parts[1];
  c.resource = parts.back();
  const std::size_t first = c.core ? 2 : 3;
  if (parts.size() == first + 3 && parts[first] == "namespaces") c.ns = parts[first + 1];
  std::lock_guard lock(impl_->mu);
  impl_->collections[path] = std::move(c);
}

void FakeApiServer::removeCollection(const std::string& path) {
  std::lock_guard lock(impl_->mu);
  impl_->collections.erase(path);
  for (const auto& w : impl_->watches) {
    if (w->collection == path) w->ending = true;
  }
  impl_->cv.notify_all();
}

std::string FakeApiServer::put(const std::string& collection, json object) {
  std::lock_guard lock(impl_->mu);
  Impl::Collection& c = impl_->collection(collection);
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object() ||
      !object["metadata"].contains("name") || !object["metadata"]["name"].is_string()) {
    throw std::invalid_argument("FakeApiServer::put: the object has no metadata.name");
  }
  return impl_->store(c, std::move(object));
}

std::string FakeApiServer::Impl::store(Collection& c, json object) {
  json& meta = object["metadata"];
  const std::string name = meta["name"];
  const auto old = c.objects.find(name);
  if (old == c.objects.end()) {
    if (!meta.contains("uid")) {
      char uid[40];
      const std::uint64_t a = random(), b = random();
      std::snprintf(uid, sizeof uid, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                    static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFF),
                    static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3FFF)),
                    static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
      meta["uid"] = uid;
    }
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = nowRfc3339();
  } else {
    for (const char* key : {"uid", "creationTimestamp"}) {
      if (!meta.contains(key) && old->second["metadata"].contains(key)) {
        meta[key] = old->second["metadata"][key];
      }
    }
  }
  if (!c.ns.empty() && !meta.contains("namespace")) meta["namespace"] = c.ns;
  const std::uint64_t at = ++rv;
  meta["resourceVersion"] = std::to_string(at);
  object["apiVersion"] = c.apiVersion;
  object["kind"] = c.kind;
  const std::string type = old == c.objects.end() ? "ADDED" : "MODIFIED";
  c.objects[name] = object;
  c.history.push_back({at, type, object});
  broadcast(c, type, object);
  return std::to_string(at);
}

std::string FakeApiServer::remove(const std::string& collection, const std::string& name) {
  std::lock_guard lock(impl_->mu);
  Impl::Collection& c = impl_->collection(collection);
  const auto it = c.objects.find(name);
  if (it == c.objects.end()) return "";
  json object = std::move(it->second);
  c.objects.erase(it);
  const std::uint64_t rv = ++impl_->rv;
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  c.history.push_back({rv, "DELETED", object});
  impl_->broadcast(c, "DELETED", object);
  return std::to_string(rv);
}

json FakeApiServer::get(const std::string& collection, const std::string& name) const {
  std::lock_guard lock(impl_->mu);
  const auto c = impl_->collections.find(collection);
  if (c == impl_->collections.end()) return nullptr;
  const auto it = c->second.objects.find(name);
  return it == c->second.objects.end() ? json(nullptr) : it->second;
}

std::string FakeApiServer::resourceVersion() const {
  std::lock_guard lock(impl_->mu);
  return std::to_string(impl_->rv);
}

void FakeApiServer::setToken(std::string token) {
  std::lock_guard lock(impl_->mu);
  impl_->token = std::move(token);
}

void FakeApiServer::setPageSize(std::size_t max) {
  std::lock_guard lock(impl_->mu);
  impl_->pageSize = max;
}

void FakeApiServer::compact() {
  std::lock_guard lock(impl_->mu);
  impl_->compactedRv = impl_->rv;
}

void FakeApiServer::failNext(int count, int status) {
  std::lock_guard lock(impl_->mu);
  impl_->failCount = count;
  impl_->failStatus = status;
}

void FakeApiServer::dropWatches() {
  std::lock_guard lock(impl_->mu);
  for (const auto& w : impl_->watches) w->dropping = true;
  impl_->cv.notify_all();
}

void FakeApiServer::endWatches() {
  std::lock_guard lock(impl_->mu);
  for (const auto& w : impl_->watches) w->ending = true;
  impl_->cv.notify_all();
}

void FakeApiServer::sendWatchError410() {
  std::lock_guard lock(impl_->mu);
  // What the etcd watch says when compaction passes it (interpretWatchError).
  const std::string line =
      eventLine("ERROR", statusJson(410, "The resourceVersion for the provided watch is too old."));
  for (const auto& w : impl_->watches) {
    if (w->ending) continue;
    w->queue.push_back(line);
    w->ending = true;
  }
  impl_->cv.notify_all();
}

void FakeApiServer::sendRaw(const std::string& line) {
  std::lock_guard lock(impl_->mu);
  for (const auto& w : impl_->watches) {
    if (!w->ending) w->queue.push_back(line);
  }
  impl_->cv.notify_all();
}

void FakeApiServer::sendBookmarks() {
  std::lock_guard lock(impl_->mu);
  for (const auto& w : impl_->watches) {
    if (w->bookmarks && !w->ending) {
      w->queue.push_back(bookmarkLine(w->apiVersion, w->kind, impl_->rv));
    }
  }
  impl_->cv.notify_all();
}

void FakeApiServer::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = delay;
}

void FakeApiServer::setWatchStall(bool stall) {
  std::lock_guard lock(impl_->mu);
  impl_->stall = stall;
  impl_->cv.notify_all();
}

std::vector<FakeApiServer::RequestRecord> FakeApiServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->records;
}

int FakeApiServer::openWatches() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<int>(impl_->watches.size());
}

bool FakeApiServer::waitForWatches(int count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout,
                            [&] { return static_cast<int>(impl_->watches.size()) >= count; });
}

// ---- writes: the background audit's Lease (POST, PUT) and PolicyReports (server-side apply) ----

void FakeApiServer::Impl::materialize(const std::string& path) {
  for (const Template& t : templates) {
    const std::string prefix = t.groupVersionPath + "/namespaces/";
    if (path.rfind(prefix, 0) != 0) continue;
    const std::string rest = path.substr(prefix.size());  // NS/RESOURCE[/NAME]
    const auto slash = rest.find('/');
    if (slash == std::string::npos || slash == 0) continue;
    const std::string ns = rest.substr(0, slash);
    std::string tail = rest.substr(slash + 1);
    tail = tail.substr(0, tail.find('/'));
    if (tail != t.resource) continue;
    const std::string collectionPath = prefix + ns + "/" + t.resource;
    if (collections.contains(collectionPath)) return;
    Collection c;
    c.path = collectionPath;
    c.apiVersion = t.groupVersionPath.substr(std::string("/apis/").size());
    c.kind = t.kind;
    c.group = c.apiVersion.substr(0, c.apiVersion.find('/'));
    c.resource = t.resource;
    c.ns = ns;
    collections[collectionPath] = std::move(c);
    return;
  }
}

bool FakeApiServer::Impl::serveDiscovery(const std::string& path, httplib::Response& res) {
  // /apis/GROUP/VERSION: three segments.
  if (path.rfind("/apis/", 0) != 0 || std::count(path.begin(), path.end(), '/') != 3) return false;
  json resources = json::array();
  std::set<std::string> seen;
  auto add = [&](const std::string& resource, const std::string& kind, bool namespaced) {
    if (!seen.insert(resource).second) return;
    resources.push_back(
        {{"name", resource},
         {"singularName", ""},
         {"namespaced", namespaced},
         {"kind", kind},
         {"verbs", json::array({"get", "list", "watch", "create", "update", "patch"})}});
  };
  for (const Template& t : templates) {
    if (t.groupVersionPath == path) add(t.resource, t.kind, true);
  }
  for (const auto& [p, c] : collections) {
    if (p.rfind(path + "/", 0) == 0) add(c.resource, c.kind, !c.ns.empty());
  }
  if (resources.empty()) {
    fail(res, 404, "the server could not find the requested resource", json::object());
    return true;
  }
  respond(res, 200,
          json{{"kind", "APIResourceList"},
               {"apiVersion", "v1"},
               {"groupVersion", path.substr(std::string("/apis/").size())},
               {"resources", resources}}
              .dump());
  return true;
}

bool FakeApiServer::Impl::serveAllNamespaces(const httplib::Request& req, const std::string& path,
                                             httplib::Response& res) {
  for (const Template& t : templates) {
    if (path != t.groupVersionPath + "/" + t.resource) continue;
    Selector selector;
    if (auto error = selector.parse(param(req, "fieldSelector"), param(req, "labelSelector"))) {
      fail(res, 400, *error);
      return true;
    }
    json items = json::array();
    for (const auto& [p, c] : collections) {
      if (c.resource != t.resource || c.ns.empty() || p.rfind(t.groupVersionPath, 0) != 0) continue;
      for (const auto& [name, object] : c.objects) {
        if (selector.matches(object)) items.push_back(object);
      }
    }
    respond(res, 200,
            json{{"kind", t.kind + "List"},
                 {"apiVersion", t.groupVersionPath.substr(std::string("/apis/").size())},
                 {"metadata", {{"resourceVersion", std::to_string(rv)}}},
                 {"items", items}}
                .dump());
    return true;
  }
  return false;
}

void FakeApiServer::Impl::serveWrite(const httplib::Request& req, httplib::Response& res) {
  std::lock_guard lock(mu);
  std::string path = req.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  materialize(path);
  std::string name;
  auto it = findCollection(path, name);
  if (it == collections.end() || (req.method != "POST" && name.empty()) ||
      (req.method == "POST" && !name.empty()) ||
      (req.method != "POST" && req.method != "PUT" && req.method != "PATCH")) {
    return fail(res, it == collections.end() ? 404 : 405,
                it == collections.end() ? "the server could not find the requested resource"
                                        : "the server does not allow this method on the "
                                          "requested resource");
  }
  Collection& c = it->second;
  json object = json::parse(req.body, nullptr, false);
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return fail(res, 400,
                "the body is not a JSON object with metadata (this fake reads JSON only)");
  }
  json& meta = object["metadata"];
  if (req.method == "POST") name = meta.value("name", "");
  if (!meta.contains("name")) meta["name"] = name;
  if (name.empty() || meta["name"] != name) {
    return fail(res, 400, "metadata.name must be set and match the name in the path");
  }
  const auto existing = c.objects.find(name);
  const std::string what =
      (c.group.empty() ? c.resource : c.resource + "." + c.group) + " \"" + name + "\"";
  if (req.method == "POST") {
    if (existing != c.objects.end()) return fail(res, 409, what + " already exists");
    meta.erase("resourceVersion");
    store(c, std::move(object));
    return respond(res, 201, c.objects[name].dump());
  }
  if (req.method == "PUT") {
    if (existing == c.objects.end()) return fail(res, 404, what + " not found");
    if (meta.value("resourceVersion", "") != existing->second["metadata"]["resourceVersion"]) {
      return fail(res, 409,
                  "Operation cannot be fulfilled on " + what +
                      ": the object has been modified; please apply your changes to the latest "
                      "version and try again");
    }
    store(c, std::move(object));
    return respond(res, 200, c.objects[name].dump());
  }
  if (req.get_header_value("Content-Type") != "application/apply-patch+yaml") {
    return fail(res, 415,
                "the body of the request was in an unknown format - accepted media "
                "types include: application/apply-patch+yaml (this fake)");
  }
  if (param(req, "fieldManager").empty()) {
    return fail(res, 400, "fieldManager: Required value: is required for apply patch");
  }
  const bool created = existing == c.objects.end();
  meta.erase("resourceVersion");
  store(c, std::move(object));
  respond(res, created ? 201 : 200, c.objects[name].dump());
}

void FakeApiServer::addNamespacedResource(const std::string& groupVersionPath,
                                          const std::string& resource, const std::string& kind) {
  std::lock_guard lock(impl_->mu);
  impl_->templates.push_back({groupVersionPath, resource, kind});
}

void FakeApiServer::failNextWrites(int count, int status, const std::string& pathPart) {
  std::lock_guard lock(impl_->mu);
  impl_->failWrites = count;
  impl_->failWriteStatus = status;
  impl_->failWritePath = pathPart;
}

}  // namespace aw::test

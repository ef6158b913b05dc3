// The fake API server speaks kube-apiserver's wire formats: checked here with a plain HTTPS
// client (and raw TLS where the bytes themselves matter), not with the client under test.
#include "test/support/fake_apiserver.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "test/support/process.h"

namespace aw::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kSecrets = "/api/v1/namespaces/kube-system/secrets";
const std::string kFeds = "/apis/deckhouse.io/v1alpha1/istiofederations";

std::unique_ptr<httplib::SSLClient> client(const FakeApiServer& server,
                                           const std::string& token = "test-token") {
  auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server.port());
  c->enable_server_certificate_verification(true);
  c->set_ca_cert_path(devCerts().ca.string());
  if (!token.empty()) c->set_bearer_token_auth(token);
  c->set_read_timeout(10, 0);
  return c;
}

json named(const std::string& name, json spec = json::object()) {
  return {{"metadata", {{"name", name}}}, {"spec", std::move(spec)}};
}

std::vector<std::string> names(const json& list) {
  std::vector<std::string> out;
  for (const json& item : list["items"]) out.push_back(item["metadata"]["name"]);
  return out;
}

// GET `target`; the parsed body (a Status or a list), and the HTTP status in `status`.
json getJson(const FakeApiServer& server, const std::string& target, int* status = nullptr,
             const std::string& token = "test-token") {
  auto r = client(server, token)->Get(target);
  if (!r) {
    ADD_FAILURE() << target << ": " << httplib::to_string(r.error());
    return nullptr;
  }
  if (status != nullptr) *status = r->status;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << target;
  return json::parse(r->body, nullptr, false);
}

void expectStatus(const json& body, int code, const std::string& reason) {
  EXPECT_EQ(body["kind"], "Status") << body;
  EXPECT_EQ(body["apiVersion"], "v1") << body;
  EXPECT_EQ(body["status"], "Failure") << body;
  EXPECT_EQ(body["code"], code) << body;
  EXPECT_EQ(body["reason"], reason) << body;
  EXPECT_TRUE(body["message"].is_string()) << body;
}

std::uint64_t rvOf(const json& object) {
  return std::stoull(object["metadata"]["resourceVersion"].get<std::string>());
}

// A watch read by httplib's client on its own thread, one line at a time.
class WatchStream {
 public:
  WatchStream(const FakeApiServer& server, const std::string& target)
      : client_(client(server)), thread_([this, target] { run(target); }) {}
  ~WatchStream() {
    client_->stop();
    thread_.join();
  }

  // The next line (BOOKMARKs skipped unless `bookmarks`); null on timeout or at the end.
  json next(std::chrono::milliseconds timeout = 3s, bool bookmarks = false) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!cv_.wait_for(lock, timeout, [&] { return read_ < lines_.size() || done_; })) {
        return nullptr;
      }
      if (read_ == lines_.size()) return nullptr;
      json event = json::parse(lines_[read_++], nullptr, false);
      if (bookmarks || !event.is_object() || event["type"] != "BOOKMARK") return event;
    }
  }
  std::string nextRaw(std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return read_ < lines_.size() || done_; })) return "";
    return read_ < lines_.size() ? lines_[read_++] : "";
  }
  // How the stream ended: Success for a clean end (last chunk); nullopt if it has not.
  std::optional<httplib::Error> end(std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return done_; })) return std::nullopt;
    return error_;
  }
  int status() {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string contentType() {
    std::lock_guard lock(mutex_);
    return contentType_;
  }

 private:
  void run(const std::string& target) {
    auto r = client_->Get(
        target,
        [this](const httplib::Response& res) {
          std::lock_guard lock(mutex_);
          status_ = res.status;
          contentType_ = res.get_header_value("Content-Type");
          return true;
        },
        [this](const char* data, std::size_t size) {
          std::lock_guard lock(mutex_);
          buffer_.append(data, size);
          for (std::size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
            lines_.push_back(buffer_.substr(0, nl + 1));
            buffer_.erase(0, nl + 1);
          }
          cv_.notify_all();
          return true;
        });
    std::lock_guard lock(mutex_);
    error_ = r.error();
    done_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<httplib::SSLClient> client_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string buffer_, contentType_;
  std::vector<std::string> lines_;
  std::size_t read_ = 0;
  int status_ = 0;
  bool done_ = false;
  httplib::Error error_ = httplib::Error::Success;
  std::thread thread_;  // last: starts once everything above exists
};

class FakeApiServerTest : public ::testing::Test {
 protected:
  FakeApiServerTest() {
    server.addCollection(kSecrets, "v1", "Secret");
    server.addCollection(kFeds, "deckhouse.io/v1alpha1", "IstioFederation");
  }
  FakeApiServer server;
};

TEST_F(FakeApiServerTest, BearerTokenIsChecked) {
  int status = 0;
  expectStatus(getJson(server, kFeds, &status, ""), 401, "Unauthorized");
  EXPECT_EQ(status, 401);
  expectStatus(getJson(server, kFeds, &status, "wrong"), 401, "Unauthorized");
  getJson(server, kFeds, &status);
  EXPECT_EQ(status, 200);

  server.setToken("rotated");
  expectStatus(getJson(server, kFeds, &status), 401, "Unauthorized");
  getJson(server, kFeds, &status, "rotated");
  EXPECT_EQ(status, 200);

  const auto records = server.requests();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].authorization, "");
  EXPECT_EQ(records[0].status, 401);
  EXPECT_EQ(records[2].authorization, "Bearer test-token");
  EXPECT_EQ(records[2].status, 200);
  EXPECT_EQ(records[2].method, "GET");
  EXPECT_EQ(records[2].path, kFeds);
}

TEST(FakeApiServerClientCert, VerifiedClientCertificateStandsInForTheToken) {
  FakeApiServer::Options options;
  options.clientCa = devCerts().ca;
  FakeApiServer server(options);
  server.addCollection(kFeds, "deckhouse.io/v1alpha1", "IstioFederation");

  httplib::SSLClient withCert("127.0.0.1", server.port(), devCerts().clientCert.string(),
                              devCerts().clientKey.string());
  withCert.enable_server_certificate_verification(true);
  withCert.set_ca_cert_path(devCerts().ca.string());
  auto r = withCert.Get(kFeds);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;

  int status = 0;
  expectStatus(getJson(server, kFeds, &status, ""), 401, "Unauthorized");
  getJson(server, kFeds, &status);
  EXPECT_EQ(status, 200);
}

TEST_F(FakeApiServerTest, GetReturnsTheObjectOrNotFound) {
  const std::string rv = server.put(kFeds, named("alpha", {{"trustDomain", "a.local"}}));
  int status = 0;
  json object = getJson(server, kFeds + "/alpha", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(object["apiVersion"], "deckhouse.io/v1alpha1");
  EXPECT_EQ(object["kind"], "IstioFederation");
  EXPECT_EQ(object["metadata"]["resourceVersion"], rv);
  EXPECT_TRUE(object["metadata"]["uid"].is_string());
  EXPECT_EQ(object["spec"]["trustDomain"], "a.local");
  EXPECT_EQ(object, server.get(kFeds, "alpha"));

  json missing = getJson(server, kFeds + "/nope", &status);
  EXPECT_EQ(status, 404);
  expectStatus(missing, 404, "NotFound");
  EXPECT_EQ(missing["message"], "istiofederations.deckhouse.io \"nope\" not found");
  EXPECT_EQ(missing["details"]["name"], "nope");
  EXPECT_TRUE(server.get(kFeds, "nope").is_null());

  server.put(kSecrets, named("s"));
  EXPECT_EQ(server.get(kSecrets, "s")["metadata"]["namespace"], "kube-system");
  expectStatus(getJson(server, kSecrets + "/other"), 404, "NotFound");
  EXPECT_EQ(getJson(server, kSecrets + "/other")["message"], "secrets \"other\" not found");
}

TEST_F(FakeApiServerTest, ListIsSortedAndCoreItemsHaveNoTypeMeta) {
  for (const char* n : {"c", "a", "b"}) {
    server.put(kSecrets, named(n));
    server.put(kFeds, named(n));
  }
  json secrets = getJson(server, kSecrets);
  EXPECT_EQ(secrets["kind"], "SecretList");
  EXPECT_EQ(secrets["apiVersion"], "v1");
  EXPECT_EQ(secrets["metadata"]["resourceVersion"], server.resourceVersion());
  EXPECT_FALSE(secrets["metadata"].contains("continue"));
  EXPECT_EQ(names(secrets), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(secrets["items"][0].contains("kind"));
  EXPECT_FALSE(secrets["items"][0].contains("apiVersion"));

  json feds = getJson(server, kFeds);
  EXPECT_EQ(feds["kind"], "IstioFederationList");
  EXPECT_EQ(feds["items"][0]["kind"], "IstioFederation");
  EXPECT_EQ(feds["items"][0]["apiVersion"], "deckhouse.io/v1alpha1");
}

TEST_F(FakeApiServerTest, PagesAreOneConsistentSnapshot) {
  for (const char* n : {"a", "b", "c", "d", "e"}) server.put(kFeds, named(n, {{"v", 1}}));
  const json first = getJson(server, kFeds + "?limit=2");
  const std::string rv = first["metadata"]["resourceVersion"];
  EXPECT_EQ(names(first), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(first["metadata"]["remainingItemCount"], 3);
  const std::string token = first["metadata"]["continue"];

  // Changes between pages do not show in later pages of the same list.
  server.put(kFeds, named("c", {{"v", 2}}));
  server.remove(kFeds, "d");
  server.put(kFeds, named("cc"));
  const json second = getJson(server, kFeds + "?limit=2&continue=" + token);
  EXPECT_EQ(second["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(names(second), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(second["items"][0]["spec"]["v"], 1);
  const json third = getJson(
      server, kFeds + "?limit=2&continue=" + second["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(third["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(names(third), (std::vector<std::string>{"e"}));
  EXPECT_FALSE(third["metadata"].contains("continue"));

  // A new list sees the changes; the server caps a client's limit when told to.
  server.setPageSize(1);
  const json fresh = getJson(server, kFeds + "?limit=500");
  EXPECT_EQ(names(fresh), (std::vector<std::string>{"a"}));
  EXPECT_EQ(fresh["metadata"]["resourceVersion"], server.resourceVersion());
  EXPECT_EQ(names(getJson(server, kFeds)).size(), 5u);  // no limit: never paginated
}

TEST_F(FakeApiServerTest, ListAtAFutureResourceVersionWaitsForIt) {
  const std::string next = std::to_string(std::stoull(server.resourceVersion()) + 1);
  std::thread later([&] {
    std::this_thread::sleep_for(200ms);
    server.put(kFeds, named("a"));
  });
  int status = 0;
  const json list = getJson(server, kFeds + "?resourceVersion=" + next, &status);
  later.join();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(list["metadata"]["resourceVersion"], next);
  EXPECT_EQ(names(list), (std::vector<std::string>{"a"}));
}

TEST_F(FakeApiServerTest, OnlyLargeListsAreCompressed) {
  auto c = client(server);
  c->set_decompress(true);
  const httplib::Headers gzip = {{"Accept-Encoding", "gzip"}};
  server.put(kFeds, named("a"));
  auto small = c->Get(kFeds, gzip);
  ASSERT_TRUE(small);
  EXPECT_FALSE(small->has_header("Content-Encoding"));
  const std::string filler(1000, 'x');
  for (int i = 0; i < 200; ++i) server.put(kFeds, named("f" + std::to_string(i), {{"x", filler}}));
  auto large = c->Get(kFeds, gzip);
  ASSERT_TRUE(large);
  EXPECT_EQ(large->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(json::parse(large->body)["items"].size(), 201u);
}

TEST_F(FakeApiServerTest, ContinueTokenExpiresOnCompaction) {
  for (const char* n : {"a", "b", "c"}) server.put(kFeds, named(n));
  const json first = getJson(server, kFeds + "?limit=1");
  server.put(kFeds, named("b", {{"v", 2}}));
  server.compact();
  int status = 0;
  const json expired = getJson(
      server, kFeds + "?limit=1&continue=" + first["metadata"]["continue"].get<std::string>(),
      &status);
  EXPECT_EQ(status, 410);
  expectStatus(expired, 410, "Expired");
  EXPECT_EQ(expired["message"].get<std::string>().rfind(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter",
                0),
            0u)
      << expired;
  // As etcd3 does: a token to continue inconsistently, at the latest state.
  const json rest = getJson(
      server, kFeds + "?continue=" + expired["metadata"]["continue"].get<std::string>(), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(names(rest), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(rest["items"][0]["spec"]["v"], 2);

  expectStatus(getJson(server, kFeds + "?continue=garbage", &status), 400, "BadRequest");
}

TEST_F(FakeApiServerTest, FieldSelectorOnNameFilters) {
  for (const char* n : {"a", "b", "c"}) server.put(kFeds, named(n));
  // Clients send it URL-encoded.
  EXPECT_EQ(names(getJson(server, kFeds + "?fieldSelector=metadata.name%3Db")),
            (std::vector<std::string>{"b"}));
  int status = 0;
  expectStatus(getJson(server, kFeds + "?fieldSelector=spec.x%3D1", &status), 400, "BadRequest");

  // Equality-based label selectors too.
  server.put(kFeds, {{"metadata", {{"name", "d"}, {"labels", {{"app", "x"}}}}}});
  EXPECT_EQ(names(getJson(server, kFeds + "?labelSelector=app%3Dx")),
            (std::vector<std::string>{"d"}));
  EXPECT_EQ(names(getJson(server, kFeds + "?labelSelector=app%21%3Dx")),
            (std::vector<std::string>{"a", "b", "c"}));

  WatchStream watch(server, kFeds + "?watch=true&fieldSelector=metadata.name%3Db");
  EXPECT_EQ(watch.next()["object"]["metadata"]["name"], "b");  // synthetic ADDED, b only
  server.put(kFeds, named("a", {{"v", 2}}));
  server.put(kFeds, named("b", {{"v", 2}}));
  const json event = watch.next();
  EXPECT_EQ(event["type"], "MODIFIED");
  EXPECT_EQ(event["object"]["metadata"]["name"], "b");
}

TEST_F(FakeApiServerTest, WatchFromResourceVersionSendsEventsInOrder) {
  server.put(kFeds, named("old"));
  const std::string rv = getJson(server, kFeds)["metadata"]["resourceVersion"];
  WatchStream watch(server, kFeds + "?watch=true&resourceVersion=" + rv);
  ASSERT_TRUE(server.waitForWatches(1, 3s));
  EXPECT_EQ(server.openWatches(), 1);
  server.put(kFeds, named("x", {{"v", 1}}));
  server.put(kFeds, named("x", {{"v", 2}}));
  const std::string deletedRv = server.remove(kFeds, "x");

  std::vector<json> events;
  for (int i = 0; i < 3; ++i) events.push_back(watch.next());
  EXPECT_EQ(watch.status(), 200);
  EXPECT_EQ(watch.contentType(), "application/json");
  ASSERT_EQ(events[0]["type"], "ADDED");
  ASSERT_EQ(events[1]["type"], "MODIFIED");
  ASSERT_EQ(events[2]["type"], "DELETED");
  EXPECT_EQ(events[1]["object"]["spec"]["v"], 2);
  EXPECT_EQ(events[2]["object"]["spec"]["v"], 2);  // the last state
  EXPECT_EQ(events[2]["object"]["metadata"]["resourceVersion"], deletedRv);
  EXPECT_EQ(events[0]["object"]["kind"], "IstioFederation");
  EXPECT_LT(std::stoull(rv), rvOf(events[0]["object"]));
  EXPECT_LT(rvOf(events[0]["object"]), rvOf(events[1]["object"]));
  EXPECT_LT(rvOf(events[1]["object"]), rvOf(events[2]["object"]));

  // A watch from an earlier RV replays what happened since, then goes on live.
  WatchStream replay(server, kFeds + "?watch=1&resourceVersion=" + rv);
  for (const char* type : {"ADDED", "MODIFIED", "DELETED"}) EXPECT_EQ(replay.next()["type"], type);
  server.put(kFeds, named("y"));
  EXPECT_EQ(replay.next()["object"]["metadata"]["name"], "y");
}

TEST_F(FakeApiServerTest, WatchOfAClientThatLeftCloses) {
  {
    WatchStream watch(server, kFeds + "?watch=true");
    ASSERT_TRUE(server.waitForWatches(1, 3s));
  }  // the client closes its connection
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (server.openWatches() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.openWatches(), 0);
}

TEST_F(FakeApiServerTest, WatchWithoutResourceVersionStartsWithTheCurrentState) {
  server.put(kSecrets, named("b"));
  server.put(kSecrets, named("a"));
  WatchStream watch(server, kSecrets + "?watch=true");
  for (const char* n : {"a", "b"}) {
    const json event = watch.next();
    EXPECT_EQ(event["type"], "ADDED");
    EXPECT_EQ(event["object"]["metadata"]["name"], n);
    EXPECT_EQ(event["object"]["kind"], "Secret");  // watch objects always carry their type
  }
  server.put(kSecrets, named("c"));
  EXPECT_EQ(watch.next()["object"]["metadata"]["name"], "c");
}

TEST_F(FakeApiServerTest, WatchFromCompactedResourceVersionGetsExpired) {
  const std::string old = server.put(kFeds, named("a"));
  server.put(kFeds, named("a", {{"v", 2}}));
  server.compact();
  WatchStream watch(server, kFeds + "?watch=true&resourceVersion=" + old);
  const json event = watch.next();
  EXPECT_EQ(watch.status(), 200);
  EXPECT_EQ(event["type"], "ERROR");
  expectStatus(event["object"], 410, "Expired");
  EXPECT_EQ(event["object"]["message"],
            "too old resource version: " + old + " (" + server.resourceVersion() + ")");
  EXPECT_EQ(watch.end(), httplib::Error::Success);

  // From the compaction point on, watching works.
  WatchStream current(server, kFeds + "?watch=true&resourceVersion=" + server.resourceVersion());
  ASSERT_TRUE(server.waitForWatches(1, 3s));
  server.put(kFeds, named("b"));
  EXPECT_EQ(current.next()["object"]["metadata"]["name"], "b");
}

TEST(FakeApiServerHttp410, WatchFromCompactedResourceVersionGetsHttp410) {
  FakeApiServer::Options options;
  options.watchTooOldAsHttp410 = true;
  FakeApiServer server(options);
  server.addCollection(kFeds, "deckhouse.io/v1alpha1", "IstioFederation");
  const std::string old = server.put(kFeds, named("a"));
  server.put(kFeds, named("a"));
  server.compact();
  int status = 0;
  const json body = getJson(server, kFeds + "?watch=true&resourceVersion=" + old, &status);
  EXPECT_EQ(status, 410);
  expectStatus(body, 410, "Expired");
}

TEST_F(FakeApiServerTest, BookmarksArriveWhenAskedFor) {
  server.put(kFeds, named("a"));
  const auto start = std::chrono::steady_clock::now();
  WatchStream watch(server, kFeds + "?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                                server.resourceVersion());
  const json automatic = watch.next(3s, true);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(automatic["type"], "BOOKMARK");
  EXPECT_EQ(automatic["object"]["kind"], "IstioFederation");
  EXPECT_EQ(automatic["object"]["apiVersion"], "deckhouse.io/v1alpha1");
  EXPECT_EQ(automatic["object"]["metadata"]["resourceVersion"], server.resourceVersion());

  // Without allowWatchBookmarks: none, even on request.
  WatchStream plain(server, kFeds + "?watch=true&resourceVersion=" + server.resourceVersion());
  ASSERT_TRUE(server.waitForWatches(2, 3s));
  server.put(kFeds, named("b"));
  server.sendBookmarks();
  json event = watch.next(3s, true);
  EXPECT_EQ(event["type"], "ADDED");
  event = watch.next(3s, true);
  EXPECT_EQ(event["type"], "BOOKMARK");
  EXPECT_EQ(event["object"]["metadata"]["resourceVersion"], server.resourceVersion());
  EXPECT_EQ(plain.next(3s, true)["type"], "ADDED");
  EXPECT_TRUE(plain.next(300ms, true).is_null());
}

// The raw bytes of a watch's response after `action`, read until the server closes the
// connection (the request asks it to) or `within` passes.
std::string rawWatch(FakeApiServer& server, const std::string& target,
                     const std::function<void()>& action, bool* closed,
                     std::chrono::milliseconds within = 3s) {
  TlsClient raw(server.port(), {devCerts().ca});
  EXPECT_TRUE(raw.connected()) << raw.error();
  EXPECT_TRUE(raw.sendRaw("GET " + target +
                          " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-token\r\n"
                          "Accept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n"));
  // Streaming once the first event is in: only then is this watch surely among the open ones.
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (received.find("\"ADDED\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    raw.waitClosed(50ms, &received);
  }
  action();
  *closed = raw.waitClosed(within, &received);
  return received;
}

bool endsWithLastChunk(const std::string& s) {
  return s.size() >= 5 && s.compare(s.size() - 5, 5, "0\r\n\r\n") == 0;
}

TEST_F(FakeApiServerTest, DropWatchesCutsTheStream) {
  server.put(kFeds, named("a"));
  WatchStream watch(server, kFeds + "?watch=true");
  EXPECT_EQ(watch.next()["type"], "ADDED");
  server.dropWatches();
  const auto end = watch.end();
  ASSERT_TRUE(end.has_value());
  EXPECT_NE(*end, httplib::Error::Success);  // a read error, not a clean end

  bool closed = false;
  const std::string bytes = rawWatch(
      server, kFeds + "?watch=true", [&] { server.dropWatches(); }, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(bytes.find("Transfer-Encoding: chunked"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\"ADDED\""), std::string::npos) << bytes;
  EXPECT_FALSE(endsWithLastChunk(bytes)) << bytes;
}

TEST_F(FakeApiServerTest, EndWatchesAndTimeoutEndCleanly) {
  server.put(kFeds, named("a"));
  WatchStream watch(server, kFeds + "?watch=true");
  EXPECT_EQ(watch.next()["type"], "ADDED");
  server.endWatches();
  EXPECT_EQ(watch.end(), httplib::Error::Success);

  bool closed = false;
  const std::string bytes = rawWatch(
      server, kFeds + "?watch=true", [&] { server.endWatches(); }, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(endsWithLastChunk(bytes)) << bytes;
  // Never compressed, whatever the client accepts.
  EXPECT_EQ(bytes.find("Content-Encoding"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("Content-Type: application/json"), std::string::npos) << bytes;

  const auto start = std::chrono::steady_clock::now();
  WatchStream timed(
      server, kFeds + "?watch=true&timeoutSeconds=1&resourceVersion=" + server.resourceVersion());
  EXPECT_EQ(timed.end(), httplib::Error::Success);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(FakeApiServerTest, WatchErrorAndRawLines) {
  WatchStream watch(server, kFeds + "?watch=true");
  ASSERT_TRUE(server.waitForWatches(1, 3s));
  server.sendRaw("{not json\n");
  EXPECT_EQ(watch.nextRaw(), "{not json\n");
  server.sendWatchError410();
  server.put(kFeds, named("after"));  // after the error: never sent
  const json event = watch.next();
  EXPECT_EQ(event["type"], "ERROR");
  expectStatus(event["object"], 410, "Expired");
  EXPECT_EQ(watch.end(), httplib::Error::Success);
}

TEST_F(FakeApiServerTest, StalledWatchSendsNothingUntilReleased) {
  server.setWatchStall(true);
  server.put(kFeds, named("a"));
  WatchStream watch(server, kFeds + "?watch=true");
  ASSERT_TRUE(server.waitForWatches(1, 3s));
  server.put(kFeds, named("b"));
  EXPECT_TRUE(watch.next(500ms).is_null());
  EXPECT_EQ(watch.status(), 200);  // the headers came
  server.setWatchStall(false);
  EXPECT_EQ(watch.next()["object"]["metadata"]["name"], "a");
  EXPECT_EQ(watch.next()["object"]["metadata"]["name"], "b");
}

TEST_F(FakeApiServerTest, FailNextAndDelayApplyToEveryPath) {
  server.failNext(2, 503);
  int status = 0;
  expectStatus(getJson(server, "/no/such/path", &status), 503, "ServiceUnavailable");
  expectStatus(getJson(server, kFeds, &status, ""), 503, "ServiceUnavailable");
  getJson(server, kFeds, &status);
  EXPECT_EQ(status, 200);
  const auto records = server.requests();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].status, 503);
  EXPECT_EQ(records[0].path, "/no/such/path");
  EXPECT_EQ(records[2].status, 200);

  server.setDelay(300ms);
  const auto start = std::chrono::steady_clock::now();
  getJson(server, kFeds + "?limit=5", &status);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(server.requests().back().query.at("limit"), "5");
  server.setDelay(0ms);
}

TEST_F(FakeApiServerTest, RemovedCollectionIsNotFoundAndEndsItsWatches) {
  server.put(kFeds, named("a"));
  WatchStream watch(server, kFeds + "?watch=true");
  EXPECT_EQ(watch.next()["type"], "ADDED");
  server.removeCollection(kFeds);
  EXPECT_EQ(watch.end(), httplib::Error::Success);
  int status = 0;
  const json body = getJson(server, kFeds, &status);
  EXPECT_EQ(status, 404);
  expectStatus(body, 404, "NotFound");
  expectStatus(getJson(server, kFeds + "?watch=true"), 404, "NotFound");

  server.addCollection(kFeds, "deckhouse.io/v1alpha1", "IstioFederation");
  const json list = getJson(server, kFeds, &status);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(list["items"].empty());
}

TEST(FakeApiServerShutdown, DestructorReturnsPromptlyWithWatchesOpen) {
  auto server = std::make_unique<FakeApiServer>();
  server->addCollection(kFeds, "deckhouse.io/v1alpha1", "IstioFederation");
  WatchStream a(*server, kFeds + "?watch=true");
  WatchStream b(*server, kFeds + "?watch=true&allowWatchBookmarks=true");
  // An idle keep-alive connection too: httplib would wait for its next request.
  auto idle = client(*server);
  idle->set_keep_alive(true);
  ASSERT_TRUE(idle->Get(kFeds));
  ASSERT_TRUE(server->waitForWatches(2, 3s));
  server->setWatchStall(true);
  const auto start = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_TRUE(a.end().has_value());
  EXPECT_TRUE(b.end().has_value());
}

}  // namespace
}  // namespace aw::test

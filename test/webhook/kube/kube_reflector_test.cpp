// The reflector against the fake API server: pagination, watch, and every injected fault.
// In process, with short timings, so each fault is seen within a second or two.
#include "webhook/kube/kube_reflector.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "test/support/fake_apiserver.h"
#include "test/support/process.h"

namespace aw::webhook::kube {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kFederations = "/apis/deckhouse.io/v1alpha1/istiofederations";

// What the sink was told, by name; waits for a condition on it.
class RecordingSink : public ReflectorSink {
 public:
  void replace(std::vector<Json> objects) override {
    std::lock_guard lock(mutex_);
    objects_.clear();
    for (Json& o : objects) {
      const std::string name = o["metadata"]["name"];
      objects_[name] = std::move(o);
    }
    ++replaces_;
    changed_.notify_all();
  }
  void apply(std::vector<WatchEvent> events) override {
    std::lock_guard lock(mutex_);
    for (WatchEvent& e : events) {
      const std::string name = e.object["metadata"]["name"];
      if (e.type == WatchEvent::Type::Deleted) {
        objects_.erase(name);
      } else {
        objects_[name] = std::move(e.object);
      }
      ++events_;
    }
    changed_.notify_all();
  }
  // The names known and the trust domain of each: "a=a.local,b=b.local".
  std::string summary() const {
    std::lock_guard lock(mutex_);
    return summaryLocked();
  }
  bool waitFor(const std::string& want, std::chrono::milliseconds within = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return summaryLocked() == want; });
  }
  int replaces() const {
    std::lock_guard lock(mutex_);
    return replaces_;
  }

 private:
  std::string summaryLocked() const {
    std::string out;
    for (const auto& [name, o] : objects_) {
      out += (out.empty() ? "" : ",") + name + "=" + o["spec"].value("trustDomain", "");
    }
    return out;
  }
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Json> objects_;
  int replaces_ = 0;
  int events_ = 0;
};

Json federation(const std::string& name, const std::string& domain) {
  return {{"apiVersion", "deckhouse.io/v1alpha1"},
          {"kind", "IstioFederation"},
          {"metadata", {{"name", name}}},
          {"spec", {{"trustDomain", domain}, {"metadataEndpoint", "https://x/metadata/"}}}};
}

ClusterAccess accessTo(const test::FakeApiServer& fake, const std::string& token = "test-token") {
  ClusterAccess a;
  a.host = "127.0.0.1";
  a.port = fake.port();
  a.caPem = test::readFile(test::devCerts().ca);
  a.token = token;
  a.source = "test";
  return a;
}

ReflectorOptions fastOptions() {
  ReflectorOptions o;
  o.resource = "istiofederations";
  o.collection = kFederations;
  o.pageSize = 3;
  o.watchTimeout = 30s;
  o.readSlack = 2s;
  o.backoffInitial = 50ms;
  o.backoffMax = 400ms;
  o.absentRetry = 300ms;
  return o;
}

// Polls `condition` every 5 ms until it holds (true) or `within` passes (false).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds within = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Requests the reflector made of one kind: LIST (no watch), WATCH.
int countRequests(const test::FakeApiServer& fake, bool watch) {
  int n = 0;
  for (const auto& r : fake.requests()) {
    if (r.path != kFederations) continue;
    const bool isWatch = r.query.contains("watch");
    if (isWatch == watch) ++n;
  }
  return n;
}

struct Fixture {
  test::FakeApiServer fake;
  std::unique_ptr<Client> client;
  RecordingSink sink;
  std::vector<std::string> restarts;
  std::mutex restartMutex;
  std::unique_ptr<Reflector> reflector;

  explicit Fixture(ReflectorOptions options = fastOptions(), int objects = 0,
                   test::FakeApiServer::Options fakeOptions = {})
      : fake(std::move(fakeOptions)) {
    fake.addCollection(kFederations, "deckhouse.io/v1alpha1", "IstioFederation");
    for (int i = 0; i < objects; ++i) {
      fake.put(kFederations, federation("f" + std::to_string(i), "d" + std::to_string(i)));
    }
    client = std::make_unique<Client>(accessTo(fake));
    reflector = std::make_unique<Reflector>(*client, std::move(options), sink,
                                            [this](const std::string&, const char* reason) {
                                              std::lock_guard lock(restartMutex);
                                              restarts.push_back(reason);
                                            });
  }
  int restartsOf(const std::string& reason) {
    std::lock_guard lock(restartMutex);
    return static_cast<int>(std::count(restarts.begin(), restarts.end(), reason));
  }
  void startAndWatch() {
    reflector->start();
    ASSERT_TRUE(fake.waitForWatches(1, 10s));
  }
};

TEST(Reflector, ListsEveryPageThenFollowsTheWatch) {
  Fixture f(fastOptions(), 7);
  f.startAndWatch();
  EXPECT_EQ(f.sink.summary(), "f0=d0,f1=d1,f2=d2,f3=d3,f4=d4,f5=d5,f6=d6");
  // Three pages of at most 3, the later ones with the continue token of the one before.
  std::vector<std::map<std::string, std::string>> lists;
  for (const auto& r : f.fake.requests()) {
    if (r.path == kFederations && !r.query.contains("watch")) lists.push_back(r.query);
  }
  ASSERT_EQ(lists.size(), 3u);
  EXPECT_EQ(lists[0].at("limit"), "3");
  EXPECT_FALSE(lists[0].contains("continue"));
  EXPECT_TRUE(lists[1].contains("continue"));
  EXPECT_TRUE(lists[2].contains("continue"));
  // The watch starts at the list's resourceVersion, asks for bookmarks and a timeout.
  const auto w = f.fake.requests().back();
  EXPECT_EQ(w.query.at("resourceVersion"), f.fake.resourceVersion());
  EXPECT_EQ(w.query.at("allowWatchBookmarks"), "true");
  EXPECT_TRUE(w.query.contains("timeoutSeconds"));
  EXPECT_EQ(w.authorization, "Bearer test-token");

  f.fake.put(kFederations, federation("f7", "d7"));
  f.fake.put(kFederations, federation("f0", "changed"));
  f.fake.remove(kFederations, "f3");
  EXPECT_TRUE(f.sink.waitFor("f0=changed,f1=d1,f2=d2,f4=d4,f5=d5,f6=d6,f7=d7")) << f.sink.summary();
  EXPECT_TRUE(f.reflector->status().synced);
  EXPECT_EQ(countRequests(f.fake, false), 3);  // no list since
}

TEST(Reflector, AWatchCutMidStreamResumesFromTheLastResourceVersionWithoutListing) {
  Fixture f(fastOptions(), 2);
  f.startAndWatch();
  f.fake.dropWatches();
  // Changes while no watch is open arrive through the next watch, from history.
  f.fake.put(kFederations, federation("f2", "d2"));
  f.fake.remove(kFederations, "f0");
  EXPECT_TRUE(f.sink.waitFor("f1=d1,f2=d2")) << f.sink.summary();
  EXPECT_EQ(countRequests(f.fake, false), 1);
  EXPECT_GE(f.restartsOf("disconnected"), 1);
}

TEST(Reflector, AnExpiredWatchListsAgain) {
  for (bool asHttp : {false, true}) {
    SCOPED_TRACE(asHttp ? "410 as HTTP status" : "410 as an ERROR event");
    test::FakeApiServer::Options fakeOptions;
    fakeOptions.watchTooOldAsHttp410 = asHttp;
    Fixture f(fastOptions(), 0, fakeOptions);
    f.fake.put(kFederations, federation("a", "a.local"));
    f.startAndWatch();
    // The watch is cut; while it is gone the history is compacted past where it was.
    f.fake.dropWatches();
    f.fake.put(kFederations, federation("b", "b.local"));
    f.fake.remove(kFederations, "a");
    f.fake.compact();
    EXPECT_TRUE(f.sink.waitFor("b=b.local")) << f.sink.summary();
    EXPECT_GE(f.restartsOf("expired"), 1);
    EXPECT_GE(countRequests(f.fake, false), 2);  // listed again
  }
}

TEST(Reflector, AnErrorEventOf410ListsAgain) {
  Fixture f(fastOptions(), 1);
  f.startAndWatch();
  f.fake.sendWatchError410();
  ASSERT_TRUE(eventually([&] { return countRequests(f.fake, true) == 2; }));
  EXPECT_EQ(countRequests(f.fake, false), 2);  // listed again before the new watch
  EXPECT_EQ(f.restartsOf("expired"), 1);
  f.fake.put(kFederations, federation("f1", "d1"));
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1"));
}

TEST(Reflector, AMalformedEventRestartsTheWatchAndKeepsWhatCameBefore) {
  Fixture f(fastOptions(), 1);
  f.startAndWatch();
  f.fake.put(kFederations, federation("good", "g.local"));
  ASSERT_TRUE(f.sink.waitFor("f0=d0,good=g.local"));
  f.fake.sendRaw("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"tr\n");
  f.fake.put(kFederations, federation("after", "a.local"));
  EXPECT_TRUE(f.sink.waitFor("after=a.local,f0=d0,good=g.local")) << f.sink.summary();
  EXPECT_GE(f.restartsOf("malformed"), 1);
  EXPECT_EQ(countRequests(f.fake, false), 1);
}

TEST(Reflector, AnExpiredTokenIsRetriedWithBackoffAndARotatedOneIsPickedUp) {
  test::TempDir dir;
  test::writeFile(dir / "token", "test-token\n");
  Fixture f(fastOptions(), 1);
  ClusterAccess a = accessTo(f.fake, "");
  a.tokenFile = dir / "token";
  Client client(a);
  Reflector r(client, fastOptions(), f.sink);
  r.start();
  ASSERT_TRUE(f.fake.waitForWatches(1, 10s));
  f.fake.setToken("rotated-token");  // the old token is no longer accepted
  f.fake.dropWatches();
  std::this_thread::sleep_for(1s);
  const auto statusWhileRefused = r.status();
  EXPECT_NE(statusWhileRefused.lastError.find("401"), std::string::npos)
      << statusWhileRefused.lastError;
  // Refused calls back off: a handful in a second, never hundreds.
  int refused = 0;
  for (const auto& q : f.fake.requests()) refused += q.status == 401 ? 1 : 0;
  EXPECT_GE(refused, 2);
  EXPECT_LE(refused, 12);
  test::writeFile(dir / "token", "rotated-token\n");  // the kubelet rotates the projected token
  f.fake.put(kFederations, federation("f1", "d1"));
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1")) << f.sink.summary();
  EXPECT_EQ(f.fake.requests().back().authorization, "Bearer rotated-token");
}

TEST(Reflector, ServerErrorsBackOffAndRecover) {
  Fixture f(fastOptions(), 2);
  f.fake.failNext(6, 500);
  const auto start = std::chrono::steady_clock::now();
  f.reflector->start();
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1"));
  // 6 failures with backoff 50, 100, 200, 400, 400, 400 ms (at least half of each).
  EXPECT_GE(std::chrono::steady_clock::now() - start, 700ms);
  EXPECT_TRUE(eventually([&] { return f.reflector->status().synced; }));
  EXPECT_TRUE(f.reflector->status().lastError.empty());
}

TEST(Reflector, AFailingServerIsNeverHammered) {
  Fixture f(fastOptions(), 1);
  f.fake.failNext(1000000, 503);
  f.reflector->start();
  std::this_thread::sleep_for(2s);
  const std::size_t calls = f.fake.requests().size();
  // Backoff 50 ms doubling to a 400 ms cap (jittered down to half): about 8 calls in 2 s.
  EXPECT_GE(calls, 3u);
  EXPECT_LE(calls, 16u);
  const ReflectorStatus s = f.reflector->status();
  EXPECT_FALSE(s.synced);
  EXPECT_NE(s.lastError.find("HTTP 503"), std::string::npos) << s.lastError;
}

TEST(Reflector, ASlowServerIsWaitedFor) {
  Fixture f(fastOptions(), 4);
  f.fake.setDelay(400ms);
  f.reflector->start();
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1,f2=d2,f3=d3"));
  f.fake.put(kFederations, federation("f4", "d4"));
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1,f2=d2,f3=d3,f4=d4"));
}

TEST(Reflector, AHungStreamIsAbandonedAfterItsReadTimeout) {
  ReflectorOptions o = fastOptions();
  o.watchTimeout = 1s;
  o.readSlack = 1s;
  Fixture f(o, 1);
  f.startAndWatch();
  f.fake.setWatchStall(true);  // headers, then silence: no events, no bookmarks, no end
  f.fake.dropWatches();
  std::this_thread::sleep_for(200ms);
  f.fake.put(kFederations, federation("f1", "d1"));  // not delivered by the stalled watch
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(f.sink.summary(), "f0=d0");
  f.fake.setWatchStall(false);
  // The stalled read gives up after at most 2 * watchTimeout + readSlack; the next watch
  // delivers the change from history.
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1", 8s)) << f.sink.summary();
}

TEST(Reflector, AMissingCollectionIsEmptyAndLookedForAgain) {
  Fixture f(fastOptions(), 0);
  f.fake.removeCollection(kFederations);
  f.reflector->start();
  EXPECT_TRUE(eventually(
      [&] { return f.reflector->status().synced; }));  // no CRD: no members, nothing to wait for
  EXPECT_TRUE(f.reflector->status().absent);
  f.fake.addCollection(kFederations, "deckhouse.io/v1alpha1", "IstioFederation");
  f.fake.put(kFederations, federation("late", "l.local"));
  EXPECT_TRUE(f.sink.waitFor("late=l.local", 5s)) << f.sink.summary();
}

TEST(Reflector, AnExpiredContinueTokenRestartsTheList) {
  Fixture f(fastOptions(), 7);
  // The first page is answered, then the history is compacted before the second is read.
  f.fake.setDelay(200ms);
  f.reflector->start();
  for (int i = 0; i < 100 && countRequests(f.fake, false) < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(250ms);
  f.fake.put(kFederations, federation("f7", "d7"));
  f.fake.compact();
  f.fake.setDelay(0ms);
  EXPECT_TRUE(f.sink.waitFor("f0=d0,f1=d1,f2=d2,f3=d3,f4=d4,f5=d5,f6=d6,f7=d7"))
      << f.sink.summary();
  int expired = 0;
  for (const auto& r : f.fake.requests()) expired += r.status == 410 ? 1 : 0;
  EXPECT_GE(expired, 1);
}

TEST(Reflector, OneNamedObjectIsReadWithGetAndWatchedByFieldSelector) {
  test::FakeApiServer fake;
  const std::string secrets = "/api/v1/namespaces/kube-system/secrets";
  fake.addCollection(secrets, "v1", "Secret");
  fake.put(secrets, {{"metadata", {{"name", "other"}}}, {"data", Json::object()}});
  fake.put(secrets, {{"metadata", {{"name", "wanted"}}}, {"data", {{"k", "djE="}}}});
  Client client(accessTo(fake));
  ReflectorOptions o = fastOptions();
  o.resource = "secret";
  o.collection = secrets;
  o.objectName = "wanted";
  class Names : public ReflectorSink {
   public:
    void replace(std::vector<Json> objects) override {
      std::lock_guard lock(m);
      for (const Json& j : objects)
        seen.push_back("list " + j["metadata"]["name"].get<std::string>());
    }
    void apply(std::vector<WatchEvent> events) override {
      std::lock_guard lock(m);
      for (const WatchEvent& e : events)
        seen.push_back("event " + e.object["metadata"]["name"].get<std::string>());
    }
    std::mutex m;
    std::vector<std::string> seen;
  } sink;
  Reflector r(client, o, sink);
  r.start();
  ASSERT_TRUE(fake.waitForWatches(1, 10s));
  fake.put(secrets, {{"metadata", {{"name", "other"}}}, {"data", {{"x", "eA=="}}}});
  fake.put(secrets, {{"metadata", {{"name", "wanted"}}}, {"data", {{"k", "djI="}}}});
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(sink.m);
      if (sink.seen.size() >= 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  r.stop();
  EXPECT_EQ(sink.seen, (std::vector<std::string>{"list wanted", "event wanted"}));
  // GET by name, never a LIST of the namespace's Secrets (RBAC grants get/watch on one name).
  for (const auto& q : fake.requests()) {
    if (q.path == secrets) {
      EXPECT_EQ(q.query.at("watch"), "true");
      EXPECT_EQ(q.query.at("fieldSelector"), "metadata.name=wanted");
    } else {
      EXPECT_EQ(q.path, secrets + "/wanted");
    }
  }
}

TEST(Reflector, AClientCertificateAuthenticatesWithoutAToken) {
  test::FakeApiServer::Options o;
  o.clientCa = test::devCerts().ca;  // the development CA signed the client certificate too
  test::FakeApiServer fake(o);
  fake.addCollection(kFederations, "deckhouse.io/v1alpha1", "IstioFederation");
  fake.put(kFederations, federation("a", "a.local"));
  ClusterAccess a = accessTo(fake, "");
  a.clientCertPem = test::readFile(test::devCerts().clientCert);
  a.clientKeyPem = test::readFile(test::devCerts().clientKey);
  Client client(a);
  RecordingSink sink;
  Reflector r(client, fastOptions(), sink);
  r.start();
  EXPECT_TRUE(sink.waitFor("a=a.local")) << r.status().lastError;
  EXPECT_EQ(fake.requests().front().authorization, "");
  EXPECT_EQ(fake.requests().front().status, 200);

  // Without either, the server says 401 and the reflector says why.
  Client anonymous(accessTo(fake, ""));
  RecordingSink none;
  Reflector refused(anonymous, fastOptions(), none);
  refused.start();
  EXPECT_TRUE(eventually([&] { return !refused.status().lastError.empty(); }));
  EXPECT_NE(refused.status().lastError.find("HTTP 401"), std::string::npos)
      << refused.status().lastError;
}

TEST(Reflector, StopsPromptlyWithAWatchOpen) {
  Fixture f(fastOptions(), 1);
  f.startAndWatch();
  const auto start = std::chrono::steady_clock::now();
  f.reflector->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace aw::webhook::kube

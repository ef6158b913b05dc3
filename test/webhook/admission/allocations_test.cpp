// Heap allocations per admission once the body is decoded (issue 12): the rules, the decision,
// the answer, the metrics and the log line of a public Service and of an IstioFederation
// allocate nothing but the answer's string. This program replaces the global operator new, so it
// counts alone: every *_test.cpp is a program of its own.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "rules/registry.h"
#include "test/support/review.h"
#include "webhook/admission/admission.h"
#include "webhook/admission/decision.h"
#include "webhook/admission/handler.h"
#include "webhook/state/config.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace {
// Only the test's own thread, and only while a Count is alive.
thread_local bool tCounting = false;
thread_local std::size_t tAllocations = 0;

// Where to break in gdb to see what allocates: `break counted`.
[[gnu::noinline]] void counted() {
  ++tAllocations;
  asm volatile("");
}

void* allocate(std::size_t n) {
  if (tCounting) counted();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* allocateAligned(std::size_t n, std::align_val_t align) {
  if (tCounting) counted();
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return allocateAligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocateAligned(n, a);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace aw::webhook {
namespace {

// Allocations on this thread while `f` runs.
template <class F>
std::size_t allocations(F&& f) {
  tAllocations = 0;
  tCounting = true;
  f();
  tCounting = false;
  return tAllocations;
}

// Allocations per stage, and of AdmissionHandler::answer() as a whole.
struct Counts {
  std::size_t judge, decide, encode, metrics, answer;
};

// The handler at its defaults (info log lines, to /dev/null) on examples/config.yaml.
class Allocations : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    ASSERT_TRUE(log::setup("json", "info", error)) << error;
  }
  void SetUp() override {
    ConfigResult loaded = loadConfig(std::string(AW_SOURCE_DIR) + "/examples/config.yaml");
    ASSERT_TRUE(loaded.config) << loaded.error;
    state_.replace(makeSnapshot(std::move(*loaded.config)));
    std::fflush(stderr);
    savedStderr_ = dup(2);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    close(devnull);
  }
  void TearDown() override {
    dup2(savedStderr_, 2);
    close(savedStderr_);
  }

  AdmissionRequest decoded(const nlohmann::json& object) {
    DecodeResult d = decodeAdmissionReview(test::review(object).dump());
    EXPECT_TRUE(d.request) << d.error;
    return std::move(*d.request);
  }

  // Allocations of each stage and of the handler's whole answer, after a warm-up (the metrics'
  // label sets and the threads' buffers are made on first use).
  Counts count(const AdmissionRequest& req, std::string_view verdict) {
    const AdmissionHandler handler(state_, metrics_);
    const auto snapshot = state_.current();
    const rules::Request request = req.toRulesRequest();
    const rules::Context context{snapshot->alliance, snapshot->config.settings, &snapshot->plan};
    for (int i = 0; i < 3; ++i) handler.answer(Endpoint::Validate, req, {});
    Counts c{};
    rules::Outcome outcome;
    c.judge = allocations([&] {
      outcome = rules::validate(request, context);
      rules::markExisting(outcome, request, context);
    });
    Decision decision;
    c.decide = allocations([&] { decision = decide(outcome, snapshot->config.mode); });
    EXPECT_EQ(decision.verdict, verdict);
    std::string out;
    c.encode = allocations(
        [&] { out = encodeAdmissionReview(req.apiVersion, req.uid, decision.response); });
    c.metrics = allocations([&] {
      metrics_.request("validate", request.kind->kind, "CREATE", decision.verdict, 0.001);
    });
    HttpResult answer;
    c.answer = allocations([&] { answer = handler.answer(Endpoint::Validate, req, {}); });
    EXPECT_EQ(answer.body, out);
    std::printf("%s %s: judge %zu, decide %zu, encode %zu, metrics %zu; answer() %zu\n",
                std::string(req.kind).c_str(), std::string(req.name).c_str(), c.judge, c.decide,
                c.encode, c.metrics, c.answer);
    return c;
  }

  Metrics metrics_;
  State state_;
  int savedStderr_ = -1;
};

// What an allowed request costs: the answer's string, and nothing else.
void expectOnlyTheAnswer(const Counts& c) {
  EXPECT_EQ(c.judge, 0U);
  EXPECT_EQ(c.decide, 0U);
  EXPECT_EQ(c.encode, 1U);  // the answer, reserved once
  EXPECT_EQ(c.metrics, 0U);
  EXPECT_EQ(c.answer, 1U);
}

TEST_F(Allocations, PublicServiceAllocatesOnlyTheAnswer) {
  const nlohmann::json ports = nlohmann::json::array({
      {{"name", "http"}, {"port", 9080}, {"protocol", "TCP"}},
      {{"name", "grpc-api"}, {"port", 9090}, {"protocol", "TCP"}},
      {{"name", "http-metrics"}, {"port", 15020}, {"protocol", "TCP"}},
  });
  expectOnlyTheAnswer(count(decoded(test::service("reviews", ports)), "allow"));
}

// The federation rules read the member under admission as views into the object and the
// alliance (rules::Subject, read once for both rules): nothing but the answer either, with names
// and domains too long for a string's inline buffer.
TEST_F(Allocations, FederationAllocatesOnlyTheAnswer) {
  expectOnlyTheAnswer(count(
      decoded(test::federation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16")),
      "allow"));
  expectOnlyTheAnswer(count(
      decoded(test::federation("cluster-b-in-the-eu-west-region", "cluster-b.eu-west.example.com",
                               "10.112.0.0/16, fd00:112::/48", "10.221.0.0/16, 10.224.0.0/16")),
      "allow"));
}

// A finding costs its text (the message, the warning) and the decision's list of effects; the
// counts are printed, and bounded so that a regression to per-node or per-label copies shows.
TEST_F(Allocations, AFindingCostsItsText) {
  const nlohmann::json ports = nlohmann::json::array({{{"port", 80}}});
  const Counts c = count(decoded(test::service("web", ports)), "deny");
  EXPECT_LE(c.judge + c.decide + c.encode + c.metrics, 16U);
  EXPECT_EQ(c.metrics, 0U);
}

}  // namespace
}  // namespace aw::webhook

namespace aw::webhook {
namespace {

// Decoding: the request path's decoder hands out views into the tape a warm thread reuses (the
// envelope's strings, the groups, the objects), so it allocates nothing; the reference builds the
// whole document. Both counts are printed.
TEST_F(Allocations, DecodingAllocatesNothing) {
  nlohmann::json service = test::service(
      "reviews", nlohmann::json::array({{{"name", "http"}, {"port", 9080}, {"protocol", "TCP"}},
                                        {{"name", "grpc-api"}, {"port", 9090}}}));
  service["metadata"]["managedFields"] = nlohmann::json::array(
      {{{"manager", "helm"}, {"fieldsV1", {{"f:spec", {{"f:ports", {{"k:9080", {}}}}}}}}}});
  service["status"] = {{"loadBalancer", nlohmann::json::object()}};
  const nlohmann::json federation =
      test::federation("cluster-b", "cluster-b.local", "10.112.0.0/16", "10.221.0.0/16");
  for (const nlohmann::json& object : {service, federation}) {
    const std::string body = test::review(object).dump();
    for (int i = 0; i < 3; ++i) (void)decodeForRules(body);
    DecodeResult fast, reference;
    const std::size_t fastCount = allocations([&] { fast = decodeForRules(body); });
    ASSERT_FALSE(lastDecodeFellBack());
    const std::size_t referenceCount =
        allocations([&] { reference = decodeAdmissionReview(body); });
    ASSERT_TRUE(fast.request && reference.request);
    std::printf("decode %s: fast %zu allocations, reference %zu\n",
                object["kind"].get<std::string>().c_str(), fastCount, referenceCount);
    EXPECT_EQ(fastCount, 0U);
    EXPECT_GT(referenceCount, 0U);
  }
}

}  // namespace
}  // namespace aw::webhook

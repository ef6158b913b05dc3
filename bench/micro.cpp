// aw_bench_micro: Google Benchmark micro-benchmarks of the decision path (issue 7, item 3).
//
//   decision/PAYLOAD         AdmissionHandler::handle: decode -> rules -> decide -> encode, metrics
//   decision_log/service     the same with the per-admission log line (info, to /dev/null)
//   decode/PAYLOAD           decodeAdmissionReview alone
//   rules/PAYLOAD            rules::validate or rules::mutate + decide, on the decoded request
//   encode/PAYLOAD           encodeAdmissionReview of the decided response
//   member_vs_subnets/N      rules::validate of an IstioFederation against an alliance of N subnets
//   alliance_build/N         building that alliance (the cost of a configuration reload)
//   mutate_1mib              rules::mutate + decide on the parsed ~1 MiB ServiceEntry
//   se_endpoints/N           decision/ on a ServiceEntry of N endpoints (N/20 hosts): linear in N
//   se_mutate/N              rules/ on the same: linear in N
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>

#include "bench/payloads.h"
#include "common/json_view.h"
#include "rules/model/alliance.h"
#include "rules/registry.h"
#include "webhook/admission/admission.h"
#include "webhook/admission/decision.h"
#include "webhook/admission/handler.h"
#include "webhook/state/config.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace {

using aw::bench::Payload;
using aw::webhook::Endpoint;

struct World {
  aw::webhook::Metrics metrics;
  aw::webhook::State state;
  std::unique_ptr<aw::webhook::AdmissionHandler> handler;
  std::vector<Payload> payloads = aw::bench::standardPayloads();

  World() {
    aw::webhook::ConfigResult loaded =
        aw::webhook::loadConfig(std::string(AW_SOURCE_DIR) + "/examples/config.yaml");
    if (!loaded.config) {
      std::fprintf(stderr, "aw_bench_micro: %s\n", loaded.error.c_str());
      std::exit(2);
    }
    state.replace(aw::webhook::makeSnapshot(std::move(*loaded.config)));
    handler = std::make_unique<aw::webhook::AdmissionHandler>(state, metrics);
  }
};

World& world() {
  static World w;
  return w;
}

Endpoint endpointOf(const Payload& p) {
  return p.path == "/mutate" ? Endpoint::Mutate : Endpoint::Validate;
}

void setLogLevel(const char* level) {
  std::string error;
  aw::webhook::log::setup("json", level, error);
}

void decision(benchmark::State& st, const Payload* p) {
  const auto& h = *world().handler;
  const Endpoint e = endpointOf(*p);
  for (auto _ : st) benchmark::DoNotOptimize(h.handle(e, p->body));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * p->body.size()));
}

void decisionWithLogLine(benchmark::State& st, const Payload* p) {
  std::fflush(stderr);
  const int saved = dup(2);
  const int devnull = open("/dev/null", O_WRONLY);
  dup2(devnull, 2);
  setLogLevel("info");
  decision(st, p);
  setLogLevel("warn");
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(devnull);
}

void decode(benchmark::State& st, const Payload* p) {
  for (auto _ : st) benchmark::DoNotOptimize(aw::webhook::decodeAdmissionReview(p->body));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * p->body.size()));
}

void rulesAndDecide(benchmark::State& st, const Payload* p) {
  const auto decoded = aw::webhook::decodeAdmissionReview(p->body);
  const auto snapshot = world().state.current();
  const aw::rules::Context context{snapshot->alliance, snapshot->config.settings};
  const aw::rules::Request request = decoded.request->toRulesRequest();
  const bool mutate = endpointOf(*p) == Endpoint::Mutate;
  for (auto _ : st) {
    const aw::rules::Outcome outcome =
        mutate ? aw::rules::mutate(request, context) : aw::rules::validate(request, context);
    benchmark::DoNotOptimize(aw::webhook::decide(outcome, snapshot->config.mode));
  }
}

void encode(benchmark::State& st, const Payload* p) {
  const auto decoded = aw::webhook::decodeAdmissionReview(p->body);
  const auto snapshot = world().state.current();
  const aw::rules::Context context{snapshot->alliance, snapshot->config.settings};
  const aw::rules::Request request = decoded.request->toRulesRequest();
  const aw::rules::Outcome outcome = endpointOf(*p) == Endpoint::Mutate
                                         ? aw::rules::mutate(request, context)
                                         : aw::rules::validate(request, context);
  const aw::webhook::Decision d = aw::webhook::decide(outcome, snapshot->config.mode);
  for (auto _ : st) {
    benchmark::DoNotOptimize(aw::webhook::encodeAdmissionReview(decoded.request->apiVersion,
                                                                decoded.request->uid, d.response));
  }
}

// ---- one member against N existing subnets ---------------------------------------------------

std::string subnet24(std::size_t i) {
  return "10." + std::to_string(64 + (i / 256) % 64) + "." + std::to_string(i % 256) + ".0/24";
}

// The local cluster of examples/config.yaml and N/2 members with a pod and a service /24 each
// (N subnets in all, none overlapping the member under admission).
aw::rules::Alliance allianceOf(std::size_t subnets) {
  aw::rules::LocalCluster local;
  local.domain = "cluster-a.local";
  local.domainPath = "localCluster.clusterDomain";
  local.subnets.push_back({*aw::rules::parseCidr("10.111.0.0/16").cidr, aw::rules::SubnetRole::Pod,
                           "localCluster.podSubnetCIDR"});
  local.subnets.push_back({*aw::rules::parseCidr("10.222.0.0/16").cidr,
                           aw::rules::SubnetRole::Service, "localCluster.serviceSubnetCIDR"});
  std::vector<aw::rules::Member> members;
  for (std::size_t m = 0; 2 * m < subnets; ++m) {
    aw::rules::Member member;
    member.name = "member-" + std::to_string(m);
    member.domain = member.name + ".local";
    member.domainPath = "members[" + std::to_string(m) + "].clusterDomain";
    member.origin = "members[" + std::to_string(m) + "] (" + member.name + ")";
    aw::rules::addSubnets(member, subnet24(2 * m), aw::rules::SubnetRole::Pod,
                          "members[" + std::to_string(m) + "].podSubnetCIDR");
    aw::rules::addSubnets(member, subnet24(2 * m + 1), aw::rules::SubnetRole::Service,
                          "members[" + std::to_string(m) + "].serviceSubnetCIDR");
    members.push_back(std::move(member));
  }
  return aw::rules::Alliance(std::move(local), std::move(members));
}

void memberVsSubnets(benchmark::State& st) {
  const std::size_t n = static_cast<std::size_t>(st.range(0));
  const aw::rules::Alliance alliance = allianceOf(n);
  const aw::rules::Settings settings;
  const aw::rules::Context context{alliance, settings};
  const nlohmann::json object = aw::bench::federation();
  aw::rules::Request request;
  request.kind = aw::rules::findKind("deckhouse.io", "IstioFederation");
  request.version = "v1alpha1";
  request.name = "cluster-b";
  const aw::json::Document document = aw::json::Document::of(object);
  request.object = document.root();
  const aw::rules::Outcome check = aw::rules::validate(request, context);
  if (!check.findings.empty() || !check.shapeErrors.empty()) {
    st.SkipWithError("the federation payload has findings against the generated alliance");
    return;
  }
  for (auto _ : st) benchmark::DoNotOptimize(aw::rules::validate(request, context));
  st.SetComplexityN(st.range(0));
}

void allianceBuild(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(allianceOf(static_cast<std::size_t>(st.range(0))));
  st.SetComplexityN(st.range(0));
}

// ---- ServiceEntry mutation and growth with object size ----------------------------------------

void mutate1MiB(benchmark::State& st) {
  const Payload& p = world().payloads[3];
  const auto decoded = aw::webhook::decodeAdmissionReview(p.body);
  const auto snapshot = world().state.current();
  const aw::rules::Context context{snapshot->alliance, snapshot->config.settings};
  const aw::rules::Request request = decoded.request->toRulesRequest();
  for (auto _ : st) {
    const aw::rules::Outcome outcome = aw::rules::mutate(request, context);
    benchmark::DoNotOptimize(aw::webhook::decide(outcome, snapshot->config.mode));
  }
}

const std::string& seBody(std::size_t n) {
  static std::map<std::size_t, std::string> cache;
  auto it = cache.find(n);
  if (it == cache.end())
    it = cache.emplace(n, aw::bench::reviewBody(aw::bench::serviceEntry(n, n / 20, 4))).first;
  return it->second;
}

void seEndpoints(benchmark::State& st) {
  const std::string& body = seBody(static_cast<std::size_t>(st.range(0)));
  const auto& h = *world().handler;
  for (auto _ : st) benchmark::DoNotOptimize(h.handle(Endpoint::Mutate, body));
  st.SetComplexityN(st.range(0));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * body.size()));
  st.counters["bytes"] = static_cast<double>(body.size());
}

void seMutate(benchmark::State& st) {
  const auto decoded =
      aw::webhook::decodeAdmissionReview(seBody(static_cast<std::size_t>(st.range(0))));
  const auto snapshot = world().state.current();
  const aw::rules::Context context{snapshot->alliance, snapshot->config.settings};
  const aw::rules::Request request = decoded.request->toRulesRequest();
  for (auto _ : st) {
    const aw::rules::Outcome outcome = aw::rules::mutate(request, context);
    benchmark::DoNotOptimize(aw::webhook::decide(outcome, snapshot->config.mode));
  }
  st.SetComplexityN(st.range(0));
}

}  // namespace

int main(int argc, char** argv) {
  setLogLevel("warn");  // the decision path without the per-admission log line
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const std::vector<Payload>& ps = world().payloads;
  for (const Payload& p : ps) {
    benchmark::RegisterBenchmark(("decision/" + p.name).c_str(), decision, &p)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("decision_log/service", decisionWithLogLine, &ps[0])
      ->Unit(benchmark::kMicrosecond);
  for (const Payload& p : ps) {
    benchmark::RegisterBenchmark(("decode/" + p.name).c_str(), decode, &p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("rules/" + p.name).c_str(), rulesAndDecide, &p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("encode/" + p.name).c_str(), encode, &p)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("member_vs_subnets", memberVsSubnets)
      ->Arg(10)
      ->Arg(1000)
      ->Arg(10000)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("alliance_build", allianceBuild)
      ->Arg(10)
      ->Arg(1000)
      ->Arg(10000)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("mutate_1mib", mutate1MiB)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("se_endpoints", seEndpoints)
      ->Arg(100)
      ->Arg(1000)
      ->Arg(10000)
      ->Complexity(benchmark::oN)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("se_mutate", seMutate)
      ->Arg(100)
      ->Arg(1000)
      ->Arg(10000)
      ->Complexity(benchmark::oN)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// aw_bench_driver: calls AdmissionHandler::handle N times in-process on one payload, for
// `valgrind --tool=callgrind --collect-atstart=no`: collection is switched on only around the
// measured loop (after warm-up calls), so the instruction total divided by N is the cost of one
// decision (decode -> rules -> decide -> encode, metrics, and the log line when --log-level info).
// Without valgrind it prints the wall time per call as a sanity figure.
#include <valgrind/callgrind.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "webhook/admission/handler.h"
#include "webhook/state/config.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace {
[[noreturn]] void usage() {
  std::cerr << "usage: aw_bench_driver --config FILE --body FILE --endpoint validate|mutate "
               "[--n N] [--warmup N] [--log-level warn|info]\n";
  std::exit(2);
}
}  // namespace

int main(int argc, char** argv) {
  std::string config, bodyFile, endpoint = "validate", level = "warn";
  long n = 100, warmup = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--config")
      config = v;
    else if (k == "--body")
      bodyFile = v;
    else if (k == "--endpoint")
      endpoint = v;
    else if (k == "--n")
      n = std::stol(v);
    else if (k == "--warmup")
      warmup = std::stol(v);
    else if (k == "--log-level")
      level = v;
    else
      usage();
  }
  if (config.empty() || bodyFile.empty() || n <= 0 || (argc - 1) % 2 != 0) usage();

  std::string error;
  // Log lines (at info) are formatted and written as in serve; run with 2>/dev/null.
  if (!aw::webhook::log::setup("json", level, error)) {
    std::cerr << error << "\n";
    return 2;
  }
  aw::webhook::ConfigResult loaded = aw::webhook::loadConfig(config);
  if (!loaded.config) {
    std::cerr << "aw_bench_driver: " << loaded.error << "\n";
    return 2;
  }
  std::ifstream in(bodyFile, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string body = s.str();
  if (body.empty()) {
    std::cerr << "aw_bench_driver: cannot read " << bodyFile << "\n";
    return 2;
  }

  aw::webhook::Metrics metrics;
  aw::webhook::State state;
  state.replace(aw::webhook::makeSnapshot(std::move(*loaded.config)));
  const aw::webhook::AdmissionHandler handler(state, metrics);
  const auto e =
      endpoint == "mutate" ? aw::webhook::Endpoint::Mutate : aw::webhook::Endpoint::Validate;

  aw::webhook::HttpResult first;
  // As the server hands it over: followed by readable padding, parsed where it lies.
  const std::string padded = body + std::string(aw::webhook::kBodyPadding, '\0');
  const std::string_view view(padded.data(), body.size());
  for (long i = 0; i < warmup; ++i) first = handler.handle(e, view, true);
  std::size_t answered = 0;
  const auto start = std::chrono::steady_clock::now();
  CALLGRIND_ZERO_STATS;
  CALLGRIND_TOGGLE_COLLECT;
  for (long i = 0; i < n; ++i) answered += handler.handle(e, view, true).body.size();
  CALLGRIND_TOGGLE_COLLECT;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("status %d\nresponse_bytes %zu\nrequests %ld\nwall_us_per_req %.3f\n", first.status,
              answered / static_cast<std::size_t>(n), n, seconds * 1e6 / double(n));
  std::printf("allowed %s\npatched %s\n",
              first.body.find("\"allowed\":true") != std::string::npos ? "true" : "false",
              first.body.find("\"patch\"") != std::string::npos ? "true" : "false");
  return first.status == 200 ? 0 : 1;
}

// Shared by the fuzz targets: a realistic configuration, and a way to abort with a message that
// libFuzzer reports as a crash (with the input saved as crash-<sha1>).
#pragma once

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "webhook/state/config.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"

namespace aw::fuzz {

// examples/config.yaml plus an IPv6 local subnet, an IstioMulticluster member and every rule
// switched on, so the fuzzed objects can reach every rule and every overlap path.
inline constexpr const char* kConfig = R"(mode: enforce
localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: [10.111.0.0/16, fd00:111::/64]
  serviceSubnetCIDR: 10.222.0.0/16
members:
  - name: cluster-c
    kind: IstioFederation
    clusterDomain: cluster-c.local
    podSubnetCIDR: 10.113.0.0/16
    serviceSubnetCIDR: 10.223.0.0/16
  - name: cluster-m
    kind: IstioMulticluster
    clusterDomain: cluster-a.local
    podSubnetCIDR: 10.114.0.0/16
    serviceSubnetCIDR: 10.224.0.0/16
rules:
  service-port-names:    { action: deny, scope: public }
  service-port-protocol: { action: warn, scope: all }
  federation-trust-domain: { action: deny }
  multicluster-cluster-domain: { action: deny }
  subnet-overlap:        { action: deny, multiNetworkAction: warn, unknownSubnets: warn }
  serviceentry-ports:    { action: warn }
  serviceentry-defaults: { action: on }
)";

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The webhook's logger at level info, so that the admission log lines (which format request
// fields) are exercised, writing nowhere.
inline void logToNowhere() {
  std::string error;
  if (!webhook::log::setup("json", "info", error)) fail(error);
  auto logger = spdlog::get("alliance-webhook");
  if (!logger) fail("no alliance-webhook logger");
  logger->sinks().clear();
  logger->sinks().push_back(std::make_shared<spdlog::sinks::null_sink_mt>());
}

// The configuration above; aborts if it does not parse (a broken harness, not a finding).
inline webhook::Config fuzzConfig() {
  webhook::ConfigResult parsed = webhook::parseConfig(kConfig, "fuzz-config", "/nonexistent");
  if (!parsed.config) fail("the fuzz configuration does not parse: " + parsed.error);
  return std::move(*parsed.config);
}

}  // namespace aw::fuzz

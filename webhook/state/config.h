// The configuration file (SPEC §3): strict YAML, every error names the key path and the line.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rules/model/alliance.h"
#include "rules/settings.h"
#include "webhook/state/exemptions.h"
#include "webhook/state/mode.h"

namespace aw::webhook {

// On UPDATE, what a deny finding that the old object has too does (SPEC §4.1).
enum class ExistingViolations { Warn, Deny };

struct ClusterSettings {
  bool present = false;  // a `cluster:` block was written
  bool watch = false;
  std::string kubeconfig;
  std::string secretNamespace;
  std::string secretName;
  bool readyAfterSync = true;
  bool operator==(const ClusterSettings&) const = default;
};

// The background audit (SPEC §9): on when the block is written and cluster.watch is true.
struct AuditSettings {
  bool present = false;  // an `audit:` block was written
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  bool services = true;  // audit public federation Services too
  // The report writers' Lease: held this long without a renewal before another replica takes it.
  std::chrono::milliseconds leaseDuration{std::chrono::seconds(15)};
  bool operator==(const AuditSettings&) const = default;
};

struct Config {
  Mode mode = Mode::Enforce;
  ExistingViolations existingViolations = ExistingViolations::Warn;
  Exemptions exemptions;
  rules::LocalCluster local;
  std::vector<rules::Member> members;
  rules::Settings settings;
  ClusterSettings cluster;
  AuditSettings audit;
  // Files the configuration was read from; a change to any of them triggers a reload.
  std::vector<std::filesystem::path> sources;
  // What serve says once at start-up: checks skipped for lack of data, and the like.
  std::vector<std::string> notes;
};

struct ConfigResult {
  std::optional<Config> config;
  std::string error;  // "FILE:LINE: key.path: what is wrong (what to do)"
};

// A Deckhouse ClusterConfiguration document (apiVersion deckhouse.io/v1, kind
// ClusterConfiguration, as in localCluster.clusterConfigurationFile or the
// cluster-configuration.yaml key of Secret kube-system/d8-cluster-configuration): its
// clusterDomain, podSubnetCIDR and serviceSubnetCIDR as a local cluster. `source` names it in
// errors and in the paths findings cite ("Secret kube-system/d8-cluster-configuration:
// podSubnetCIDR").
// A document without clusterDomain means cluster.local, the platform's default; `note` then
// says so.
struct ClusterConfigurationResult {
  std::optional<rules::LocalCluster> local;
  std::string error;  // "SOURCE:LINE: key: what is wrong"
  std::string note;   // what was assumed, for a start-up note or log line
};
ClusterConfigurationResult parseClusterConfiguration(const std::string& text,
                                                     const std::string& source);
// Fills what `local` lacks (the domain; the pod subnets; the service subnets) from `from`.
void fillLocalCluster(rules::LocalCluster& local, const rules::LocalCluster& from);

// Parses configuration text. `source` names it in errors; relative paths inside it
// (localCluster.clusterConfigurationFile) are resolved against `baseDir`.
ConfigResult parseConfig(const std::string& text, const std::string& source,
                         const std::filesystem::path& baseDir);
// Reads and parses a file.
ConfigResult loadConfig(const std::filesystem::path& path);
// loadConfig(*file), or every default when no file is named (no --config).
ConfigResult loadConfigOrDefaults(const std::optional<std::string>& file);
// The configuration used when no --config is given: every default, no cluster data.
Config defaultConfig();

}  // namespace aw::webhook

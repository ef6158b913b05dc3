// The configuration file (SPEC §3): strict YAML, every error names the key path and the line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rules/alliance.h"
#include "rules/options.h"

namespace aw::webhook {

enum class Mode { Enforce, Audit };
std::string_view modeName(Mode m);

struct ClusterSettings {
  bool present = false;  // a `cluster:` block was written
  bool watch = false;
  std::string kubeconfig;
  std::string secretNamespace;
  std::string secretName;
  bool readyAfterSync = true;
};

struct Config {
  Mode mode = Mode::Enforce;
  rules::LocalCluster local;
  std::vector<rules::Member> members;
  rules::Settings settings;
  ClusterSettings cluster;
  // Files the configuration was read from; a change to any of them triggers a reload.
  std::vector<std::filesystem::path> sources;
  // What serve says once at start-up: checks skipped for lack of data, and the like.
  std::vector<std::string> notes;
};

struct ConfigResult {
  std::optional<Config> config;
  std::string error;  // "FILE:LINE: key.path: what is wrong (what to do)"
};

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

#include "webhook/state/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "common/text.h"
#include "rules/model/cidr.h"
#include "rules/model/keys.h"
#include "rules/model/kinds.h"
#include "rules/registry.h"
#include "webhook/base/files.h"
#include "webhook/base/quantities.h"
#include "webhook/base/strict_yaml.h"

namespace aw::webhook {

namespace {

bool hasRole(const std::vector<rules::Subnet>& subnets, rules::SubnetRole role) {
  return std::any_of(subnets.begin(), subnets.end(), [&](const auto& s) { return s.role == role; });
}

// Thrown inside this file only; parseConfig turns it into ConfigResult::error.
struct ConfigError {
  std::string message;
};

class Parser {
 public:
  Parser(std::string source, std::filesystem::path baseDir)
      : source_(std::move(source)), baseDir_(std::move(baseDir)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) {
    std::string where = source_;
    if (node.IsDefined() && node.Mark().line >= 0)
      where += ":" + std::to_string(node.Mark().line + 1);
    throw ConfigError{where + ": " + path + ": " + what};
  }

  // A CIDR or a list of CIDRs; every element strict.
  void cidrs(const YAML::Node& node, const std::string& path, rules::SubnetRole role,
             std::vector<rules::Subnet>& out) {
    auto one = [&](const YAML::Node& n, const std::string& p) {
      const std::string text = yaml_.scalar(n, p);
      rules::CidrParse parsed = rules::parseCidr(text);
      if (!parsed.cidr) {
        std::string what = aw::quote(text) + " is not a valid CIDR: " + parsed.error;
        if (!parsed.suggestion.empty()) what += ", did you mean " + parsed.suggestion + "?";
        fail(n, p, what);
      }
      out.push_back({*parsed.cidr, role, p});
    };
    if (node.IsSequence()) {
      if (node.size() == 0) fail(node, path, "empty list, give at least one CIDR or drop the key");
      for (std::size_t i = 0; i < node.size(); ++i) {
        one(node[i], path + "[" + std::to_string(i) + "]");
      }
    } else {
      one(node, path);
    }
  }

  Config parse(const std::string& text) {
    std::string syntaxError;
    const std::optional<YAML::Node> loaded = loadYaml(text, source_, syntaxError);
    if (!loaded) throw ConfigError{syntaxError};
    const YAML::Node& root = *loaded;
    Config config;
    config.mode = Mode::Enforce;
    if (root.IsNull() || !root.IsDefined()) return finish(config);
    yaml_.expectKeys(root, "",
                     {"mode", "existingViolations", "exemptions", "localCluster", "members",
                      "cluster", "audit", "rules"});
    if (const YAML::Node mode = root["mode"]; mode && !mode.IsNull()) {
      config.mode =
          yaml_.oneOf(mode, "mode", {"enforce", "audit"}) == 0 ? Mode::Enforce : Mode::Audit;
    }
    if (const YAML::Node e = root["existingViolations"]; e && !e.IsNull()) {
      config.existingViolations = yaml_.oneOf(e, "existingViolations", {"warn", "deny"}) == 0
                                      ? ExistingViolations::Warn
                                      : ExistingViolations::Deny;
    }
    if (const YAML::Node e = root["exemptions"]; e && !e.IsNull()) {
      parseExemptions(e, config.exemptions);
    }
    if (const YAML::Node local = root["localCluster"]; local && !local.IsNull()) {
      parseLocal(local, config);
    }
    if (const YAML::Node members = root["members"]; members && !members.IsNull()) {
      parseMembers(members, config);
    }
    if (const YAML::Node cluster = root["cluster"]; cluster && !cluster.IsNull()) {
      parseCluster(cluster, config.cluster);
    }
    if (const YAML::Node rules = root["rules"]; rules && !rules.IsNull()) {
      parseRules(rules, config.settings);
    }
    if (const YAML::Node audit = root["audit"]; audit && !audit.IsNull()) {
      parseAudit(audit, config.audit);
    }
    return finish(config);
  }

 private:
  void parseLocal(const YAML::Node& node, Config& config) {
    yaml_.expectKeys(
        node, "localCluster",
        {"clusterConfigurationFile", "clusterDomain", "podSubnetCIDR", "serviceSubnetCIDR"});
    rules::LocalCluster& local = config.local;
    if (const YAML::Node d = node["clusterDomain"]; d && !d.IsNull()) {
      local.domain = yaml_.scalar(d, "localCluster.clusterDomain");
      local.domainPath = "localCluster.clusterDomain";
    }
    if (const YAML::Node p = node["podSubnetCIDR"]; p && !p.IsNull()) {
      cidrs(p, "localCluster.podSubnetCIDR", rules::SubnetRole::Pod, local.subnets);
    }
    if (const YAML::Node s = node["serviceSubnetCIDR"]; s && !s.IsNull()) {
      cidrs(s, "localCluster.serviceSubnetCIDR", rules::SubnetRole::Service, local.subnets);
    }
    if (const YAML::Node f = node["clusterConfigurationFile"]; f && !f.IsNull()) {
      const std::string file = yaml_.scalar(f, "localCluster.clusterConfigurationFile");
      std::filesystem::path path(file);
      if (path.is_relative()) path = baseDir_ / path;
      config.sources.push_back(path);
      fillFromClusterConfiguration(f, path, local);
    }
  }

  // A Deckhouse ClusterConfiguration fills what the inline keys left out.
  void fillFromClusterConfiguration(const YAML::Node& at, const std::filesystem::path& path,
                                    rules::LocalCluster& local) {
    const std::string key = "localCluster.clusterConfigurationFile";
    std::string error;
    std::optional<std::string> text = readFile(path, error);
    if (!text) fail(at, key, error);
    ClusterConfigurationResult parsed = parseClusterConfiguration(*text, path.string());
    if (!parsed.local) fail(at, key, parsed.error);
    if (local.domain.empty() && !parsed.note.empty()) notes_.push_back(parsed.note);
    fillLocalCluster(local, *parsed.local);
  }

 public:
  // The whole of a ClusterConfiguration document (see parseClusterConfiguration).
  rules::LocalCluster clusterConfiguration(const std::string& text) {
    std::string syntaxError;
    const std::optional<YAML::Node> loaded = loadYaml(text, source_, syntaxError, false);
    if (!loaded) throw ConfigError{syntaxError};
    const YAML::Node& doc = *loaded;
    if (!doc.IsMap()) fail(doc, "", "expected a Deckhouse ClusterConfiguration document");
    const YAML::Node kind = doc["kind"];
    const YAML::Node api = doc["apiVersion"];
    if (!kind || !kind.IsScalar() || kind.Scalar() != "ClusterConfiguration" || !api ||
        !api.IsScalar() || api.Scalar() != "deckhouse.io/v1") {
      fail(doc, "kind", "expected apiVersion: deckhouse.io/v1 and kind: ClusterConfiguration");
    }
    rules::LocalCluster local;
    if (const YAML::Node d = doc["clusterDomain"]; d && !d.IsNull()) {
      local.domain = yaml_.scalar(d, "clusterDomain");
      local.domainPath = source_ + ": clusterDomain";
    } else {
      local.domain = std::string(rules::keys::kClusterLocal);
      local.domainPath = source_ + ": clusterDomain, absent: the platform's default";
      notes_.push_back(source_ + " has no clusterDomain: the local cluster domain is " +
                       std::string(rules::keys::kClusterLocal) + ", the platform's default");
    }
    if (const YAML::Node p = doc["podSubnetCIDR"]; p && !p.IsNull()) {
      cidrs(p, source_ + ": podSubnetCIDR", rules::SubnetRole::Pod, local.subnets);
    }
    if (const YAML::Node s = doc["serviceSubnetCIDR"]; s && !s.IsNull()) {
      cidrs(s, source_ + ": serviceSubnetCIDR", rules::SubnetRole::Service, local.subnets);
    }
    return local;
  }

 private:
  void parseMembers(const YAML::Node& node, Config& config) {
    if (!node.IsSequence()) fail(node, "members", "expected a list of members");
    std::set<std::pair<rules::KindId, std::string>> seen;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string at = "members[" + std::to_string(i) + "]";
      const YAML::Node m = node[i];
      yaml_.expectKeys(m, at,
                       {"name", "kind", "clusterDomain", "podSubnetCIDR", "serviceSubnetCIDR"});
      rules::Member member;
      const YAML::Node name = m["name"];
      if (!name || name.IsNull()) fail(m, at + ".name", "missing: every member needs a name");
      member.name = yaml_.scalar(name, at + ".name");
      if (member.name.empty()) fail(name, at + ".name", "empty: every member needs a name");
      if (const YAML::Node kind = m["kind"]; kind && !kind.IsNull()) {
        member.kind = yaml_.oneOf(kind, at + ".kind", {"IstioFederation", "IstioMulticluster"}) == 0
                          ? rules::KindId::IstioFederation
                          : rules::KindId::IstioMulticluster;
      }
      if (!seen.insert({member.kind, member.name}).second) {
        fail(name, at + ".name",
             aw::quote(member.name) + " is listed twice for the same kind; merge the entries");
      }
      if (const YAML::Node d = m["clusterDomain"]; d && !d.IsNull()) {
        member.domain = yaml_.scalar(d, at + ".clusterDomain");
        member.domainPath = at + ".clusterDomain";
      }
      if (const YAML::Node p = m["podSubnetCIDR"]; p && !p.IsNull()) {
        cidrs(p, at + ".podSubnetCIDR", rules::SubnetRole::Pod, member.subnets);
        member.podDeclared = true;
      }
      if (const YAML::Node s = m["serviceSubnetCIDR"]; s && !s.IsNull()) {
        cidrs(s, at + ".serviceSubnetCIDR", rules::SubnetRole::Service, member.subnets);
        member.serviceDeclared = true;
      }
      member.origin = "member " + member.name + " (" + at + ")";
      config.members.push_back(std::move(member));
    }
  }

  void parseExemptions(const YAML::Node& node, Exemptions& exemptions) {
    yaml_.expectKeys(node, "exemptions", {"namespaces", "usernames", "groups"});
    auto patterns = [&](const char* key, std::vector<std::string>& out) {
      const YAML::Node list = node[key];
      if (!list || list.IsNull()) return;
      const std::string at = std::string("exemptions.") + key;
      if (!list.IsSequence()) fail(list, at, "expected a list of names");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string p = at + "[" + std::to_string(i) + "]";
        const std::string pattern = yaml_.scalar(list[i], p);
        if (std::string why = exemptionPatternError(pattern); !why.empty()) fail(list[i], p, why);
        out.push_back(pattern);
      }
    };
    patterns("namespaces", exemptions.namespaces);
    patterns("usernames", exemptions.usernames);
    patterns("groups", exemptions.groups);
  }

  void parseCluster(const YAML::Node& node, ClusterSettings& cluster) {
    yaml_.expectKeys(node, "cluster",
                     {"watch", "kubeconfig", "clusterConfigurationSecret", "readyAfterSync"});
    cluster.present = true;
    if (const YAML::Node w = node["watch"]; w && !w.IsNull())
      cluster.watch = yaml_.boolean(w, "cluster.watch");
    if (const YAML::Node k = node["kubeconfig"]; k && !k.IsNull()) {
      std::filesystem::path file(yaml_.scalar(k, "cluster.kubeconfig"));
      if (file.is_relative()) file = baseDir_ / file;
      cluster.kubeconfig = file.string();
    }
    if (const YAML::Node s = node["clusterConfigurationSecret"]; s && !s.IsNull()) {
      const std::string v = yaml_.scalar(s, "cluster.clusterConfigurationSecret");
      const auto slash = v.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == v.size() ||
          v.find('/', slash + 1) != std::string::npos) {
        fail(s, "cluster.clusterConfigurationSecret",
             aw::quote(v) +
                 " is not NAMESPACE/NAME (for example kube-system/d8-cluster-configuration)");
      }
      cluster.secretNamespace = v.substr(0, slash);
      cluster.secretName = v.substr(slash + 1);
    }
    if (const YAML::Node r = node["readyAfterSync"]; r && !r.IsNull()) {
      cluster.readyAfterSync = yaml_.boolean(r, "cluster.readyAfterSync");
    }
  }

  void parseAudit(const YAML::Node& node, AuditSettings& audit) {
    yaml_.expectKeys(node, "audit", {"interval", "services", "leaseDuration"});
    audit.present = true;
    if (const YAML::Node i = node["interval"]; i && !i.IsNull()) {
      audit.interval = duration(i, "audit.interval", std::chrono::seconds(5));
    }
    if (const YAML::Node s = node["services"]; s && !s.IsNull()) {
      audit.services = yaml_.boolean(s, "audit.services");
    }
    if (const YAML::Node l = node["leaseDuration"]; l && !l.IsNull()) {
      audit.leaseDuration = duration(l, "audit.leaseDuration", std::chrono::seconds(2));
    }
  }

  // A duration such as 30s or 5m, at least `min`.
  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& path,
                                     std::chrono::seconds min) {
    const std::string text = yaml_.scalar(node, path);
    std::chrono::milliseconds value{0};
    std::string ignored;
    if (!parseDuration(path, text, value, ignored)) {
      fail(node, path, aw::quote(text) + " is not a duration: write it like 30s or 5m");
    }
    if (value < min) {
      fail(node, path,
           aw::quote(text) + " is shorter than the minimum " + std::to_string(min.count()) +
               "s: give at least " + std::to_string(min.count()) + "s");
    }
    return value;
  }

  void parseRules(const YAML::Node& node, rules::Settings& settings) {
    std::vector<std::string_view> ids;
    for (const rules::RuleInfo& r : rules::registry()) ids.push_back(r.id);
    if (!node.IsMap()) fail(node, "rules", "expected a mapping of rule ids to their options");
    for (const auto& kv : node) {
      const std::string id = kv.first.Scalar();
      const std::string at = "rules." + id;
      rules::RuleOptions* options = settings.find(id);
      if (options == nullptr) fail(kv.first, at, "unknown rule (known rules: " + listOf(ids) + ")");
      if (kv.second.IsNull()) continue;
      std::vector<std::string_view> keys;
      for (const rules::OptionSpec& o : options->info().options) keys.push_back(o.key);
      yaml_.expectKeys(kv.second, at, keys);
      for (const auto& opt : kv.second) {
        const std::string key = opt.first.Scalar();
        const std::string value = yaml_.scalar(opt.second, at + "." + key);
        if (!options->set(key, value)) {
          for (const rules::OptionSpec& o : options->info().options) {
            if (o.key == key) {
              fail(opt.second, at + "." + key,
                   aw::quote(value) + " is not one of " +
                       listOf(std::vector<std::string_view>(o.values.begin(), o.values.end())));
            }
          }
        }
      }
    }
  }

  Config& finish(Config& config) {
    config.notes.insert(config.notes.end(), notes_.begin(), notes_.end());
    if (config.audit.present && !config.cluster.watch) {
      config.notes.push_back(
          "audit: the background audit is off: it audits what the cluster holds, so it needs "
          "cluster.watch: true");
    }
    config.settings.inherit();
    // The ClusterConfiguration Secret fills the local cluster later; serve reports what it read.
    if (!config.cluster.secretName.empty()) return config;
    const bool hasPod = hasRole(config.local.subnets, rules::SubnetRole::Pod);
    const bool hasSvc = hasRole(config.local.subnets, rules::SubnetRole::Service);
    if (config.local.domain.empty()) {
      config.notes.push_back(
          "no local cluster domain (localCluster.clusterDomain): checks that compare with it are "
          "skipped");
    }
    if (!hasPod || !hasSvc) {
      config.notes.push_back(
          std::string("no local ") +
          (!hasPod && !hasSvc ? "pod and service subnets"
           : !hasPod          ? "pod subnet"
                              : "service subnet") +
          " (localCluster.podSubnetCIDR, serviceSubnetCIDR): overlaps with the local cluster are "
          "not checked");
    }
    return config;
  }

  std::string source_;
  std::filesystem::path baseDir_;
  StrictYaml yaml_{[this](const YAML::Node& node, const std::string& path,
                          const std::string& what) { fail(node, path, what); }};

 public:
  std::vector<std::string> notes_;  // what was assumed while parsing
};

}  // namespace

ConfigResult parseConfig(const std::string& text, const std::string& source,
                         const std::filesystem::path& baseDir) {
  ConfigResult result;
  try {
    Parser parser(source, baseDir);
    result.config = parser.parse(text);
  } catch (const ConfigError& e) {
    result.error = e.message;
  } catch (const YAML::Exception& e) {
    result.error = source + ": " + e.msg;
  }
  return result;
}

ConfigResult loadConfig(const std::filesystem::path& path) {
  std::string error;
  std::optional<std::string> text = readFile(path, error);
  if (!text) return {std::nullopt, error};
  ConfigResult result = parseConfig(*text, path.string(), path.parent_path());
  if (result.config) result.config->sources.insert(result.config->sources.begin(), path);
  return result;
}

ConfigResult loadConfigOrDefaults(const std::optional<std::string>& file) {
  if (file) return loadConfig(*file);
  return {defaultConfig(), ""};
}

ClusterConfigurationResult parseClusterConfiguration(const std::string& text,
                                                     const std::string& source) {
  ClusterConfigurationResult result;
  try {
    Parser parser(source, ".");
    result.local = parser.clusterConfiguration(text);
    if (!parser.notes_.empty()) result.note = parser.notes_.front();
  } catch (const ConfigError& e) {
    result.error = e.message;
  } catch (const YAML::Exception& e) {
    result.error = source + ": " + e.msg;
  }
  return result;
}

void fillLocalCluster(rules::LocalCluster& local, const rules::LocalCluster& from) {
  const bool hasPod = hasRole(local.subnets, rules::SubnetRole::Pod);
  const bool hasSvc = hasRole(local.subnets, rules::SubnetRole::Service);
  if (local.domain.empty() && !from.domain.empty()) {
    local.domain = from.domain;
    local.domainPath = from.domainPath;
  }
  for (const rules::Subnet& s : from.subnets) {
    if ((s.role == rules::SubnetRole::Pod && !hasPod) ||
        (s.role == rules::SubnetRole::Service && !hasSvc)) {
      local.subnets.push_back(s);
    }
  }
}

Config defaultConfig() {
  ConfigResult r = parseConfig("", "(defaults)", ".");
  return std::move(*r.config);
}

}  // namespace aw::webhook

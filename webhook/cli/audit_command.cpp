// `alliance-webhook audit`: the scan of `check`, once, over what a live cluster holds — every
// IstioFederation and IstioMulticluster, and every Service labelled
// federation.istio.deckhouse.io/public-service — each judged as if it were created now against
// all the others. `istioctl analyze` for the alliance rules.
#include <iostream>

#include "rules/model/keys.h"
#include "webhook/audit/scan.h"
#include "webhook/cli/commands.h"
#include "webhook/cli/flags.h"
#include "webhook/kube/kube_list.h"
#include "webhook/state/cluster_sync.h"

namespace aw::webhook {

namespace {

const std::vector<FlagSpec> kAuditFlags = {
    {"config", "FILE", "configuration file"},
    {"kubeconfig", "FILE", "kubeconfig (default: cluster.kubeconfig, else in-cluster)"},
    {"audit-only", "", "never deny: would-be denials become [audit] warnings"},
    {"output", "text|json", "report format (default text)"},
};

constexpr const char* kAuditAbout = R"(
Reads every IstioFederation, IstioMulticluster and public federation Service (label
federation.istio.deckhouse.io/public-service) of the cluster, and judges each as if it were
created now against all the others, with the rules and decision of serve. The local cluster comes
from the configuration and, when cluster.clusterConfigurationSecret is set, from that Secret.
Credentials: --kubeconfig, else cluster.kubeconfig, else the pod's service account.

Exit status: 0 nothing would be denied, 1 at least one object would be denied, 2 usage,
configuration or cluster access error.
)";

constexpr std::chrono::seconds kTimeout{60};

struct Source {
  std::string label;  // for messages: "istiofederations"
  std::string collection;
  std::string labelSelector;
};

// Every object of the sources, in order; false with `error` when one cannot be read.
bool readCluster(const kube::Client& client, const std::vector<Source>& sources,
                 std::vector<ManifestObject>& out, std::string& error) {
  for (const Source& s : sources) {
    kube::ListOptions options;
    options.labelSelector = s.labelSelector;
    options.timeout = kTimeout;
    kube::ListResult listed = kube::listAll(client, s.collection, options);
    if (listed.outcome == kube::ListResult::Outcome::Failed) {
      error = listed.error;
      return false;
    }
    for (nlohmann::json& item : listed.items) {
      ManifestObject m;
      m.object = std::move(item);
      out.push_back(std::move(m));
    }
  }
  return true;
}

// Fills what the configuration leaves out of the local cluster from the Secret, as serve does.
bool readLocalCluster(const kube::Client& client, Config& config, std::string& error) {
  const ClusterSettings& c = config.cluster;
  if (c.secretName.empty()) return true;
  const std::string label = "Secret " + c.secretNamespace + "/" + c.secretName;
  kube::ListResult got = kube::getNamed(
      client, "/api/v1/namespaces/" + c.secretNamespace + "/secrets", c.secretName, kTimeout);
  if (got.outcome == kube::ListResult::Outcome::Failed) {
    error = got.error;
    return false;
  }
  if (got.items.empty()) {
    std::cerr << "note: " << label
              << " does not exist: the local cluster comes from the configuration alone\n";
    return true;
  }
  std::string why, note;
  std::optional<rules::LocalCluster> local =
      localClusterFromSecret(got.items.front(), label, why, note);
  if (!local) {
    error = label + ": " + why;
    return false;
  }
  if (!note.empty() && config.local.domain.empty()) std::cerr << "note: " << note << "\n";
  fillLocalCluster(config.local, *local);
  return true;
}

}  // namespace

const std::vector<FlagSpec>& auditFlags() {
  return kAuditFlags;
}

int runAudit(const std::vector<std::string>& args) {
  const ParsedFlags flags = parseFlags(args, kAuditFlags);
  if (flags.help) {
    std::cout << "Usage: " << usageLine("audit", kAuditFlags) << "\n" << kAuditAbout;
    return kExitOk;
  }
  auto usage = [](const std::string& e) {
    std::cerr << "alliance-webhook audit: " << e
              << "\nRun 'alliance-webhook audit --help' for usage.\n";
    return kExitUsage;
  };
  if (!flags.error.empty()) return usage(flags.error);
  if (!flags.positional.empty()) return usage("unexpected argument " + flags.positional.front());
  const std::string output = flags.get("output").value_or("text");
  if (output != "text" && output != "json")
    return usage("--output " + output + ": expected text or json");

  ConfigResult loaded = loadConfigOrDefaults(flags.get("config"));
  if (!loaded.config) {
    std::cerr << "alliance-webhook audit: invalid configuration: " << loaded.error << "\n";
    return kExitUsage;
  }
  Config config = std::move(*loaded.config);
  if (flags.has("audit-only")) config.mode = Mode::Audit;
  kube::ClusterAccessResult access = clusterAccess(config.cluster, flags.get("kubeconfig"));
  if (!access.access) {
    std::cerr << "alliance-webhook audit: cluster: " << access.error << "\n";
    return kExitUsage;
  }
  const kube::Client client(std::move(*access.access));
  std::string error;
  std::vector<ManifestObject> objects;
  const std::vector<Source> sources = {
      {"istiofederations", memberCollection(rules::KindId::IstioFederation), ""},
      {"istiomulticlusters", memberCollection(rules::KindId::IstioMulticluster), ""},
      {"services", "/api/v1/services", std::string(rules::keys::kPublicServiceLabel)},
  };
  if (!readLocalCluster(client, config, error) || !readCluster(client, sources, objects, error)) {
    std::cerr << "alliance-webhook audit: " << error << "\n";
    return kExitUsage;
  }
  ManifestSet set;
  set.objects = std::move(objects);
  const ScanResult scan = scanObjects(config, set.objects);
  if (output == "json") {
    printJsonReport(scan, set, config.mode, std::cout);
  } else {
    printTextReport(scan, set, config.mode, {"audited", "in the cluster"}, std::cout, std::cerr);
  }
  return scan.denied > 0 ? kExitDenied : kExitOk;
}

}  // namespace aw::webhook

// Live cluster state (SPEC §3 `cluster:`): every IstioFederation and IstioMulticluster the API
// server reports becomes a member, and the ClusterConfiguration Secret fills the local cluster.
// Each source is mirrored by a Reflector on its own thread and handed to the StateComposer,
// which publishes a new immutable snapshot; admission threads never wait for any of it.
// Only what the API server reports counts: an admission request (dry run or not) never
// changes what is known here.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "webhook/kube/kube_client.h"
#include "webhook/kube/kube_reflector.h"
#include "webhook/state/config.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

class ClusterSync {
 public:
  ClusterSync(kube::ClusterAccess access, const ClusterSettings& settings, StateComposer& composer,
              Metrics& metrics);
  ~ClusterSync();

  void start();
  void stop();

  // Empty once every source has been read at least once (or readyAfterSync is off); otherwise
  // what is still missing and why, for /readyz.
  std::string waitingFor() const;
  // Prometheus lines: members known, whether each source is synced, how long since it last
  // heard from the API server.
  void renderMetrics(std::string& out) const;

  class MemberTable;
  class SecretSource;

 private:
  kube::Client client_;
  ClusterSettings settings_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<MemberTable>> tables_;
  std::unique_ptr<SecretSource> secret_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
};

// The collection of a member kind's objects: /apis/GROUP/VERSION/RESOURCE.
std::string memberCollection(rules::KindId kind);

// The local cluster a ClusterConfiguration Secret describes (its cluster-configuration.yaml key,
// base64 in data); nullopt and `error` when it cannot be read. `label` names the Secret in
// errors and finding paths; `note` says what was assumed (a missing clusterDomain).
std::optional<rules::LocalCluster> localClusterFromSecret(const nlohmann::json& secret,
                                                          const std::string& label,
                                                          std::string& error, std::string& note);

// The ClusterAccess for the cluster block: --kubeconfig (or cluster.kubeconfig) when given,
// else the pod's service account.
kube::ClusterAccessResult clusterAccess(const ClusterSettings& settings,
                                        const std::optional<std::string>& kubeconfigFlag);

}  // namespace aw::webhook

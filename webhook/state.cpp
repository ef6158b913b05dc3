#include "webhook/state.h"

namespace aw::webhook {

std::shared_ptr<const Snapshot> makeSnapshot(Config config, const ClusterData& cluster) {
  rules::LocalCluster local = config.local;
  if (cluster.local) fillLocalCluster(local, *cluster.local);
  rules::Alliance alliance(std::move(local), config.members, cluster.observed);
  return std::make_shared<const Snapshot>(Snapshot{std::move(config), std::move(alliance)});
}

void StateComposer::setConfig(Config config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
  publish();
}

void StateComposer::setObserved(rules::KindId kind, std::vector<rules::Member> members) {
  std::lock_guard lock(mutex_);
  observed_[kind] = std::move(members);
  publish();
}

void StateComposer::setLocal(rules::LocalCluster local) {
  std::lock_guard lock(mutex_);
  local_ = std::move(local);
  publish();
}

void StateComposer::publish() {
  if (!config_) return;  // nothing to serve before the configuration is read
  ClusterData cluster;
  for (const auto& [kind, members] : observed_) {
    cluster.observed.insert(cluster.observed.end(), members.begin(), members.end());
  }
  cluster.local = local_;
  state_.replace(makeSnapshot(*config_, cluster));
}

}  // namespace aw::webhook

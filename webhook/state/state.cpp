#include "webhook/state/state.h"

namespace aw::webhook {

std::shared_ptr<const Snapshot> makeSnapshot(Config config, ClusterData cluster) {
  rules::LocalCluster local = config.local;
  if (cluster.local) fillLocalCluster(local, *cluster.local);
  rules::Alliance alliance(std::move(local), config.members, std::move(cluster.observed));
  rules::Plan plan(config.settings);
  return std::make_shared<const Snapshot>(
      Snapshot{std::move(config), std::move(alliance), std::move(plan)});
}

void StateComposer::setConfig(Config config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
  publish();
  ++configGeneration_;
}

void StateComposer::addMemberSource(MemberSource source) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(source));
}

void StateComposer::membersChanged() {
  std::lock_guard lock(mutex_);
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
  for (const MemberSource& source : sources_) source(cluster.observed);
  cluster.local = local_;
  state_.replace(makeSnapshot(*config_, std::move(cluster)));
}

}  // namespace aw::webhook

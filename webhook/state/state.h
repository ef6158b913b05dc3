// What admission threads read: the configuration in force and the alliance built from it and
// from the cluster's state. Immutable; replaced as a whole whenever a source changes, so readers
// never lock for long.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "rules/model/alliance.h"
#include "rules/plan.h"
#include "webhook/base/current.h"
#include "webhook/state/config.h"

namespace aw::webhook {

struct Snapshot {
  Config config;
  rules::Alliance alliance;
  rules::Plan plan;  // of config.settings
};

// What the Kubernetes API reports (cluster.watch, cluster.clusterConfigurationSecret).
struct ClusterData {
  // Members read from the cluster's IstioFederations and IstioMulticlusters alone (the
  // configuration's `members` entries fill in what they leave undeclared).
  std::vector<rules::Member> observed;
  // The local cluster from the ClusterConfiguration Secret: fills what the configuration's
  // localCluster (inline keys, then clusterConfigurationFile) leaves out.
  std::optional<rules::LocalCluster> local;
};

std::shared_ptr<const Snapshot> makeSnapshot(Config config, ClusterData cluster = {});

using State = Current<Snapshot>;

// The one place a snapshot is composed: the configuration file, the member tables of the watch
// and the Secret's local cluster each say when they change, and a new snapshot of all of them is
// published at once. Member sources are read when a snapshot is made, so each member is held by
// its table and by the snapshot, not copied a third time here.
class StateComposer {
 public:
  // Appends the members a source holds now; called with the composer's lock held.
  using MemberSource = std::function<void(std::vector<rules::Member>&)>;

  explicit StateComposer(State& state) : state_(state) {}

  const State& state() const { return state_; }
  void setConfig(Config config);
  void addMemberSource(MemberSource source);  // the source must outlive the composer's use
  void membersChanged();                      // a member source changed
  void setLocal(rules::LocalCluster local);
  // How many configurations were set so far: raised once a new one is published, so a reader
  // that sees a new number finds the new configuration in state().
  std::uint64_t configGeneration() const { return configGeneration_.load(); }

 private:
  void publish();  // with mutex_ held

  State& state_;
  std::mutex mutex_;
  std::optional<Config> config_;
  std::vector<MemberSource> sources_;
  std::optional<rules::LocalCluster> local_;
  std::atomic<std::uint64_t> configGeneration_{0};
};

}  // namespace aw::webhook

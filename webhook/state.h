// What admission threads read: the configuration in force and the alliance built from it.
// Immutable; replaced as a whole on reload, so readers never lock for long.
#pragma once

#include <memory>
#include <mutex>

#include "rules/alliance.h"
#include "webhook/config.h"

namespace aw::webhook {

struct Snapshot {
  Config config;
  rules::Alliance alliance;
};

std::shared_ptr<const Snapshot> makeSnapshot(Config config);

class State {
 public:
  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }
  void replace(std::shared_ptr<const Snapshot> next) {
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace aw::webhook

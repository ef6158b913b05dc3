// What admission threads read: the configuration in force and the alliance built from it.
// Immutable; replaced as a whole on reload, so readers never lock for long.
#pragma once

#include <memory>

#include "rules/alliance.h"
#include "webhook/config.h"
#include "webhook/current.h"

namespace aw::webhook {

struct Snapshot {
  Config config;
  rules::Alliance alliance;
};

std::shared_ptr<const Snapshot> makeSnapshot(Config config);

using State = Current<Snapshot>;

}  // namespace aw::webhook

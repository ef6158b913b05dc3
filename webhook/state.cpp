#include "webhook/state.h"

namespace aw::webhook {

std::shared_ptr<const Snapshot> makeSnapshot(Config config) {
  rules::Alliance alliance(config.local, config.members);
  return std::make_shared<const Snapshot>(Snapshot{std::move(config), std::move(alliance)});
}

}  // namespace aw::webhook

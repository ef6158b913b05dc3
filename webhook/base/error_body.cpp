#include "webhook/base/error_body.h"

#include <nlohmann/json.hpp>

namespace aw::webhook {

std::string errorBody(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

}  // namespace aw::webhook

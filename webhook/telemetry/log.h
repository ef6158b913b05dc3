// Structured logging on spdlog: one line per event, JSON or key=value text, to standard error.
#pragma once

#include <spdlog/common.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aw::webhook::log {

enum class Format { Json, Text };

// Returns false (and sets error) for an unknown format or level name.
bool setup(std::string_view format, std::string_view level, std::string& error);

// Writes `message` with the fields of `fields` (a JSON object).
void event(spdlog::level::level_enum level, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  event(spdlog::level::info, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  event(spdlog::level::warn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  event(spdlog::level::err, m, f);
}
inline void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  event(spdlog::level::debug, m, f);
}
bool enabled(spdlog::level::level_enum level);

}  // namespace aw::webhook::log

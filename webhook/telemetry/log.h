// Structured logging on spdlog: one line per event, JSON or key=value text, to standard error.
#pragma once

#include <spdlog/common.h>

#include <nlohmann/json.hpp>
#include <span>
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

// The text event() writes after the timestamp and level: `"msg":...,"key":value...` (JSON) or
// `message key=value...` (text), the fields in the object's order (nlohmann::json: by key).
std::string formatEvent(Format format, std::string_view message, const nlohmann::json& fields);

// One log line for the request path, formatted once into a per-thread buffer and written to
// standard error with one write(2): no JSON tree, no second formatting by spdlog. For the same
// fields in the same order it writes byte for byte what event() writes (its fields are a
// nlohmann::json object, so callers who replace an event() give the fields in key order).
// One Line at a time per thread; check enabled() before building one.
class Line {
 public:
  Line(spdlog::level::level_enum level, std::string_view message);
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& str(std::string_view key, std::string_view value);
  Line& flag(std::string_view key, bool value);
  Line& number(std::string_view key, double value);
  Line& strings(std::string_view key, std::span<const std::string_view> values);

  // The fields so far as formatEvent() gives them (for tests).
  std::string_view body() const;
  // Writes timestamp, level, body and newline with one write(2), if the level is enabled.
  void write();

 private:
  Line& key(std::string_view key);
  spdlog::level::level_enum level_;
  Format format_;
  std::string& buf_;
};

}  // namespace aw::webhook::log

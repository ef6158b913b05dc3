#include "webhook/telemetry/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace aw::webhook::log {

namespace {
Format gFormat = Format::Text;

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto made = spdlog::stderr_logger_mt("alliance-webhook");
    made->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    made->flush_on(spdlog::level::trace);
    return made;
  }();
  return l;
}

std::string textValue(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const bool plain = !s.empty() && s.find_first_of(" \"=\t\n") == std::string::npos;
    return plain ? s
                 : nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

bool setup(std::string_view format, std::string_view level, std::string& error) {
  if (format == "json") {
    gFormat = Format::Json;
    logger()->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                          spdlog::pattern_time_type::utc);
  } else if (format == "text") {
    gFormat = Format::Text;
    logger()->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  } else {
    error = "--log-format " + std::string(format) + ": expected json or text";
    return false;
  }
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
  };
  for (const auto& [name, l] : kLevels) {
    if (name == level) {
      logger()->set_level(l);
      return true;
    }
  }
  error = "--log-level " + std::string(level) + ": expected trace, debug, info, warn or error";
  return false;
}

bool enabled(spdlog::level::level_enum level) {
  return logger()->should_log(level);
}

void event(spdlog::level::level_enum level, std::string_view message,
           const nlohmann::json& fields) {
  auto l = logger();
  if (!l->should_log(level)) return;
  std::string line;
  if (gFormat == Format::Json) {
    line = "\"msg\":" +
           nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += ",\"" + it.key() +
              "\":" + it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  } else {
    line = std::string(message);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += " " + it.key() + "=" + textValue(it.value());
    }
  }
  l->log(level, line);
}

}  // namespace aw::webhook::log

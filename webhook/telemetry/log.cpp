#include "webhook/telemetry/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/json_text.h"

namespace aw::webhook::log {

namespace {
Format gFormat = Format::Text;

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> l = [] {
    auto made = spdlog::stderr_logger_mt("alliance-webhook");
    made->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    made->flush_on(spdlog::level::trace);
    return made;
  }();
  return *l;
}

std::string dumped(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string textValue(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const bool plain = !s.empty() && s.find_first_of(" \"=\t\n") == std::string::npos;
    return plain ? s : dumped(nlohmann::json(s));
  }
  return dumped(v);
}

// What dumped(nlohmann::json(v)) gives: nlohmann's shortest round-trip form, null if not finite.
void appendNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char digits[64];
  const char* end = nlohmann::detail::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// Room kept before a Line's body for the timestamp and level, which are known only when written.
constexpr std::size_t kPrefixRoom = 64;

std::string& lineBuffer() {
  thread_local std::string buffer = [] {
    std::string b;
    b.reserve(1024);
    return b;
  }();
  return buffer;
}

// "2024-05-01T12:34:56.789Z", as spdlog's %Y-%m-%dT%H:%M:%S.%eZ in UTC; the part up to the second
// is formatted once per second per thread.
std::size_t timestamp(char* out) {
  thread_local std::time_t cachedSecond = -1;
  thread_local char cached[24];
  const auto now = std::chrono::system_clock::now();
  const std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cachedSecond) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cachedSecond = second;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const int milli = static_cast<int>(ms.count() % 1000);
  std::memcpy(out, cached, 19);
  out[19] = '.';
  out[20] = static_cast<char>('0' + milli / 100);
  out[21] = static_cast<char>('0' + milli / 10 % 10);
  out[22] = static_cast<char>('0' + milli % 10);
  out[23] = 'Z';
  return 24;
}

void writeAll(const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report a failed log write
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}
}  // namespace

bool setup(std::string_view format, std::string_view level, std::string& error) {
  if (format == "json") {
    gFormat = Format::Json;
    logger().set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                         spdlog::pattern_time_type::utc);
  } else if (format == "text") {
    gFormat = Format::Text;
    logger().set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
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
      logger().set_level(l);
      return true;
    }
  }
  error = "--log-level " + std::string(level) + ": expected trace, debug, info, warn or error";
  return false;
}

bool enabled(spdlog::level::level_enum level) {
  return logger().should_log(level);
}

std::string formatEvent(Format format, std::string_view message, const nlohmann::json& fields) {
  std::string line;
  if (format == Format::Json) {
    line = "\"msg\":" + dumped(nlohmann::json(message));
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += ",\"" + it.key() + "\":" + dumped(it.value());
    }
  } else {
    line = std::string(message);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      line += " " + it.key() + "=" + textValue(it.value());
    }
  }
  return line;
}

void event(spdlog::level::level_enum level, std::string_view message,
           const nlohmann::json& fields) {
  spdlog::logger& l = logger();
  if (!l.should_log(level)) return;
  l.log(level, formatEvent(gFormat, message, fields));
}

Line::Line(spdlog::level::level_enum level, std::string_view message)
    : level_(level), format_(gFormat), buf_(lineBuffer()) {
  buf_.assign(kPrefixRoom, ' ');
  if (format_ == Format::Json) {
    buf_ += "\"msg\":";
    aw::json::appendString(buf_, message);
  } else {
    buf_ += message;
  }
}

Line& Line::key(std::string_view key) {
  if (format_ == Format::Json) {
    buf_ += ",\"";
    buf_ += key;
    buf_ += "\":";
  } else {
    buf_ += ' ';
    buf_ += key;
    buf_ += '=';
  }
  return *this;
}

Line& Line::str(std::string_view k, std::string_view value) {
  key(k);
  const bool plain = format_ == Format::Text && !value.empty() &&
                     value.find_first_of(" \"=\t\n") == std::string_view::npos;
  if (plain) {
    buf_ += value;
  } else {
    aw::json::appendString(buf_, value);
  }
  return *this;
}

Line& Line::flag(std::string_view k, bool value) {
  key(k);
  buf_ += value ? "true" : "false";
  return *this;
}

Line& Line::number(std::string_view k, double value) {
  key(k);
  appendNumber(buf_, value);
  return *this;
}

Line& Line::strings(std::string_view k, std::span<const std::string_view> values) {
  key(k);
  buf_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) buf_ += ',';
    aw::json::appendString(buf_, values[i]);
  }
  buf_ += ']';
  return *this;
}

std::string_view Line::body() const {
  return std::string_view(buf_).substr(kPrefixRoom);
}

void Line::write() {
  if (!enabled(level_)) return;
  const auto levelName = spdlog::level::to_string_view(level_);
  char prefix[kPrefixRoom];
  std::size_t n = 0;
  auto put = [&](const char* p, std::size_t len) {
    std::memcpy(prefix + n, p, len);
    n += len;
  };
  if (format_ == Format::Json) {
    put("{\"ts\":\"", 7);
    n += timestamp(prefix + n);
    put("\",\"level\":\"", 11);
    put(levelName.data(), levelName.size());
    put("\",", 2);
    buf_ += '}';
  } else {
    n += timestamp(prefix + n);
    put(" ", 1);
    put(levelName.data(), levelName.size());
    put(" ", 1);
  }
  buf_ += '\n';
  std::memcpy(buf_.data() + kPrefixRoom - n, prefix, n);
  writeAll(buf_.data() + kPrefixRoom - n, buf_.size() - (kPrefixRoom - n));
}

}  // namespace aw::webhook::log

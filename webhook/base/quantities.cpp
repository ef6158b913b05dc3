#include "webhook/base/quantities.h"

#include <map>

namespace aw::webhook {

namespace {

// Digits with at most one '.', then the rest as a unit. False when there is no number.
bool splitNumber(const std::string& value, double& number, std::string& unit) {
  std::size_t i = 0;
  bool digits = false, dot = false;
  for (; i < value.size(); ++i) {
    const char c = value[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return false;
  number = std::stod(value.substr(0, i));
  unit = value.substr(i);
  return true;
}

}  // namespace

bool parseByteSize(const std::string& flag, const std::string& value, std::size_t& out,
                   std::string& error) {
  double n = 0;
  std::string unit;
  static const std::map<std::string, double> kUnits = {
      {"", 1},         {"B", 1},           {"K", 1e3},           {"M", 1e6},
      {"G", 1e9},      {"Ki", 1024.0},     {"Mi", 1048576.0},    {"Gi", 1073741824.0},
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  const auto it = splitNumber(value, n, unit) ? kUnits.find(unit) : kUnits.end();
  if (it == kUnits.end() || n * it->second >= 1e15) {
    error = flag + " " + value + ": expected a size such as 64Mi, 512Ki or 67108864 (bytes)";
    return false;
  }
  out = static_cast<std::size_t>(n * it->second);
  return true;
}

bool parseDuration(const std::string& flag, const std::string& value,
                   std::chrono::milliseconds& out, std::string& error) {
  double n = 0;
  std::string unit;
  static const std::map<std::string, double> kUnits = {{"ms", 1}, {"s", 1000}, {"m", 60000}};
  const auto it = splitNumber(value, n, unit) ? kUnits.find(unit) : kUnits.end();
  if (it == kUnits.end() || n * it->second > 1e9) {
    error = flag + " " + value + ": expected a duration such as 5s, 500ms or 1m";
    return false;
  }
  out = std::chrono::milliseconds(static_cast<long long>(n * it->second));
  return true;
}

bool parseCount(const std::string& flag, const std::string& value, std::size_t min, std::size_t max,
                std::size_t& out, std::string& error) {
  bool ok = !value.empty() && value.size() <= 9;
  for (char c : value) ok = ok && c >= '0' && c <= '9';
  const std::size_t n = ok ? std::stoul(value) : 0;
  if (!ok || n < min || n > max) {
    error = flag + " " + value + ": expected a whole number from " + std::to_string(min) + " to " +
            std::to_string(max);
    return false;
  }
  out = n;
  return true;
}

}  // namespace aw::webhook

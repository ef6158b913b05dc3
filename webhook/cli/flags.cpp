#include "webhook/cli/flags.h"

#include <algorithm>

namespace aw::webhook {

ParsedFlags parseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  ParsedFlags out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a == "-" || a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      out.positional.insert(out.positional.end(), args.begin() + static_cast<long>(i) + 1,
                            args.end());
      break;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inlineValue;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inlineValue = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      out.error = "unknown flag --" + name;
      return out;
    }
    if (!spec->takesValue()) {
      if (inlineValue) {
        out.error = "--" + name + " takes no value";
        return out;
      }
      out.values[name] = "true";
      continue;
    }
    if (inlineValue) {
      out.values[name] = *inlineValue;
    } else if (i + 1 < args.size()) {
      out.values[name] = args[++i];
    } else {
      out.error = "--" + name + " needs a value";
      return out;
    }
  }
  return out;
}

std::string usageLine(const std::string& command, const std::vector<FlagSpec>& flags,
                      const std::string& operands) {
  constexpr std::size_t kWidth = 100;
  std::string out = "alliance-webhook " + command;
  const std::size_t indent = out.size() + 1;
  std::size_t lineStart = 0;
  std::vector<std::string> words;
  for (const FlagSpec& f : flags) {
    words.push_back("[--" + f.name + (f.takesValue() ? " " + f.value : "") + "]");
  }
  if (!operands.empty()) words.push_back(operands);
  for (const std::string& w : words) {
    if (out.size() - lineStart + 1 + w.size() > kWidth) {
      out += "\n";
      lineStart = out.size();
      out += std::string(indent - 1, ' ');
    }
    out += " " + w;
  }
  return out;
}

std::string flagTable(const std::vector<FlagSpec>& flags) {
  constexpr std::size_t kColumn = 28;  // the help starts after "  " and this many columns
  std::string out;
  for (const FlagSpec& f : flags) {
    std::string name = "--" + f.name + (f.takesValue() ? " " + f.value : "");
    name.resize(std::max(name.size() + 1, kColumn), ' ');
    out += "  " + name;
    for (char c : f.help) {
      out += c;
      if (c == '\n') out += std::string(kColumn + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

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

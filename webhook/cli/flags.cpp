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
  words.reserve(flags.size() + 1);
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

}  // namespace aw::webhook

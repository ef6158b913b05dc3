#include "webhook/flags.h"

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
    if (!spec->takesValue) {
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

}  // namespace aw::webhook

// A small flag parser: --name value, --name=value, boolean --name; errors name the flag.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace aw::webhook {

struct FlagSpec {
  std::string name;  // without dashes
  bool takesValue = true;
};

struct ParsedFlags {
  std::map<std::string, std::string> values;  // boolean flags map to "true"
  std::vector<std::string> positional;
  bool help = false;
  std::string error;  // non-empty: a usage error

  std::optional<std::string> get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  bool has(const std::string& name) const { return values.count(name) != 0; }
};

ParsedFlags parseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

}  // namespace aw::webhook

// A small flag parser: --name value, --name=value, boolean --name; errors name the flag. Each
// command declares its flags once, and its usage line and flag table are written from that.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "webhook/base/quantities.h"

namespace aw::webhook {

struct FlagSpec {
  std::string name;   // without dashes
  std::string value;  // what the value is, for help: FILE, HOST:PORT; empty: a boolean flag
  std::string help;   // for the flag table; may span lines ('\n')
  bool takesValue() const { return !value.empty(); }
};

// "alliance-webhook COMMAND [--name VALUE] ... OPERANDS", wrapped before 100 columns with the
// continuation lines under the first flag.
std::string usageLine(const std::string& command, const std::vector<FlagSpec>& flags,
                      const std::string& operands = "");
// "  --name VALUE   help" per flag, the help in one column.
std::string flagTable(const std::vector<FlagSpec>& flags);

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

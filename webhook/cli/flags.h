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

// "64Mi", "512Ki", "1Gi", "67108864" (bytes; K, M, G are powers of 1000). False with a message
// naming the flag.
bool parseByteSize(const std::string& flag, const std::string& value, std::size_t& out,
                   std::string& error);
// "5s", "500ms", "1m", "1.5s", "0s". False with a message naming the flag.
bool parseDuration(const std::string& flag, const std::string& value,
                   std::chrono::milliseconds& out, std::string& error);
// A whole number from `min` to `max`. False with a message naming the flag.
bool parseCount(const std::string& flag, const std::string& value, std::size_t min, std::size_t max,
                std::size_t& out, std::string& error);

}  // namespace aw::webhook

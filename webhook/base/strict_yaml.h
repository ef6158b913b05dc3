// The one strict YAML reader, for the configuration file and kubeconfig files: values of the
// wrong type and (where asked) unknown keys are refused with a message naming the key's path.
// Where a message points (file, line) is the caller's: it gives the function that fails.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aw::webhook {

// Parses YAML text. On a syntax error returns nullopt and sets `error` to
// "SOURCE:LINE[:COLUMN]: YAML syntax error: WHAT".
std::optional<YAML::Node> loadYaml(const std::string& text, const std::string& source,
                                   std::string& error, bool withColumn = true);

// "a, b, c".
std::string listOf(const std::vector<std::string_view>& items);

class StrictYaml {
 public:
  // Reports `what` is wrong with `node` at `path` ("members[0].name"); must not return (throw).
  using Fail =
      std::function<void(const YAML::Node& node, const std::string& path, const std::string& what)>;
  explicit StrictYaml(Fail fail) : fail_(std::move(fail)) {}

  // The value of `key` in `map`; nullopt when `map` is no mapping or the key is absent or null.
  static std::optional<YAML::Node> member(const YAML::Node& map, std::string_view key);
  // "path.key", or "key" at the top.
  static std::string join(const std::string& path, const std::string& key);

  // Fails on a non-mapping and on any key not in `known`, naming the known keys.
  void expectKeys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string_view>& known) const;
  std::string scalar(const YAML::Node& node, const std::string& path) const;  // "expected a string"
  bool boolean(const YAML::Node& node, const std::string& path) const;  // "expected true or false"
  // The index of the node's value in `values`; anything else fails naming them.
  std::size_t oneOf(const YAML::Node& node, const std::string& path,
                    const std::vector<std::string_view>& values) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                         const std::string& what) const;

 private:
  Fail fail_;
};

}  // namespace aw::webhook

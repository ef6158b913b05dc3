#include "webhook/base/strict_yaml.h"

#include <algorithm>
#include <cstdlib>

#include "common/text.h"

namespace aw::webhook {

std::optional<YAML::Node> loadYaml(const std::string& text, const std::string& source,
                                   std::string& error, bool withColumn) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    error = source + ":" + std::to_string(e.mark.line + 1) +
            (withColumn ? ":" + std::to_string(e.mark.column + 1) : "") +
            ": YAML syntax error: " + e.msg;
    return std::nullopt;
  }
}

std::string listOf(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view i : items) out += (out.empty() ? "" : ", ") + std::string(i);
  return out;
}

std::optional<YAML::Node> StrictYaml::member(const YAML::Node& map, std::string_view key) {
  if (!map.IsDefined() || !map.IsMap()) return std::nullopt;
  // A missing key of a const node is an invalid node, which throws on anything but IsDefined.
  const YAML::Node v = map[std::string(key)];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return v;
}

std::string StrictYaml::join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void StrictYaml::fail(const YAML::Node& node, const std::string& path,
                      const std::string& what) const {
  fail_(node, path, what);
  std::abort();  // Fail must throw
}

void StrictYaml::expectKeys(const YAML::Node& map, const std::string& path,
                            const std::vector<std::string_view>& known) const {
  if (!map.IsMap()) fail(map, path, "expected a mapping of keys to values");
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      fail(kv.first, join(path, key), "unknown key (known keys: " + listOf(known) + ")");
    }
  }
}

std::string StrictYaml::scalar(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) fail(node, path, "expected a string");
  return node.Scalar();
}

bool StrictYaml::boolean(const YAML::Node& node, const std::string& path) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    fail(node, path, "expected true or false");
  }
  return value;
}

std::size_t StrictYaml::oneOf(const YAML::Node& node, const std::string& path,
                              const std::vector<std::string_view>& values) const {
  const std::string v = scalar(node, path);
  const auto at = std::find(values.begin(), values.end(), v);
  if (at == values.end()) fail(node, path, aw::quote(v) + " is not one of " + listOf(values));
  return static_cast<std::size_t>(at - values.begin());
}

}  // namespace aw::webhook

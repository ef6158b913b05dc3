#include "test/support/yaml_json.h"

#include <stdexcept>

#include "webhook/base/manifests.h"

namespace aw::test {

// Fixtures are read exactly as `check` reads manifests (and as kubectl would send them).
nlohmann::json yamlToJson(const YAML::Node& node) {
  std::string error;
  std::optional<nlohmann::json> out = webhook::yamlToJson(node, error);
  if (!out) throw std::runtime_error("fixture YAML cannot be converted: " + error);
  return std::move(*out);
}

nlohmann::json parseYaml(const std::string& text) {
  return yamlToJson(YAML::Load(text));
}

}  // namespace aw::test

// YAML (as a person writes fixtures and manifests) to JSON (as the API server sends objects).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace aw::test {

// The same conversion as `check` (webhook::yamlToJson); throws on what it cannot convert.
nlohmann::json yamlToJson(const YAML::Node& node);

// Parses one YAML document.
nlohmann::json parseYaml(const std::string& text);

}  // namespace aw::test

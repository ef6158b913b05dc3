// YAML (as a person writes fixtures and manifests) to JSON (as the API server sends objects).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace aw::test {

// Plain scalars become null (null, ~, empty), booleans (true/false in any YAML 1.2 case form),
// integers and floats where they look like one; quoted scalars and `!!str` stay strings.
nlohmann::json yamlToJson(const YAML::Node& node);

// Parses one YAML document.
nlohmann::json parseYaml(const std::string& text);

}  // namespace aw::test

// Reading Kubernetes manifests from files, directories and standard input for `check`:
// multi-document YAML and JSON, `List` objects expanded, each object with its file and line.
//
// Scalars are typed the way kubectl reads a manifest before it sends it to the API server
// (sigs.k8s.io/yaml, go-yaml v2, then encoding/json): YAML 1.1 booleans (true/false, yes/no,
// on/off, y/n), null/~/empty, integers in decimal, 0x hex, 0o / leading-zero octal and 0b binary,
// floats; a float without a fraction becomes an integer (as encoding/json writes it); quoted or
// !!str-tagged scalars are strings. Merge keys (<<) and aliases are expanded.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aw::webhook {

struct ManifestObject {
  std::string file;  // as given ("-" is shown as "<stdin>")
  int line = 0;      // 1-based line where the object starts
  int document = 0;  // 0-based index of the YAML document in the file (empty documents not counted)
  nlohmann::json object;
};

struct ManifestProblem {
  std::string file;
  int line = 0;       // 0: the whole file
  int column = 0;     // 0: unknown
  int document = -1;  // -1: not about one document
  std::string message;
  bool fatal = true;  // false: reported, but not an error (a document that is no object)
};

struct ManifestSet {
  std::vector<ManifestObject> objects;
  std::vector<ManifestProblem> problems;
  std::size_t files = 0;
};

// PATH: a file, a directory (recursively every *.yaml, *.yml, *.json, in name order), or "-".
void readManifests(const std::vector<std::string>& paths, ManifestSet& out);
// The JSON kubectl would send for a YAML node (YAML 1.1 scalars, merge keys, bounded aliases);
// nullopt and `error` for what cannot be converted. Test fixtures read YAML through this too.
std::optional<nlohmann::json> yamlToJson(const YAML::Node& node, std::string& error);

// Parses one file's text (exposed for tests).
void parseManifestText(const std::string& text, const std::string& file, ManifestSet& out);

}  // namespace aw::webhook

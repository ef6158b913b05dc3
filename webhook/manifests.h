// Reading Kubernetes manifests from files, directories and standard input for `check`:
// multi-document YAML and JSON, `List` objects expanded, each object with its file and line.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aw::webhook {

struct ManifestObject {
  std::string file;   // as given ("-" is shown as "<stdin>")
  int line = 0;       // 1-based line where the object starts
  int document = 0;   // 0-based index of the YAML document in the file
  nlohmann::json object;
};

struct ManifestProblem {
  std::string file;
  int line = 0;    // 0: the whole file
  int column = 0;  // 0: unknown
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
// Parses one file's text (exposed for tests).
void parseManifestText(const std::string& text, const std::string& file, ManifestSet& out);

}  // namespace aw::webhook

#include "webhook/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "webhook/files.h"

namespace aw::webhook {

namespace {

using nlohmann::json;

// YAML 1.2 core schema for plain scalars, as Kubernetes reads manifests in practice.
json scalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() != "?") return s;  // quoted or explicitly tagged: a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  {
    long long v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  {
    const bool numeric = s.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                         s.find_first_of("0123456789") != std::string::npos;
    if (numeric) {
      double d = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec == std::errc() && p == s.data() + s.size()) return d;
    }
  }
  return s;
}

json toJson(const YAML::Node& node, int depth = 0) {
  if (depth > 512) return nullptr;  // absurd nesting; the shape check will reject it
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalarToJson(node);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(toJson(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.Scalar()] = toJson(kv.second, depth + 1);
      return obj;
    }
  }
  return nullptr;
}

bool isObject(const json& v) {
  return v.is_object() && v.contains("apiVersion") && v["apiVersion"].is_string() &&
         v.contains("kind") && v["kind"].is_string();
}

// Splits a stream into documents at "---" lines, remembering where each starts.
struct Chunk {
  std::string text;
  int firstLine;  // 0-based line of the chunk's first line in the file
};
std::vector<Chunk> splitDocuments(const std::string& text) {
  std::vector<Chunk> chunks{{"", 0}};
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const bool separator = line.rfind("---", 0) == 0 &&
                           (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
    if (separator) {
      chunks.push_back({"", n});
      // Keep the rest of the line ("--- {a: 1}"), blanked where the marker was.
      chunks.back().text = "   " + line.substr(3) + "\n";
    } else {
      chunks.back().text += line + "\n";
    }
    ++n;
  }
  return chunks;
}

}  // namespace

void parseManifestText(const std::string& text, const std::string& file, ManifestSet& out) {
  int document = 0;
  for (const Chunk& chunk : splitDocuments(text)) {
    YAML::Node root;
    try {
      root = YAML::Load(chunk.text);
    } catch (const YAML::ParserException& e) {
      out.problems.push_back({file, chunk.firstLine + e.mark.line + 1, e.mark.column + 1,
                              "YAML syntax error: " + e.msg, true});
      ++document;
      continue;
    }
    if (!root.IsDefined() || root.IsNull()) continue;  // empty document between separators
    const int line = chunk.firstLine + std::max(0, root.Mark().line) + 1;
    json doc = toJson(root);
    if (!isObject(doc)) {
      out.problems.push_back({file, line, 0,
                              "document " + std::to_string(document) +
                                  " is not a Kubernetes object (it has no apiVersion and kind), "
                                  "skipped",
                              false});
    } else if (doc["kind"] == "List" && doc.contains("items") && doc["items"].is_array()) {
      const YAML::Node items = root["items"];
      for (std::size_t i = 0; i < doc["items"].size(); ++i) {
        const int itemLine = chunk.firstLine + std::max(0, items[i].Mark().line) + 1;
        if (isObject(doc["items"][i])) {
          out.objects.push_back({file, itemLine, document, std::move(doc["items"][i])});
        } else {
          out.problems.push_back({file, itemLine, 0,
                                  "items[" + std::to_string(i) +
                                      "] is not a Kubernetes object (no apiVersion and kind), skipped",
                                  false});
        }
      }
    } else {
      out.objects.push_back({file, line, document, std::move(doc)});
    }
    ++document;
  }
}

void readManifests(const std::vector<std::string>& paths, ManifestSet& out) {
  namespace fs = std::filesystem;
  auto readOne = [&](const fs::path& p) {
    std::string error;
    std::optional<std::string> text = readFile(p, error);
    ++out.files;
    if (!text) {
      out.problems.push_back({p.string(), 0, 0, error.substr(error.find(": ") + 2), true});
      return;
    }
    parseManifestText(*text, p.string(), out);
  };
  for (const std::string& path : paths) {
    if (path == "-") {
      std::ostringstream s;
      s << std::cin.rdbuf();
      ++out.files;
      parseManifestText(s.str(), "<stdin>", out);
      continue;
    }
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      out.problems.push_back({path, 0, 0, "no such file or directory", true});
      continue;
    }
    if (!fs::is_directory(st)) {
      readOne(path);
      continue;
    }
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
        files.push_back(it->path());
      }
    }
    if (ec) out.problems.push_back({path, 0, 0, "cannot read directory: " + ec.message(), true});
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) readOne(f);
  }
}

}  // namespace aw::webhook

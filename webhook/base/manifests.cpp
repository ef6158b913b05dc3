#include "webhook/base/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/json_path.h"
#include "webhook/base/files.h"

namespace aw::webhook {

namespace {

using nlohmann::json;

// A document that cannot become JSON: nested too deep, expanding to too many nodes through
// aliases (the "billion laughs"), a key that is not a scalar.
struct ConvertError {
  std::string message;
  YAML::Mark mark;
};

constexpr int kMaxDepth = 256;
constexpr std::size_t kMaxNodes = 2'000'000;  // per document, after alias and merge expansion

// Go's strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64), as go-yaml v2 resolves a plain
// scalar: optional sign, then 0x/0X hex, 0o/0O octal, 0b/0B binary, a leading 0 octal, or decimal.
std::optional<json> goInteger(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
    s.remove_prefix(p == 'x' || p == 'o' || p == 'b' ? 2 : 1);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  constexpr std::uint64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
  if (!negative) {
    if (magnitude <= kMaxInt) return json(static_cast<std::int64_t>(magnitude));
    return json(magnitude);
  }
  if (magnitude <= kMaxInt) return json(-static_cast<std::int64_t>(magnitude));
  if (magnitude == kMaxInt + 1) return json(std::numeric_limits<std::int64_t>::min());
  return std::nullopt;
}

// go-yaml v2's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yamlStyleFloat(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A float as the API server receives it from kubectl: encoding/json writes a float without a
// fraction (80.0) as an integer (80).
json goFloat(double d) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
    return static_cast<std::int64_t>(d);
  }
  return d;
}

// A plain (unquoted, untagged) scalar, resolved as go-yaml v2 does (what kubectl uses).
json resolvePlain(const std::string& s) {
  static const std::map<std::string_view, json> kWords = [] {
    std::map<std::string_view, json> m;
    for (const char* w : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      m[w] = true;
    for (const char* w :
         {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      m[w] = false;
    for (const char* w : {"~", "null", "Null", "NULL"}) m[w] = nullptr;
    return m;
  }();
  if (s.empty()) return nullptr;
  if (auto it = kWords.find(s); it != kWords.end()) return it->second;
  const char c = s[0];
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') {
    std::string plain = s;
    if (c != '.') plain.erase(std::remove(plain.begin(), plain.end(), '_'), plain.end());
    if (c != '.') {
      if (std::optional<json> i = goInteger(plain)) return *i;
    }
    if (yamlStyleFloat(plain)) {
      std::string_view v = plain;
      if (v[0] == '+') v.remove_prefix(1);
      double d = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (ec == std::errc() && end == v.data() + v.size()) return goFloat(d);
    }
  }
  return s;
}

json scalarToJson(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  if (tag == "?") return resolvePlain(node.Scalar());
  if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
      tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
    return resolvePlain(node.Scalar());
  }
  return node.Scalar();  // quoted ("!"), !!str, or an application tag: a string
}

// A map key as kubectl turns it into a JSON key: resolved like a value, then written as text.
std::string keyText(const YAML::Node& key) {
  if (key.IsNull())
    throw ConvertError{"a mapping key is null: JSON keys must be strings", key.Mark()};
  if (!key.IsScalar())
    throw ConvertError{"a mapping key is a list or a mapping: JSON keys must be strings",
                       key.Mark()};
  const json k = scalarToJson(key);
  if (k.is_string()) return k.get<std::string>();
  if (k.is_null())
    throw ConvertError{"a mapping key is null: JSON keys must be strings", key.Mark()};
  if (k.is_boolean()) return k.get<bool>() ? "true" : "false";
  return k.dump();
}

bool isMergeKey(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" &&
         (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

class Converter {
 public:
  json convert(const YAML::Node& node, int depth = 0) {
    if (depth > kMaxDepth) {
      throw ConvertError{"nested more than " + std::to_string(kMaxDepth) + " levels deep",
                         node.Mark()};
    }
    if (++nodes_ > kMaxNodes) {
      throw ConvertError{"expands to more than " + std::to_string(kMaxNodes) +
                             " values (aliases referring to aliases?)",
                         node.Mark()};
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalarToJson(node);
      case YAML::NodeType::Sequence: {
        json arr = json::array();
        for (const auto& item : node) arr.push_back(convert(item, depth + 1));
        return arr;
      }
      case YAML::NodeType::Map: {
        json obj = json::object();
        std::vector<YAML::Node> merges;
        for (const auto& kv : node) {
          if (isMergeKey(kv.first)) {
            merges.push_back(kv.second);
          } else {
            obj[keyText(kv.first)] = convert(kv.second, depth + 1);
          }
        }
        // Merge keys (<<: *anchor or a list of them): keys written in the mapping win, then the
        // earlier merged mapping.
        for (const YAML::Node& merge : merges) {
          std::vector<YAML::Node> sources;
          if (merge.IsMap()) {
            sources.push_back(merge);
          } else if (merge.IsSequence()) {
            for (const auto& s : merge) sources.push_back(s);
          }
          for (const YAML::Node& source : sources) {
            if (!source.IsMap()) {
              throw ConvertError{"a merge key (<<) must refer to a mapping or a list of mappings",
                                 source.Mark()};
            }
            json merged = convert(source, depth + 1);
            for (auto it = merged.begin(); it != merged.end(); ++it) {
              if (!obj.contains(it.key())) obj[it.key()] = std::move(it.value());
            }
          }
          if (!merge.IsMap() && !merge.IsSequence()) {
            throw ConvertError{"a merge key (<<) must refer to a mapping or a list of mappings",
                               merge.Mark()};
          }
        }
        return obj;
      }
    }
    return nullptr;
  }

 private:
  std::size_t nodes_ = 0;
};

bool nonEmptyString(const json& v, const char* key) {
  const std::string* s = aw::json::stringAt(v, {key});
  return s != nullptr && !s->empty();
}

bool isObject(const json& v) {
  return v.is_object() && nonEmptyString(v, "apiVersion") && nonEmptyString(v, "kind");
}

// Why a value is not a Kubernetes object, for the note.
std::string whyNotAnObject(const json& v) {
  switch (v.type()) {
    case json::value_t::array:
      return "it is a list, not a mapping with apiVersion and kind";
    case json::value_t::string:
      return "it is a string, not a mapping with apiVersion and kind";
    case json::value_t::boolean:
      return "it is a boolean, not a mapping with apiVersion and kind";
    case json::value_t::null:
      return "it is null";
    case json::value_t::object:
      break;
    default:
      return "it is a number, not a mapping with apiVersion and kind";
  }
  const bool api = nonEmptyString(v, "apiVersion"), kind = nonEmptyString(v, "kind");
  if (!api && !kind) return "it has no apiVersion and kind";
  return std::string("it has no ") + (api ? "kind" : "apiVersion");
}

// `kind: List` (what kubectl get -o yaml prints) and typed lists (ServiceList) with items.
bool isList(const json& v) {
  const std::string& kind = v["kind"].get_ref<const std::string&>();
  const bool listKind = kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0;
  return listKind && aw::json::array(aw::json::child(v, "items")) != nullptr;
}

// One YAML document of a file, split off at its "---" line.
struct Chunk {
  std::string text;
  int firstLine;  // 0-based line of the chunk's first line in the file
  int lines = 0;
};

bool markerLine(const std::string& line, const char* marker) {
  return line.rfind(marker, 0) == 0 &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

// Splits a stream into documents at "---" lines (a document may start on the marker line:
// "--- {a: 1}") and after "..." document end markers, remembering where each starts.
std::vector<Chunk> splitDocuments(const std::string& text) {
  std::vector<Chunk> chunks{{"", 0}};
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (markerLine(line, "---")) {
      // Keep the rest of the line, blanked where the marker was so columns stay right.
      chunks.push_back({"   " + line.substr(3) + "\n", n, 1});
    } else if (markerLine(line, "...")) {
      chunks.push_back({"", n + 1, 0});
    } else {
      chunks.back().text += line;
      chunks.back().text += '\n';
      ++chunks.back().lines;
    }
    ++n;
  }
  return chunks;
}

// Where a syntax error is reported. yaml-cpp reports an unclosed bracket or quote at the end of
// the document, which is the next document's "---": point at the document's last line instead.
std::pair<int, int> errorPosition(const Chunk& chunk, const YAML::Mark& mark) {
  if (mark.line >= 0 && mark.line < chunk.lines)
    return {chunk.firstLine + mark.line + 1, mark.column + 1};
  std::istringstream in(chunk.text);
  std::string line;
  int n = 0, lastLine = 0, lastColumn = 1;
  while (std::getline(in, line)) {
    const auto end = line.find_last_not_of(" \t\r");
    if (end != std::string::npos && line[line.find_first_not_of(" \t")] != '#') {
      lastLine = n;
      lastColumn = static_cast<int>(end) + 2;
    }
    ++n;
  }
  return {chunk.firstLine + lastLine + 1, lastColumn};
}

// JSON that YAML cannot read as such: a character outside the Basic Multilingual Plane written
// as a UTF-16 surrogate pair ("\ud83d\ude00"). Rewritten as YAML's "\U0001f600".
std::string surrogatePairsToYaml(const std::string& text) {
  auto hexAt = [&](std::size_t i) -> long {
    if (i + 4 > text.size()) return -1;
    long v = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 4, v, 16);
    return ec == std::errc() && end == text.data() + i + 4 ? v : -1;
  };
  std::string out;
  out.reserve(text.size());
  std::size_t backslashes = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == 'u' && backslashes % 2 == 1 && i + 10 < text.size() && text[i + 5] == '\\' &&
        text[i + 6] == 'u') {
      const long hi = hexAt(i + 1), lo = hexAt(i + 7);
      if (hi >= 0xD800 && hi <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
        const long code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        char buf[16];
        std::snprintf(buf, sizeof buf, "U%08lx", code);
        out += buf;
        i += 10;
        backslashes = 0;
        continue;
      }
    }
    backslashes = c == '\\' ? backslashes + 1 : 0;
    out += c;
  }
  return out;
}

class FileParser {
 public:
  FileParser(const std::string& file, ManifestSet& out) : file_(file), out_(out) {}

  void parse(const std::string& input) {
    std::string converted;
    const std::string* text = &input;
    if (input.find("\\u") != std::string::npos && json::accept(input)) {
      converted = surrogatePairsToYaml(input);
      text = &converted;
    }
    int document = 0;
    for (const Chunk& chunk : splitDocuments(*text)) {
      YAML::Node root;
      try {
        root = YAML::Load(chunk.text);
      } catch (const YAML::Exception& e) {
        const auto [line, column] = errorPosition(chunk, e.mark);
        out_.problems.push_back(
            {file_, line, column, document, "YAML syntax error: " + e.msg, true});
        ++document;
        continue;
      }
      if (!root.IsDefined() || root.IsNull()) continue;  // empty document: comments only
      const int line = chunk.firstLine + std::max(0, root.Mark().line) + 1;
      try {
        expand(Converter().convert(root), &root, line, chunk.firstLine, document, "");
      } catch (const ConvertError& e) {
        const int at = e.mark.line >= 0 ? chunk.firstLine + e.mark.line + 1 : line;
        out_.problems.push_back({file_, at, e.mark.line >= 0 ? e.mark.column + 1 : 0, document,
                                 "cannot read the document: " + e.message, true});
      }
      ++document;
    }
  }

 private:
  void expand(json value, const YAML::Node* node, int fallbackLine, int firstLine, int document,
              const std::string& where) {
    const int line = node && node->IsDefined() && node->Mark().line >= 0
                         ? firstLine + node->Mark().line + 1
                         : fallbackLine;
    if (!isObject(value)) {
      out_.problems.push_back({file_, line, 0, document,
                               (where.empty() ? std::string("document") : where) +
                                   " skipped: not a Kubernetes object (" + whyNotAnObject(value) +
                                   ")",
                               false});
      return;
    }
    if (!isList(value)) {
      out_.objects.push_back({file_, line, document, std::move(value)});
      return;
    }
    json& items = value["items"];
    YAML::Node itemNodes;
    if (node && node->IsMap()) itemNodes = (*node)["items"];  // const: never inserts
    const YAML::Node& constItems = itemNodes;
    const bool aligned =
        itemNodes.IsDefined() && itemNodes.IsSequence() && itemNodes.size() == items.size();
    for (std::size_t i = 0; i < items.size(); ++i) {
      YAML::Node itemNode;
      if (aligned) itemNode = constItems[i];
      expand(std::move(items[i]), aligned ? &itemNode : nullptr, line, firstLine, document,
             where + (where.empty() ? "" : ".") + "items[" + std::to_string(i) + "]");
    }
  }

  const std::string& file_;
  ManifestSet& out_;
};

}  // namespace

std::optional<nlohmann::json> yamlToJson(const YAML::Node& node, std::string& error) {
  try {
    return Converter().convert(node);
  } catch (const ConvertError& e) {
    error = e.message;
    return std::nullopt;
  }
}

void parseManifestText(const std::string& text, const std::string& file, ManifestSet& out) {
  FileParser(file, out).parse(text);
}

void readManifests(const std::vector<std::string>& paths, ManifestSet& out) {
  namespace fs = std::filesystem;
  auto readOne = [&](const fs::path& p) {
    std::string error;
    std::optional<std::string> text = readFile(p, error);
    ++out.files;
    if (!text) {
      const std::string prefix = p.string() + ": ";
      out.problems.push_back({p.string(), 0, 0, -1,
                              error.rfind(prefix, 0) == 0 ? error.substr(prefix.size()) : error,
                              true});
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
    if (!fs::exists(st)) {
      out.problems.push_back({path, 0, 0, -1, "no such file or directory", true});
      continue;
    }
    if (!fs::is_directory(st)) {
      readOne(path);
      continue;
    }
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      std::error_code fileEc;
      if ((ext == ".yaml" || ext == ".yml" || ext == ".json") && it->is_regular_file(fileEc)) {
        files.push_back(it->path());
      }
    }
    if (ec)
      out.problems.push_back({path, 0, 0, -1, "cannot read the directory: " + ec.message(), true});
    if (files.empty() && !ec) {
      out.problems.push_back(
          {path, 0, 0, -1, "no *.yaml, *.yml or *.json file in this directory", false});
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) readOne(f);
  }
}

}  // namespace aw::webhook

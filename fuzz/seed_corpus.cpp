// Builds the seed corpora of the fuzz targets from the repository's fixtures (run by seed.sh):
//   fuzz_seed_corpus SOURCE_DIR OUT_DIR
// writes OUT_DIR/<target>/<hash> for fuzz_admission, fuzz_cidr, fuzz_config, fuzz_manifests and
// fuzz_patch. Nothing here is committed: the corpora follow the fixtures as they change.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/common.h"
#include "webhook/base/manifests.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::map<std::string, std::set<std::string>> gSeeds;  // target -> inputs

void seed(const std::string& target, const std::string& input) {
  if (!input.empty() && input.size() <= 65536) gSeeds[target].insert(input);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hashName(const std::string& data) {  // FNV-1a, 64 bits
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string emitYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// An AdmissionReview as the API server sends it (see test/support/review.cpp).
json review(const json& object, const std::string& operation, const json& oldObject,
            const std::string& apiVersion) {
  const json& typed = object.is_object() ? object : oldObject;
  const std::string av = typed.is_object() ? typed.value("apiVersion", "v1") : "v1";
  const auto slash = av.find('/');
  const std::string group = slash == std::string::npos ? "" : av.substr(0, slash);
  const std::string version = slash == std::string::npos ? av : av.substr(slash + 1);
  const std::string kind = typed.is_object() ? typed.value("kind", "") : "";
  json meta = typed.is_object() ? typed.value("metadata", json::object()) : json::object();
  if (!meta.is_object()) meta = json::object();
  json request = {
      {"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
      {"kind", {{"group", group}, {"version", version}, {"kind", kind}}},
      {"name", meta.value("name", "")},
      {"operation", operation},
      {"userInfo", {{"username", "admin"}, {"groups", {"system:authenticated"}}}},
      {"object", object},
      {"oldObject", oldObject},
      {"dryRun", false},
  };
  if (meta.contains("namespace")) request["namespace"] = meta["namespace"];
  return {{"apiVersion", apiVersion}, {"kind", "AdmissionReview"}, {"request", request}};
}

void collectCidrs(const json& j, const std::string& key) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) collectCidrs(it.value(), it.key());
  } else if (j.is_array()) {
    for (const json& e : j) collectCidrs(e, key);
  } else if (j.is_string() && (key.find("cidr") != std::string::npos ||
                               key.find("CIDR") != std::string::npos || key == "addresses")) {
    seed("fuzz_cidr", j.get<std::string>());
  }
}

void addObject(const json& object, const std::string& operation, const json& oldObject) {
  if (!object.is_object() && !oldObject.is_object()) return;
  seed("fuzz_admission", review(object, operation, oldObject, "admission.k8s.io/v1").dump());
  seed("fuzz_admission", review(object, operation, oldObject, "admission.k8s.io/v1beta1").dump(2));
  seed("fuzz_decoder", review(object, operation, oldObject, "admission.k8s.io/v1").dump());
  seed("fuzz_manifests", object.dump(2));
  collectCidrs(object, "");
  if (object.is_object() && object.value("kind", "") == "ServiceEntry") {
    seed("fuzz_patch", object.dump());
    if (object.contains("spec") && object["spec"].is_object())
      seed("fuzz_patch", object["spec"].dump());
  }
}

json toJson(const YAML::Node& node) {
  std::string error;
  std::optional<json> j = aw::webhook::yamlToJson(node, error);
  return j ? *j : json();
}

void fromRuleFixture(const fs::path& path) {
  const YAML::Node root = YAML::LoadFile(path.string());
  if (root["config"]) seed("fuzz_config", emitYaml(root["config"]));
  for (const YAML::Node& c : root["cases"]) {
    if (const YAML::Node config = c["config"]) {
      seed("fuzz_config", config.IsScalar() ? config.Scalar() : emitYaml(config));
      collectCidrs(toJson(config), "");
    }
    const std::string operation = c["operation"] ? c["operation"].Scalar() : "CREATE";
    const json object = c["object"] ? toJson(c["object"]) : json();
    const json oldObject = c["oldObject"] ? toJson(c["oldObject"]) : json();
    addObject(operation == "DELETE" ? json() : object, operation, oldObject);
    if (c["object"]) seed("fuzz_manifests", emitYaml(c["object"]));
    if (const YAML::Node objects = c["alliance objects"]) {
      for (const YAML::Node& o : objects) addObject(toJson(o), "CREATE", json());
    }
  }
  if (root["config"]) collectCidrs(toJson(root["config"]), "");
}

void fromCidrTests(const fs::path& path) {
  // String literals of the CIDR tests that look like addresses or lists of them.
  const std::string text = slurp(path);
  static const std::regex literal(R"re("([0-9A-Fa-f.:/,% \-]{1,80})")re");
  for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it) {
    const std::string s = (*it)[1];
    if (s.find_first_of(".:") != std::string::npos) seed("fuzz_cidr", s);
  }
  for (const char* s :
       {"10.0.0.0/8", "10.0.0.1/8", "010.0.0.0/8", "10.0.0.0/33", "10.0.0.0", "0.0.0.0/0",
        "255.255.255.255/32", "fd00::/8", "::/0", "::1/128", "::ffff:10.0.0.0/104",
        "1:2:3:4:5:6:7:8/128", "1::2::3/64", "fe80::1%eth0/64", "FD00::/8",
        "10.111.0.0/16, fd00:111::/64", "10.0.0.0/16,,10.1.0.0/16", " 10.0.0.0/8 "}) {
    seed("fuzz_cidr", s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_seed_corpus SOURCE_DIR OUT_DIR\n";
    return 2;
  }
  const fs::path src = argv[1], out = argv[2];
  try {
    for (const auto& e : fs::directory_iterator(src / "test/rules/fixtures")) {
      if (e.path().extension() == ".yaml") fromRuleFixture(e.path());
    }
    fromCidrTests(src / "test/rules/model/cidr_test.cpp");
    seed("fuzz_config", aw::fuzz::kConfig);
    seed("fuzz_config", slurp(src / "examples/config.yaml"));
    for (const auto& e : fs::directory_iterator(src / "examples")) {
      if (e.path().extension() == ".json") {
        const std::string text = slurp(e.path());
        seed("fuzz_admission", text);
        seed("fuzz_manifests", text);
        const json j = json::parse(text, nullptr, false);
        if (j.is_object() && j.contains("request") && j["request"].is_object())
          addObject(j["request"].value("object", json()), "CREATE", json());
      }
    }
    for (const auto& e : fs::recursive_directory_iterator(src / "test/webhook/cli/check")) {
      if (!e.is_regular_file()) continue;
      const std::string name = e.path().filename().string(), ext = e.path().extension().string();
      if (name.rfind("expected", 0) == 0) continue;
      if (name == "config.yaml") {
        seed("fuzz_config", slurp(e.path()));
      } else if (ext == ".yaml" || ext == ".yml" || ext == ".json") {
        const std::string text = slurp(e.path());
        seed("fuzz_manifests", text);
        // The objects of the manifest become admission requests and ServiceEntry specs too.
        aw::webhook::ManifestSet set;
        aw::webhook::parseManifestText(text, name, set);
        for (const auto& o : set.objects) addObject(o.object, "CREATE", json());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seed_corpus: " << e.what() << "\n";
    return 1;
  }
  for (const auto& [target, inputs] : gSeeds) {
    fs::create_directories(out / target);
    for (const std::string& input : inputs) {
      std::ofstream(out / target / hashName(input), std::ios::binary) << input;
    }
    std::cout << target << ": " << inputs.size() << " seeds\n";
  }
  return 0;
}

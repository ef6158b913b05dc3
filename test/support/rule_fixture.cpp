#include "test/support/rule_fixture.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "rules/model/kinds.h"
#include "test/support/json_patch.h"
#include "test/support/yaml_json.h"

namespace aw::test {

namespace {

std::string configText(const YAML::Node& node) {
  if (!node || node.IsNull()) return "";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

std::vector<std::string> stringList(const YAML::Node& node, const std::string& what) {
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsSequence()) throw std::runtime_error(what + " must be a list of strings");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) throw std::runtime_error(what + " must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

rules::Operation operationOf(const std::string& text) {
  if (text == "CREATE") return rules::Operation::Create;
  if (text == "UPDATE") return rules::Operation::Update;
  if (text == "DELETE") return rules::Operation::Delete;
  if (text == "CONNECT") return rules::Operation::Connect;
  throw std::runtime_error("unknown operation " + text);
}

void expectKeys(const YAML::Node& map, const std::set<std::string>& known, const std::string& at) {
  if (!map.IsMap()) throw std::runtime_error(at + " must be a mapping");
  for (const auto& kv : map) {
    if (!known.contains(kv.first.Scalar())) {
      throw std::runtime_error(at + ": unknown key " + kv.first.Scalar());
    }
  }
}

RuleCase parseCase(const YAML::Node& node, const std::string& file, const YAML::Node& fileConfig,
                   const std::vector<std::string>& fileRules) {
  RuleCase c;
  c.file = file;
  expectKeys(
      node,
      {"name", "config", "alliance objects", "operation", "object", "oldObject", "rules", "expect"},
      file + " case");
  if (!node["name"]) throw std::runtime_error(file + ": a case without name");
  c.name = node["name"].Scalar();
  const std::string at = file + ": " + c.name;
  c.configText = configText(node["config"] ? node["config"] : fileConfig);
  c.onlyRules = node["rules"] ? stringList(node["rules"], at + ": rules") : fileRules;
  if (const YAML::Node objects = node["alliance objects"]) {
    for (const YAML::Node& o : objects) c.allianceObjects.push_back(yamlToJson(o));
  }
  if (node["operation"]) c.operation = operationOf(node["operation"].Scalar());
  c.object = yamlToJson(node["object"]);
  if (node["oldObject"]) c.oldObject = yamlToJson(node["oldObject"]);
  const YAML::Node expect = node["expect"];
  if (!expect) throw std::runtime_error(at + ": no expect block");
  expectKeys(expect, {"findings", "shape", "patch", "patched"}, at + ": expect");
  if (expect["findings"]) c.findings = stringList(expect["findings"], at + ": findings");
  if (expect["shape"]) c.shape = stringList(expect["shape"], at + ": shape");
  if (expect["patch"]) c.patch = yamlToJson(expect["patch"]);
  if (expect["patched"]) c.patched = yamlToJson(expect["patched"]);
  if (!c.findings && !c.shape && !c.patch && !c.patched) {
    throw std::runtime_error(at + ": expect names nothing to check");
  }
  return c;
}

std::string readFixture(const std::string& file) {
  const std::string path = std::string(AW_SOURCE_DIR) + "/test/rules/fixtures/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines(const std::vector<rules::Finding>& findings,
                               const std::vector<std::string>& only, bool withAction) {
  std::vector<std::string> out;
  for (const rules::Finding& f : findings) {
    if (!only.empty() && std::find(only.begin(), only.end(), f.rule) == only.end()) continue;
    out.push_back(withAction ? findingLine(f) : f.text());
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += "\n  " + s;
  return out.empty() ? " (none)" : out;
}

}  // namespace

std::vector<RuleCase> loadRuleCases(const std::string& file) {
  std::vector<RuleCase> cases;
  try {
    const YAML::Node root = YAML::Load(readFixture(file));
    expectKeys(root, {"rules", "config", "cases"}, file);
    const std::vector<std::string> fileRules = stringList(root["rules"], file + ": rules");
    std::set<std::string> names;
    for (const YAML::Node& node : root["cases"]) {
      RuleCase c = parseCase(node, file, root["config"], fileRules);
      if (!names.insert(testName(c.name)).second) {
        throw std::runtime_error(file + ": two cases named like " + c.name);
      }
      cases.push_back(std::move(c));
    }
    if (cases.empty()) throw std::runtime_error(file + ": no cases");
  } catch (const std::exception& e) {
    RuleCase broken;
    broken.file = file;
    broken.name = "fixture file is malformed";
    broken.loadError = e.what();
    return {broken};
  }
  return cases;
}

std::string findingLine(const rules::Finding& f) {
  return std::string(rules::actionName(f.action)) + " " + f.text();
}

rules::Member memberOf(const nlohmann::json& object) {
  const std::string apiVersion = object.value("apiVersion", "");
  const rules::KindInfo* kind =
      rules::findKind(rules::groupOfApiVersion(apiVersion), object.value("kind", ""));
  if (kind == nullptr || (kind->id != rules::KindId::IstioFederation &&
                          kind->id != rules::KindId::IstioMulticluster)) {
    throw std::runtime_error("alliance object is not an IstioFederation or IstioMulticluster");
  }
  return rules::memberFromObject(kind->id, aw::json::Document::of(object).root());
}

CaseWorld::CaseWorld(const RuleCase& c) : operation_(c.operation) {
  webhook::ConfigResult parsed = webhook::parseConfig(c.configText, c.file + " config", ".");
  if (!parsed.config) {
    error_ = parsed.error;
    return;
  }
  config_ = std::move(*parsed.config);
  std::vector<rules::Member> observed;
  for (const nlohmann::json& o : c.allianceObjects) observed.push_back(memberOf(o));
  alliance_.emplace(config_->local, config_->members, std::move(observed));
}

rules::Request CaseWorld::request(const nlohmann::json& object,
                                  const nlohmann::json* oldObject) const {
  rules::Request r;
  // An absent object reads like a null one; documents_ keeps what the views point into.
  r.object = documents_.emplace_back(aw::json::Document::of(object)).root();
  if (oldObject != nullptr) {
    r.oldObject = documents_.emplace_back(aw::json::Document::of(*oldObject)).root();
  }
  // Kind, version, name and namespace as the API server would send them: the object's.
  const aw::json::View typed = r.object.isObject() ? r.object : r.oldObject;
  const std::string_view apiVersion = aw::json::stringAt(typed, {"apiVersion"}).value_or("");
  const std::string_view kind = aw::json::stringAt(typed, {"kind"}).value_or("");
  r.kind = rules::findKind(rules::groupOfApiVersion(apiVersion), kind);
  const auto slash = apiVersion.find('/');
  r.version = slash == std::string_view::npos ? apiVersion : apiVersion.substr(slash + 1);
  r.operation = operation_;
  r.name = aw::json::stringAt(typed, {"metadata", "name"}).value_or("");
  r.namespace_ = aw::json::stringAt(typed, {"metadata", "namespace"}).value_or("");
  return r;
}

void runRuleCase(const RuleCase& c) {
  ASSERT_TRUE(c.loadError.empty()) << c.loadError;
  SCOPED_TRACE(c.file + ": " + c.name);
  const CaseWorld world(c);
  ASSERT_TRUE(world.error().empty()) << "fixture config: " << world.error();
  const nlohmann::json* old = c.oldObject.is_null() ? nullptr : &c.oldObject;
  // A kind the webhook does not check gets request.kind == nullptr, and no findings.
  const rules::Request request = world.request(c.object, old);

  if (c.findings || (c.shape && !c.mutates())) {
    const rules::Outcome out = rules::validate(request, world.context());
    if (c.findings) {
      EXPECT_EQ(lines(out.findings, c.onlyRules, true), *c.findings)
          << "findings were:" << joined(lines(out.findings, {}, true));
    }
    if (c.shape) {
      EXPECT_EQ(lines(out.shapeErrors, {}, false), *c.shape)
          << "shape errors were:" << joined(lines(out.shapeErrors, {}, false));
    }
    EXPECT_TRUE(out.patch.empty()) << "a validating answer never carries a patch";
  }
  if (!c.mutates()) return;

  const rules::Outcome out = rules::mutate(request, world.context());
  if (c.shape) {
    EXPECT_EQ(lines(out.shapeErrors, {}, false), *c.shape)
        << "shape errors were:" << joined(lines(out.shapeErrors, {}, false));
  }
  EXPECT_TRUE(out.findings.empty());
  if (c.patch) {
    EXPECT_EQ(out.patch.json(), *c.patch) << "patch was: " << out.patch.text();
  }
  nlohmann::json patched;
  try {
    patched = applyPatch(c.object, out.patch.json());
  } catch (const std::exception& e) {
    FAIL() << "the patch does not apply: " << e.what() << "\npatch: " << out.patch.text();
  }
  if (c.patched) {
    EXPECT_EQ(patched, *c.patched) << "patched object was: " << patched.dump(2);
  }
  // Idempotent: the patched object, sent again, gets no patch.
  const rules::Request again = world.request(patched, old);
  const rules::Outcome second = rules::mutate(again, world.context());
  EXPECT_TRUE(second.patch.empty()) << "second run patched again: " << second.patch.text();
}

std::string testName(const std::string& caseName) {
  std::string out;
  bool gap = false;
  for (char c : caseName) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      if (gap && !out.empty()) out += '_';
      out += c;
      gap = false;
    } else {
      gap = true;
    }
  }
  return out.empty() ? "unnamed" : out;
}

}  // namespace aw::test

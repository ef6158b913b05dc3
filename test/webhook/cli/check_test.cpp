// `alliance-webhook check` (issue 4, SPEC §2): the real binary over the fixture folders in
// test/webhook/cli/check/<case>/, and every object of every fixture through a real `serve` with the
// same configuration, which must decide the same.
//
// A fixture folder holds `args` (the arguments after `check`, one a line, paths relative to the
// repository root), optionally `stdin.yaml` (piped to standard input), its manifests and config,
// and what the binary must print: `expected.txt` (standard output, text), `expected.stderr`
// (standard error, text; absent: empty), `expected.json` (standard output with --output json),
// `expected-json.stderr` (absent: empty) and `expected-exit`.
// AW_UPDATE_EXPECTED=1 rewrites the expected files from the binary: review the diff before
// committing it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include "test/support/process.h"
#include "test/support/review.h"
#include "webhook/base/manifests.h"

namespace aw::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kCasesDir = "test/webhook/cli/check";

// The fixtures whose objects affect each other's findings (cross-object members exist only in
// `check`): for the comparison, `serve` gets the other objects as `members` entries of its
// configuration, and since messages then name a `members[i]` entry instead of the object, the
// comparison is on action, rule and path. Every other fixture is compared message for message,
// so a cross-object effect in one of them fails the comparison.
const std::set<std::string> kCrossObjectCases = {"cross-file"};

bool updating() {
  const char* v = std::getenv("AW_UPDATE_EXPECTED");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// The tests run in the repository root (CMake's WORKING_DIRECTORY); make sure of it, so the
// relative paths in the expected outputs hold.
void toRepoRoot() {
  fs::current_path(AW_SOURCE_DIR);
}

std::vector<std::string> caseNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(AW_SOURCE_DIR) / kCasesDir)) {
    if (e.is_directory() && fs::exists(e.path() / "args"))
      names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Case {
  std::string name;
  fs::path dir;
  std::vector<std::string> args;
  std::string stdinText;
};

Case loadCase(const std::string& name) {
  Case c{name, fs::path(kCasesDir) / name, {}, {}};
  std::istringstream lines(readFile(c.dir / "args"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') c.args.push_back(line);
  }
  if (fs::exists(c.dir / "stdin.yaml")) c.stdinText = readFile(c.dir / "stdin.yaml");
  return c;
}

RunResult check(const std::vector<std::string>& args, const std::string& stdinText = "") {
  std::vector<std::string> argv = {AW_BINARY, "check"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, stdinText);
}

RunResult checkCase(const Case& c, bool jsonOutput) {
  std::vector<std::string> args;
  if (jsonOutput) args = {"--output", "json"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  return check(args, c.stdinText);
}

std::string readOr(const fs::path& path, const std::string& otherwise) {
  return fs::exists(path) ? readFile(path) : otherwise;
}

// Compares `actual` with the expected file, or (AW_UPDATE_EXPECTED) writes it; an optional file
// that would be empty is removed instead.
void expectFile(const fs::path& path, const std::string& actual, bool optional = false) {
  if (updating()) {
    if (optional && actual.empty()) {
      fs::remove(path);
    } else {
      writeFile(path, actual);
    }
    return;
  }
  ASSERT_TRUE(optional || fs::exists(path)) << path << " is missing: run with AW_UPDATE_EXPECTED=1";
  EXPECT_EQ(actual, readOr(path, "")) << "differs from " << path.string();
}

// ---------------------------------------------------------------------------------------------
// Expected outputs and exit codes of every fixture.

class Fixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { toRepoRoot(); }
};

TEST_P(Fixture, TextOutputAndExitCode) {
  const Case c = loadCase(GetParam());
  const RunResult r = checkCase(c, false);
  expectFile(c.dir / "expected.txt", r.out);
  expectFile(c.dir / "expected.stderr", r.err, true);
  expectFile(c.dir / "expected-exit", std::to_string(r.status) + "\n");
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << "colour on a non-terminal";
}

TEST_P(Fixture, JsonOutputAndExitCode) {
  const Case c = loadCase(GetParam());
  const RunResult r = checkCase(c, true);
  const json doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "not JSON:\n" << r.out;
  if (updating()) {
    writeFile(c.dir / "expected.json", r.out);
  } else {
    ASSERT_TRUE(fs::exists(c.dir / "expected.json")) << "run with AW_UPDATE_EXPECTED=1";
    EXPECT_EQ(doc, json::parse(readFile(c.dir / "expected.json"))) << r.out;
  }
  expectFile(c.dir / "expected-json.stderr", r.err, true);
  // Text and JSON output agree on the exit status.
  EXPECT_EQ(std::to_string(r.status) + "\n", readOr(c.dir / "expected-exit", "?"));
}

std::string caseTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Check, Fixture, ::testing::ValuesIn(caseNames()), caseTestName);

// ---------------------------------------------------------------------------------------------
// check decides like serve: every object of every fixture, sent to a real serve as a CREATE.

// A finding as both sides can state it: action (deny | warn | audit) and RULE: PATH: message.
using Finding = std::pair<std::string, std::string>;

std::vector<std::string> split(const std::string& text, const std::string& by) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(by, start)) != std::string::npos; start = at + by.size()) {
    parts.push_back(text.substr(start, at - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

// What serve's answer says, in check's terms (SPEC §4): the parts of a denial are deny findings,
// a plain warning a warn finding, an "[audit] " warning or an audit annotation an audit finding.
std::set<Finding> serveFindings(const json& response) {
  std::set<Finding> out;
  if (!response.at("allowed").get<bool>()) {
    for (const std::string& part :
         split(response.at("status").at("message").get<std::string>(), "; ")) {
      out.insert({"deny", part});
    }
  }
  for (const json& w : response.value("warnings", json::array())) {
    const std::string text = w.get<std::string>();
    const std::string audit = "[audit] ";
    if (text.rfind(audit, 0) == 0) {
      out.insert({"audit", text.substr(audit.size())});
    } else {
      out.insert({"warn", text});
    }
  }
  const json annotations = response.value("auditAnnotations", json::object());
  for (const auto& [rule, value] : annotations.items()) {
    for (const std::string& part : split(value.get<std::string>(), "; "))
      out.insert({"audit", rule + ": " + part});
  }
  return out;
}

// RULE: PATH: message -> RULE: PATH
std::set<Finding> withoutMessages(const std::set<Finding>& findings) {
  std::set<Finding> out;
  for (const auto& [action, text] : findings) {
    const auto rule = text.find(": ");
    const auto path = rule == std::string::npos ? rule : text.find(": ", rule + 2);
    out.insert({action, text.substr(0, path)});
  }
  return out;
}

struct ServeSetup {
  std::optional<std::string> config;  // text of the configuration file; none: no --config
  bool auditOnly = false;
  std::vector<std::string> paths;
};

// The members entry a check-only IstioFederation / IstioMulticluster object stands for.
YAML::Node memberEntry(const json& object) {
  YAML::Node m;
  const json& meta = object.at("metadata");
  const json annotations = meta.value("annotations", json::object());
  m["name"] = meta.at("name").get<std::string>();
  m["kind"] = object.at("kind").get<std::string>();
  if (object.at("kind") == "IstioFederation") {
    m["clusterDomain"] = object.at("spec").at("trustDomain").get<std::string>();
  } else if (annotations.contains("alliance-webhook.io/cluster-domain")) {
    m["clusterDomain"] = annotations["alliance-webhook.io/cluster-domain"].get<std::string>();
  }
  for (const auto& [key, annotation] :
       {std::pair{"podSubnetCIDR", "alliance-webhook.io/pod-subnet-cidr"},
        std::pair{"serviceSubnetCIDR", "alliance-webhook.io/service-subnet-cidr"}}) {
    if (!annotations.contains(annotation)) continue;
    for (std::string cidr : split(annotations[annotation].get<std::string>(), ",")) {
      cidr.erase(0, cidr.find_first_not_of(' '));
      cidr.erase(cidr.find_last_not_of(' ') + 1);
      m[key].push_back(cidr);
    }
  }
  return m;
}

ServeSetup serveSetup(const Case& c, const std::vector<webhook::ManifestObject>& objects) {
  ServeSetup s;
  std::optional<std::string> configFile;
  for (std::size_t i = 0; i < c.args.size(); ++i) {
    if (c.args[i] == "--config" && i + 1 < c.args.size()) {
      configFile = c.args[++i];
    } else if (c.args[i] == "--audit-only") {
      s.auditOnly = true;
    } else {
      s.paths.push_back(c.args[i]);
    }
  }
  if (!configFile) return s;
  YAML::Node config = YAML::LoadFile(*configFile);
  // serve would watch the cluster (and refuses cluster.watch in this version); check ignores the
  // block, so serve gets the configuration without it.
  config.remove("cluster");
  if (kCrossObjectCases.count(c.name)) {
    for (const webhook::ManifestObject& m : objects) {
      const std::string kind = m.object.value("kind", "");
      if (kind == "IstioFederation" || kind == "IstioMulticluster")
        config["members"].push_back(memberEntry(m.object));
    }
  }
  YAML::Emitter out;
  out << config;
  s.config = std::string(out.c_str()) + "\n";
  return s;
}

// One serve per distinct configuration, shared by the fixtures that use it.
class Servers {
 public:
  ServerProcess& get(const ServeSetup& s) {
    const std::string key = s.config.value_or("<none>") + (s.auditOnly ? "\n--audit-only" : "");
    auto it = servers_.find(key);
    if (it != servers_.end()) return *it->second;
    std::vector<std::string> extra;
    if (s.config) {
      const fs::path file = dir_ / ("config-" + std::to_string(servers_.size()) + ".yaml");
      writeFile(file, *s.config);
      extra = {"--config", file.string()};
    }
    if (s.auditOnly) extra.push_back("--audit-only");
    return *servers_.emplace(key, std::make_unique<ServerProcess>(extra)).first->second;
  }

 private:
  TempDir dir_;
  std::map<std::string, std::unique_ptr<ServerProcess>> servers_;
};

class SameDecisionAsServe : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { servers_ = new Servers(); }
  static void TearDownTestSuite() {
    delete servers_;
    servers_ = nullptr;
  }
  void SetUp() override { toRepoRoot(); }
  static Servers* servers_;
};
Servers* SameDecisionAsServe::servers_ = nullptr;

json validateWithServe(ServerProcess& server, const json& object) {
  TlsClient client(server.port(), {devCerts().ca});
  EXPECT_TRUE(client.connected()) << client.error();
  auto r = client.request("POST", "/validate", review(object).dump());
  if (!r) {
    ADD_FAILURE() << "serve did not answer";
    return json{{"allowed", true}};
  }
  EXPECT_EQ(r->status, 200) << r->body;
  return responseOf(r->body);
}

TEST_P(SameDecisionAsServe, ForEveryObject) {
  const Case c = loadCase(GetParam());

  // The objects of the run, read as check reads them.
  webhook::ManifestSet set;
  ServeSetup setup = serveSetup(c, {});
  for (const std::string& path : setup.paths) {
    if (path == "-") {
      webhook::parseManifestText(c.stdinText, "<stdin>", set);
    } else {
      webhook::readManifests({path}, set);
    }
  }
  setup = serveSetup(c, set.objects);
  if (set.objects.empty()) GTEST_SKIP() << "no objects";

  // check's findings, by object (file, line, document).
  const RunResult r = checkCase(c, true);
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["summary"]["objects"], set.objects.size());
  using Key = std::tuple<std::string, int, int>;
  std::map<Key, std::set<Finding>> checkFindings;
  std::set<Key> keys;
  for (const webhook::ManifestObject& m : set.objects) {
    ASSERT_TRUE(keys.insert({m.file, m.line, m.document}).second)
        << "two objects at " << m.file << ":" << m.line;
  }
  for (const json& f : doc["findings"]) {
    const Key key{f["file"].get<std::string>(), f["line"].get<int>(), f["document"].get<int>()};
    ASSERT_TRUE(keys.count(key)) << "finding of no object: " << f.dump();
    checkFindings[key].insert({f["action"].get<std::string>(),
                               f["rule"].get<std::string>() + ": " + f["path"].get<std::string>() +
                                   ": " + f["message"].get<std::string>()});
  }

  ServerProcess& server = servers_->get(setup);
  const bool cross = kCrossObjectCases.count(c.name) > 0;
  for (const webhook::ManifestObject& m : set.objects) {
    SCOPED_TRACE(m.file + ":" + std::to_string(m.line));
    const std::set<Finding>& fromCheck = checkFindings[Key{m.file, m.line, m.document}];
    const json response = validateWithServe(server, m.object);
    const bool deniedByCheck = std::any_of(fromCheck.begin(), fromCheck.end(),
                                           [](const Finding& f) { return f.first == "deny"; });
    EXPECT_EQ(deniedByCheck, !response.at("allowed").get<bool>()) << response.dump();
    if (cross) {
      EXPECT_EQ(withoutMessages(fromCheck), withoutMessages(serveFindings(response)))
          << response.dump();
    } else {
      EXPECT_EQ(fromCheck, serveFindings(response)) << response.dump();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Check, SameDecisionAsServe, ::testing::ValuesIn(caseNames()),
                         caseTestName);

// ---------------------------------------------------------------------------------------------
// The command line.

class CheckCommand : public ::testing::Test {
 protected:
  void SetUp() override { toRepoRoot(); }
};

TEST_F(CheckCommand, JsonOutputNamesEveryFieldOfEveryFinding) {
  const RunResult r = check(
      {"--output", "json", "--config", kCasesDir + "/config.yaml", kCasesDir + "/denials/manifests",
       kCasesDir + "/malformed-yaml/manifests", kCasesDir + "/non-objects/manifests"});
  EXPECT_EQ(r.status, 2);
  const json doc = json::parse(r.out);
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc["findings"].is_array());
  ASSERT_FALSE(doc["findings"].empty());
  for (const json& f : doc["findings"]) {
    for (const char* key :
         {"file", "kind", "namespace", "name", "rule", "action", "path", "message"}) {
      EXPECT_TRUE(f[key].is_string()) << key << " in " << f.dump();
    }
    EXPECT_GE(f["line"].get<int>(), 1) << f.dump();
    EXPECT_GE(f["document"].get<int>(), 0) << f.dump();
    EXPECT_TRUE(f["action"] == "deny" || f["action"] == "warn" || f["action"] == "audit")
        << f.dump();
    EXPECT_EQ(f.size(), 10u) << f.dump();
  }
  ASSERT_EQ(doc["errors"].size(), 2u);
  for (const json& e : doc["errors"]) {
    EXPECT_TRUE(e["file"].is_string());
    EXPECT_GE(e["line"].get<int>(), 1);
    EXPECT_GE(e["column"].get<int>(), 1);
    EXPECT_GE(e["document"].get<int>(), 0);
    EXPECT_NE(e["message"].get<std::string>().find("YAML syntax error"), std::string::npos);
  }
  EXPECT_EQ(doc["notes"].size(), 5u);
  const json& s = doc["summary"];
  EXPECT_EQ(s["files"], 7);
  EXPECT_EQ(s["objects"], 9);
  EXPECT_EQ(s["denied"], 7);
  EXPECT_EQ(s["findings"], (json{{"deny", 8}, {"warn", 2}, {"audit", 0}}));
  EXPECT_EQ(s["errors"], 2);
  EXPECT_EQ(s["notes"], 5);
  EXPECT_EQ(s["mode"], "enforce");
  EXPECT_EQ(r.err, "") << "with --output json, problems are in the document";
}

TEST_F(CheckCommand, StdinAndFilesAreOneAlliance) {
  const std::string piped = R"(apiVersion: deckhouse.io/v1alpha1
kind: IstioFederation
metadata:
  name: cluster-z
  annotations:
    alliance-webhook.io/pod-subnet-cidr: 10.112.0.0/20
    alliance-webhook.io/service-subnet-cidr: 10.229.0.0/16
spec:
  metadataEndpoint: https://istio.k8s-z.example.com/metadata/
  trustDomain: cluster-z.local
)";
  const RunResult r = check({"--config", kCasesDir + "/config.yaml", "-",
                             kCasesDir + "/clean/manifests/federation-cluster-b.yaml"},
                            piped);
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_EQ(
      r.out,
      "<stdin>:1: deny subnet-overlap: metadata.annotations[alliance-webhook.io/pod-subnet-cidr]: "
      "pod subnet "
      "10.112.0.0/20 overlaps pod subnet 10.112.0.0/16 of IstioFederation cluster-b in "
      "test/webhook/cli/check/clean/manifests/federation-cluster-b.yaml:2: give every cluster its "
      "own "
      "range\n"
      "test/webhook/cli/check/clean/manifests/federation-cluster-b.yaml:2: deny subnet-overlap: "
      "metadata.annotations[alliance-webhook.io/pod-subnet-cidr]: pod subnet 10.112.0.0/16 "
      "overlaps pod subnet "
      "10.112.0.0/20 of IstioFederation cluster-z in <stdin>:1: give every cluster its own range\n"
      "checked 2 objects in 2 files (mode enforce): 2 denied, 0 warnings, 0 audit findings\n");
}

TEST_F(CheckCommand, UsageErrorsExitTwoAndSayWhatToDo) {
  struct Bad {
    std::vector<std::string> args;
    std::string says;
  };
  const TempDir dir;
  writeFile(dir / "typo.yaml", "localCluster:\n  clusterDomian: cluster-a.local\n");
  for (const Bad& b : std::vector<Bad>{
           {{}, "no PATH given"},
           {{"--output", "yaml", "x.yaml"}, "--output yaml: expected text or json"},
           {{"--colour", "x.yaml"}, "unknown flag --colour"},
           {{"--config", (dir / "absent.yaml").string(), kCasesDir + "/clean/manifests"},
            "absent.yaml"},
           {{"--config", (dir / "typo.yaml").string(), kCasesDir + "/clean/manifests"},
            "clusterDomian"},
       }) {
    const RunResult r = check(b.args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(b.says), std::string::npos) << r.err;
  }
}

TEST_F(CheckCommand, HelpExitsZero) {
  const RunResult r = check({"--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Usage: alliance-webhook check"), std::string::npos);
}

TEST_F(CheckCommand, AnEmptyDirectoryIsNotedNotSilentlyPassed) {
  const TempDir dir;
  fs::create_directory(dir / "manifests");
  writeFile(dir / "manifests" / "README.md", "not a manifest\n");
  const RunResult r = check({"--config", kCasesDir + "/config.yaml", (dir / "manifests").string()});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, (dir / "manifests").string() +
                       ": note: no *.yaml, *.yml or *.json file in this directory\n");
  EXPECT_EQ(r.out,
            "checked 0 objects in 0 files (mode enforce): 0 denied, 0 warnings, 0 audit findings, "
            "1 note\n");
}

TEST_F(CheckCommand, ABillionLaughsIsAnErrorNotAHang) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    text += "]\n";
  }
  text += "apiVersion: v1\nkind: ConfigMap\n";
  // Expanded, the document would hold 10^12 nodes: seconds mean it was refused, not expanded.
  // AddressSanitizer makes every allocation of the parse several times slower (4.6 s here).
#if defined(AW_SANITIZED)
  constexpr auto kLimit = std::chrono::seconds(30);
#else
  // ~3.9 s alone in a Debug build, over 5 s while ctest -j2 runs the e2e tests beside it.
  constexpr auto kLimit = std::chrono::seconds(10);
#endif
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = check({"-"}, text);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kLimit);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("<stdin>:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("aliases"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------------------------
// Reading manifests: scalar types, document separators, positions (webhook/manifests.cpp).

webhook::ManifestSet parse(const std::string& text) {
  webhook::ManifestSet set;
  webhook::parseManifestText(text, "f.yaml", set);
  return set;
}

json onlyObject(const std::string& text) {
  const webhook::ManifestSet set = parse(text);
  EXPECT_EQ(set.objects.size(), 1u);
  EXPECT_TRUE(set.problems.empty()) << (set.problems.empty() ? "" : set.problems[0].message);
  return set.objects.empty() ? json() : set.objects[0].object;
}

json valueOf(const std::string& yamlValue) {
  return onlyObject("apiVersion: v1\nkind: ConfigMap\nv: " + yamlValue + "\n")["v"];
}

TEST(CheckManifests, ScalarsAreTypedAsKubectlSendsThem) {
  EXPECT_EQ(valueOf("80"), json(80));
  EXPECT_TRUE(valueOf("80").is_number_integer());
  EXPECT_EQ(valueOf("\"80\""), json("80"));
  EXPECT_EQ(valueOf("'80'"), json("80"));
  EXPECT_EQ(valueOf("!!str 80"), json("80"));
  EXPECT_EQ(valueOf("-12"), json(-12));
  EXPECT_EQ(valueOf("+12"), json(12));
  EXPECT_EQ(valueOf("0x50"), json(80));
  EXPECT_EQ(valueOf("0o17"), json(15));
  EXPECT_EQ(valueOf("017"), json(15));  // YAML 1.1 octal, as go-yaml v2 reads it
  EXPECT_EQ(valueOf("1_000"), json(1000));
  EXPECT_EQ(valueOf("9223372036854775807"), json(9223372036854775807LL));
  EXPECT_EQ(valueOf("1.5"), json(1.5));
  EXPECT_TRUE(valueOf("8080.0").is_number_integer());  // encoding/json writes 8080.0 as 8080
  EXPECT_EQ(valueOf("8080.0"), json(8080));
  EXPECT_EQ(valueOf("1e3"), json(1000));
  EXPECT_EQ(valueOf(".5"), json(0.5));
  for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "on", "ON", "y"})
    EXPECT_EQ(valueOf(t), json(true)) << t;
  for (const char* f : {"false", "False", "no", "NO", "off", "Off", "n"})
    EXPECT_EQ(valueOf(f), json(false)) << f;
  EXPECT_EQ(valueOf("\"true\""), json("true"));
  EXPECT_EQ(valueOf("\"false\""), json("false"));
  for (const char* n : {"null", "Null", "NULL", "~", ""}) EXPECT_TRUE(valueOf(n).is_null()) << n;
  EXPECT_EQ(valueOf("\"null\""), json("null"));
  EXPECT_EQ(valueOf("\"\""), json(""));
  for (const char* s : {"10.111.0.0/16", "1.2.3", "0x", "1e", "http-web", "yes please",
                        "2024-01-01", ".inf", "0b", "--", "+"}) {
    EXPECT_EQ(valueOf(s), json(s)) << s;
  }
  EXPECT_EQ(valueOf("|\n  two\n  lines"), json("two\nlines\n"));
  EXPECT_EQ(valueOf("[80, \"80\", true, null]"), json::parse(R"([80, "80", true, null])"));
}

TEST(CheckManifests, KeysBecomeJsonKeys) {
  const json o =
      onlyObject("apiVersion: v1\nkind: ConfigMap\ndata:\n  80: a\n  \"90\": b\n  true: c\n");
  EXPECT_EQ(o["data"], (json{{"80", "a"}, {"90", "b"}, {"true", "c"}}));
  const webhook::ManifestSet bad = parse("apiVersion: v1\nkind: ConfigMap\ndata:\n  ~: a\n");
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_EQ(bad.problems[0].line, 4);
  EXPECT_NE(bad.problems[0].message.find("key is null"), std::string::npos)
      << bad.problems[0].message;
}

TEST(CheckManifests, AnchorsAliasesAndMergeKeysAreExpanded) {
  const json o = onlyObject(R"(apiVersion: v1
kind: Service
metadata:
  name: web
  labels: &labels {app: web, tier: front}
  annotations:
    <<: [*labels, {extra: "1", app: ignored}]
    tier: own
spec:
  selector: *labels
)");
  EXPECT_EQ(o["spec"]["selector"], (json{{"app", "web"}, {"tier", "front"}}));
  EXPECT_EQ(o["metadata"]["annotations"], (json{{"app", "web"}, {"tier", "own"}, {"extra", "1"}}));
}

TEST(CheckManifests, DocumentSeparatorsAndLines) {
  const webhook::ManifestSet set = parse(
      "---\n"                                // 1: leading separator
      "# comment\n"                          // 2
      "apiVersion: v1\nkind: A\n"            // 3-4
      "--- \n"                               // 5: trailing blank
      "apiVersion: v1\nkind: B\n"            // 6-7
      "...\n"                                // 8: document end, no separator after it
      "apiVersion: v1\nkind: C\n"            // 9-10
      "---\t# a comment\n"                   // 11
      "\n"                                   // 12
      "apiVersion: v1\nkind: D\n"            // 13-14
      "--- {apiVersion: v1, kind: E}\n"      // 15: the document starts on the marker line
      "---\n---\n"                           // 16-17: an empty document
      "apiVersion: v1\nkind: F\n"            // 18-19
      "data:\n  a: ----\n  b: |\n    ---\n"  // 20-23: not separators
      "---x: 1\n");                          // 24: not a separator either: a key
  ASSERT_TRUE(set.problems.empty()) << set.problems[0].message;
  std::vector<std::tuple<std::string, int, int>> got;
  for (const auto& o : set.objects) got.emplace_back(o.object["kind"], o.line, o.document);
  EXPECT_EQ(got,
            (std::vector<std::tuple<std::string, int, int>>{
                {"A", 3, 0}, {"B", 6, 1}, {"C", 9, 2}, {"D", 13, 3}, {"E", 15, 4}, {"F", 18, 5}}));
  EXPECT_EQ(set.objects[5].object["data"], (json{{"a", "----"}, {"b", "---\n"}}));
  EXPECT_EQ(set.objects[5].object["---x"], 1);
}

TEST(CheckManifests, WindowsLineEndingsAndAByteOrderMark) {
  const webhook::ManifestSet set = parse(
      "\xEF\xBB\xBF"
      "apiVersion: v1\r\nkind: A\r\n---\r\napiVersion: v1\r\nkind: B\r\n");
  ASSERT_EQ(set.objects.size(), 2u);
  EXPECT_EQ(set.objects[0].object["kind"], "A");
  EXPECT_EQ(set.objects[1].object["kind"], "B");
  EXPECT_EQ(set.objects[1].line, 4);
}

TEST(CheckManifests, SyntaxErrorsHaveLineAndColumnAndTheOtherDocumentsStillCount) {
  const webhook::ManifestSet set = parse(
      "apiVersion: v1\nkind: A\n"  // 1-2
      "---\n"                      // 3
      "apiVersion: v1\n"           // 4
      "kind: B\n"                  // 5
      "spec: {ports: [1, 2}\n"     // 6: mismatched bracket
      "---\n"                      // 7
      "apiVersion: v1\nkind: C\n"  // 8-9
      "---\n"                      // 10
      "apiVersion: v1\nkind: D\n"  // 11-12
      "spec:\n  a: 1\n b: 2\n");   // 13-15: bad indentation
  ASSERT_EQ(set.objects.size(), 2u);
  EXPECT_EQ(set.objects[0].object["kind"], "A");
  EXPECT_EQ(set.objects[1].object["kind"], "C");
  EXPECT_EQ(set.objects[1].document, 2);
  ASSERT_EQ(set.problems.size(), 2u);
  EXPECT_TRUE(set.problems[0].fatal);
  EXPECT_EQ(set.problems[0].line, 6);
  EXPECT_GE(set.problems[0].column, 1);
  EXPECT_EQ(set.problems[0].document, 1);
  EXPECT_EQ(set.problems[1].line, 15);
  EXPECT_EQ(set.problems[1].column, 2);
  EXPECT_EQ(set.problems[1].document, 3);
}

TEST(CheckManifests, JsonFilesIncludingSurrogatePairs) {
  const std::string text =
      "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"ConfigMap\",\n"
      "\t\"metadata\": {\"name\": \"caf\\u00e9\", \"annotations\": {\"a\": \"\\ud83d\\ude00 "
      "\\\\ud83d\"}},\n"
      "\t\"data\": {\"port\": 80, \"quoted\": \"80\", \"on\": true, \"none\": null, \"f\": "
      "1.25}\n}\n";
  const json o = onlyObject(text);
  EXPECT_EQ(o, json::parse(text));
  EXPECT_EQ(o["metadata"]["annotations"]["a"], "\xF0\x9F\x98\x80 \\ud83d");
}

TEST(CheckManifests, ListsAreExpandedWithTheLineOfEveryItem) {
  const webhook::ManifestSet set = parse(R"(apiVersion: v1
kind: ServiceList
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: a}
  - 42
  - apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: Service
        metadata: {name: b}
)");
  ASSERT_EQ(set.objects.size(), 2u);
  EXPECT_EQ(set.objects[0].object["metadata"]["name"], "a");
  EXPECT_EQ(set.objects[0].line, 4);
  EXPECT_EQ(set.objects[1].object["metadata"]["name"], "b");
  EXPECT_EQ(set.objects[1].line, 11);
  ASSERT_EQ(set.problems.size(), 1u);
  EXPECT_FALSE(set.problems[0].fatal);
  EXPECT_EQ(set.problems[0].line, 7);
  EXPECT_EQ(set.problems[0].message,
            "items[1] skipped: not a Kubernetes object (it is a number, not a mapping with "
            "apiVersion and kind)");
}

TEST(CheckManifests, DeepNestingIsAnErrorNotACrash) {
  for (int depth : {300, 1000, 100000}) {
    const std::string text = "apiVersion: v1\nkind: ConfigMap\ndata: " + std::string(depth, '[') +
                             std::string(depth, ']') + "\n";
    const webhook::ManifestSet set = parse(text);
    EXPECT_TRUE(set.objects.empty()) << depth;
    ASSERT_EQ(set.problems.size(), 1u) << depth;
    EXPECT_TRUE(set.problems[0].fatal);
    EXPECT_EQ(set.problems[0].line, 3) << depth;
  }
}

}  // namespace
}  // namespace aw::test

// Table-driven rule tests from YAML fixtures (test/rules/fixtures/*.yaml). A fixture file:
//
//   rules: [subnet-overlap]   # optional: compare only these rules' findings (default: all)
//   config: {...}             # optional: default SPEC §3 configuration for every case
//   cases:
//     - name: overlapping pod subnet is denied
//       config: {...}         # optional: replaces the file's config (a mapping or a text block)
//       alliance objects:     # optional: IstioFederation / IstioMulticluster objects that are
//         - {...}             #   members too (as the cluster watch will provide them)
//       operation: UPDATE     # CREATE (default), UPDATE, DELETE, CONNECT
//       object: {...}
//       oldObject: {...}      # optional
//       expect:
//         findings: ["deny subnet-overlap: PATH: MESSAGE", ...]   # validate, exact and ordered
//         shape: ["object-shape: PATH: MESSAGE"]                  # validate's shape errors
//         patch: [...]        # mutate: the exact JSONPatch
//         patched: {...}      # mutate: the object after applying the patch
//
// Every mutation case is also run again on the patched object, which must get no patch.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/json_view.h"
#include "rules/registry.h"
#include "webhook/state/config.h"

namespace aw::test {

struct RuleCase {
  std::string file;       // fixture file name, for messages
  std::string loadError;  // the fixture file could not be read: the case fails with this
  std::string name;
  std::vector<std::string> onlyRules;  // empty: every rule
  std::string configText;              // SPEC §3 YAML
  std::vector<nlohmann::json> allianceObjects;
  rules::Operation operation = rules::Operation::Create;
  nlohmann::json object;
  nlohmann::json oldObject;  // null when absent

  std::optional<std::vector<std::string>> findings;
  std::optional<std::vector<std::string>> shape;
  std::optional<nlohmann::json> patch;
  std::optional<nlohmann::json> patched;

  bool mutates() const { return patch.has_value() || patched.has_value(); }
};

// GoogleTest prints a case by its file and name.
inline void PrintTo(const RuleCase& c, std::ostream* os) {
  *os << c.file << ": " << c.name;
}

// Reads test/rules/fixtures/<file> below AW_SOURCE_DIR. A malformed fixture yields one case
// carrying loadError (so the test fails with the reason instead of aborting at start-up).
std::vector<RuleCase> loadRuleCases(const std::string& file);

// A configuration, alliance and request built from a case; keeps everything alive.
class CaseWorld {
 public:
  explicit CaseWorld(const RuleCase& c);
  const std::string& error() const { return error_; }  // configuration error, if any
  rules::Context context() const { return {*alliance_, config_->settings}; }
  rules::Request request(const nlohmann::json& object, const nlohmann::json* oldObject) const;
  const webhook::Config& config() const { return *config_; }

 private:
  std::string error_;
  std::optional<webhook::Config> config_;
  std::optional<rules::Alliance> alliance_;
  rules::Operation operation_;
  mutable std::deque<aw::json::Document> documents_;  // what request()'s views point into
};

// A case's expectation as findings text: "<action> <rule>: <path>: <message>".
std::string findingLine(const rules::Finding& f);

// The member an alliance object declares (kind taken from its apiVersion and kind), read from
// the object alone: the Alliance fills it in from the configured entry of the same identity.
rules::Member memberOf(const nlohmann::json& object);

// Runs the case and reports every mismatch through GoogleTest.
void runRuleCase(const RuleCase& c);

// A GoogleTest-safe name for a case: letters, digits and '_'.
std::string testName(const std::string& caseName);

// The name generator for INSTANTIATE_TEST_SUITE_P.
struct CaseName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& p) const {
    return testName(p.param.name);
  }
};

}  // namespace aw::test

// Defines a parameterized test over every case of a fixture file.
#define AW_RULE_FIXTURE_TESTS(Suite, File)                                                       \
  class Suite : public ::testing::TestWithParam<::aw::test::RuleCase> {};                        \
  TEST_P(Suite, Case) {                                                                          \
    ::aw::test::runRuleCase(GetParam());                                                         \
  }                                                                                              \
  INSTANTIATE_TEST_SUITE_P(Fixture, Suite, ::testing::ValuesIn(::aw::test::loadRuleCases(File)), \
                           ::aw::test::CaseName())

// Decision table: every rule action x mode x dryRun, through the transport-free handler.
#include <gtest/gtest.h>

#include "test/support/review.h"
#include "webhook/admission/handler.h"

namespace aw::webhook {
namespace {

using nlohmann::json;

const std::string kFinding =
    "service-port-names: spec.ports[0]: port 80/TCP has no name, and public federation services "
    "need a name on every port (add for example name: tcp-80)";
const std::string kExplanation = kFinding.substr(std::string("service-port-names: ").size());

json answer(const std::string& action, const std::string& mode, bool dryRun) {
  ConfigResult c =
      parseConfig("mode: " + mode + "\nrules:\n  service-port-names: { action: " + action + " }\n",
                  "test", ".");
  EXPECT_TRUE(c.config) << c.error;
  State state;
  state.replace(makeSnapshot(std::move(*c.config)));
  Metrics metrics;
  AdmissionHandler handler(state, metrics);
  test::ReviewOptions o;
  o.dryRun = dryRun;
  HttpResult r =
      handler.handle(Endpoint::Validate,
                     test::review(test::service("web", json::array({{{"port", 80}}})), o).dump());
  EXPECT_EQ(r.status, 200);
  json resp = test::responseOf(r.body);
  resp.erase("uid");
  return resp;
}

TEST(Decision, EveryActionModeAndDryRun) {
  const json denied = {{"allowed", false},
                       {"status", {{"code", 403}, {"reason", "Forbidden"}, {"message", kFinding}}}};
  const json warned = {{"allowed", true}, {"warnings", {kFinding}}};
  const json audited = {{"allowed", true},
                        {"auditAnnotations", {{"service-port-names", kExplanation}}}};
  const json auditModeDeny = {{"allowed", true},
                              {"warnings", {"[audit] " + kFinding}},
                              {"auditAnnotations", {{"service-port-names", kExplanation}}}};
  const json allowed = {{"allowed", true}};
  struct Row {
    std::string action, mode;
    json expected;
  };
  const std::vector<Row> table = {
      {"deny", "enforce", denied},
      {"warn", "enforce", warned},
      {"audit", "enforce", audited},
      {"off", "enforce", allowed},
      {"deny", "audit", auditModeDeny},
      {"warn", "audit", warned},  // warn findings stay plain warnings in audit mode
      {"audit", "audit", audited},
      {"off", "audit", allowed},
  };
  for (const Row& row : table) {
    for (bool dryRun : {false, true}) {
      EXPECT_EQ(answer(row.action, row.mode, dryRun), row.expected)
          << row.action << " / " << row.mode << " / dryRun=" << dryRun;
    }
  }
}

TEST(Decision, SeveralDenialsAreJoinedAndValidatingAnswersCarryNoPatch) {
  State state;
  state.replace(makeSnapshot(defaultConfig()));
  Metrics metrics;
  AdmissionHandler handler(state, metrics);
  json ports = json::array({{{"port", 80}}, {{"port", 443}, {"protocol", "TCP"}}});
  json resp = test::responseOf(
      handler.handle(Endpoint::Validate, test::review(test::service("web", ports)).dump()).body);
  EXPECT_EQ(resp["status"]["message"],
            kFinding +
                "; service-port-names: spec.ports[1]: port 443/TCP has no name, and public "
                "federation services need a name on every port (add for example name: tcp-443)");
  EXPECT_FALSE(resp.contains("patch"));
  EXPECT_FALSE(resp.contains("patchType"));
}

TEST(Decision, UncheckedKindsAndDeletesAreAllowedWithNothingElse) {
  State state;
  state.replace(makeSnapshot(defaultConfig()));
  Metrics metrics;
  AdmissionHandler handler(state, metrics);
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}};
  EXPECT_EQ(test::responseOf(handler.handle(Endpoint::Validate, test::review(pod).dump()).body),
            (json{{"uid", test::ReviewOptions{}.uid}, {"allowed", true}}));
  test::ReviewOptions del;
  del.operation = "DELETE";
  EXPECT_EQ(
      test::responseOf(
          handler
              .handle(Endpoint::Mutate,
                      test::review(test::service("web", json::array({{{"port", 80}}})), del).dump())
              .body),
      (json{{"uid", del.uid}, {"allowed", true}}));
}

}  // namespace
}  // namespace aw::webhook

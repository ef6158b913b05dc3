// The shape check: one walk of the object for all the shapes, findings in the order the shapes
// are listed, each shape's in the order of the document.
#include "rules/engine/shape.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace aw::rules {
namespace {

std::vector<std::string> check(const std::string& json, const std::vector<FieldShape>& shapes) {
  const aw::json::Document doc(json);
  std::vector<Finding> found;
  checkShape(doc.root(), ShapeTree(shapes), found);
  std::vector<std::string> out;
  for (const Finding& f : found) out.push_back(f.path + ": " + f.message);
  return out;
}

TEST(Shape, FindingsFollowTheShapesThenTheDocument) {
  const std::vector<FieldShape> shapes = {
      {"spec", kObject},
      {"spec.ports", kArray},
      {"spec.ports[]", kObject},
      {"spec.ports[].name", kString},
      {"spec.ports[].port", kInteger | kString},
      {"metadata.labels{}", kString},
  };
  const std::string object = R"({
    "metadata": {"labels": {"a": 1, "b": "ok", "c": []}},
    "spec": {"ports": [{"name": 1, "port": 1.5}, null, 7, {"name": "x", "port": {}},
                       {"name": true}]}})";
  EXPECT_EQ(check(object, shapes), (std::vector<std::string>{
                                       "spec.ports[2]: expected an object, got an integer",
                                       "spec.ports[0].name: expected a string, got an integer",
                                       "spec.ports[4].name: expected a string, got a boolean",
                                       "spec.ports[0].port: expected an integer or a string, got "
                                       "a number with a fraction",
                                       "spec.ports[3].port: expected an integer or a string, got "
                                       "an object",
                                       "metadata.labels[a]: expected a string, got an integer",
                                       "metadata.labels[c]: expected a string, got a list",
                                   }));
}

TEST(Shape, TheLastOfRepeatedKeysIsChecked) {
  const std::vector<FieldShape> shapes = {{"spec", kObject}, {"spec.n", kInteger}};
  EXPECT_EQ(check(R"({"spec": {"n": "x", "n": 1}})", shapes), std::vector<std::string>{});
  EXPECT_EQ(check(R"({"spec": {"n": 1, "n": "x"}})", shapes),
            std::vector<std::string>{"spec.n: expected an integer, got a string"});
  EXPECT_EQ(check(R"({"spec": 5, "spec": {"n": null}})", shapes), std::vector<std::string>{});
}

TEST(Shape, WhatIsNotAnObjectIsOneFinding) {
  EXPECT_EQ(check("[]", {{"spec", kObject}}),
            std::vector<std::string>{"object: expected an object, got a list"});
  std::vector<Finding> found;
  checkShape(aw::json::View(), ShapeTree({{"spec", kObject}}), found);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].message, "expected an object, got null");
}

// The engine's own reads lead the plan's tree: when one of them fails, only their findings
// count; otherwise every finding does, and the result says which.
TEST(Shape, LeadingShapesFailAlone) {
  const ShapeTree tree({{"metadata", kObject},
                        {"metadata.deletionTimestamp", kString},
                        {"spec", kObject},
                        {"spec.n", kInteger}},
                       2);
  const auto run = [&](const std::string& json, std::vector<std::string>& paths) {
    const aw::json::Document doc(json);
    std::vector<Finding> found;
    const ShapeCheck result = checkShape(doc.root(), tree, found);
    for (const Finding& f : found) paths.push_back(f.path);
    return result;
  };
  std::vector<std::string> paths;
  EXPECT_EQ(run(R"({"metadata": {"deletionTimestamp": 1}, "spec": {"n": "x"}})", paths),
            ShapeCheck::LeadingFailed);
  EXPECT_EQ(paths, std::vector<std::string>{"metadata.deletionTimestamp"});
  paths.clear();
  EXPECT_EQ(run(R"({"metadata": {}, "spec": {"n": "x"}, "spec": 3})", paths), ShapeCheck::Failed);
  EXPECT_EQ(paths, std::vector<std::string>{"spec"});
  paths.clear();
  EXPECT_EQ(run(R"({"metadata": {"deletionTimestamp": "t"}, "spec": {"n": 2}})", paths),
            ShapeCheck::Fits);
  EXPECT_TRUE(paths.empty());
  std::vector<Finding> found;
  EXPECT_EQ(checkShape(aw::json::View(), tree, found), ShapeCheck::LeadingFailed);
}

TEST(Shape, ATreeRefusesAShapeListedTwice) {
  EXPECT_THROW(ShapeTree({{"spec", kObject}, {"spec", kArray}}), std::logic_error);
}

}  // namespace
}  // namespace aw::rules

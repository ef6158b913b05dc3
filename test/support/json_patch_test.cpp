// The tests' RFC 6902 applier: add and replace, pointer escaping, and refusals.
#include "test/support/json_patch.h"

#include <gtest/gtest.h>

namespace aw::test {
namespace {

using nlohmann::json;

TEST(JsonPatch, PointerTokensUnescape) {
  EXPECT_EQ(pointerTokens("/metadata/annotations/alliance-webhook.io~1defaulted"),
            (std::vector<std::string>{"metadata", "annotations", "alliance-webhook.io/defaulted"}));
  EXPECT_EQ(pointerTokens("/a~0b/~01"), (std::vector<std::string>{"a~b", "~1"}));
  EXPECT_EQ(pointerTokens("/"), (std::vector<std::string>{""}));
  EXPECT_TRUE(pointerTokens("").empty());
  EXPECT_THROW(pointerTokens("a"), std::runtime_error);
  EXPECT_THROW(pointerTokens("/a~2"), std::runtime_error);
}

TEST(JsonPatch, AddAndReplace) {
  const json doc = {{"metadata", {{"annotations", {{"a/b", "1"}}}}}, {"list", {1, 3}}};
  const json patch = json::parse(R"([
    {"op": "replace", "path": "/metadata/annotations/a~1b", "value": "2"},
    {"op": "add", "path": "/metadata/annotations/c~0d", "value": "3"},
    {"op": "add", "path": "/list/1", "value": 2},
    {"op": "add", "path": "/list/-", "value": 4},
    {"op": "add", "path": "/spec", "value": {"x": null}},
    {"op": "add", "path": "/spec/x", "value": 5}
  ])");
  const json expected = {{"metadata", {{"annotations", {{"a/b", "2"}, {"c~d", "3"}}}}},
                         {"list", {1, 2, 3, 4}},
                         {"spec", {{"x", 5}}}};
  EXPECT_EQ(applyPatch(doc, patch), expected);
  EXPECT_EQ(applyPatch(doc, patch), doc.patch(patch));
}

TEST(JsonPatch, Refusals) {
  const json doc = {{"a", {{"b", 1}}}, {"list", {1}}};
  auto apply = [&](const char* op) { return applyPatch(doc, json::array({json::parse(op)})); };
  EXPECT_THROW(apply(R"({"op": "add", "path": "/x/y", "value": 1})"), std::runtime_error);
  EXPECT_THROW(apply(R"({"op": "replace", "path": "/a/c", "value": 1})"), std::runtime_error);
  EXPECT_THROW(apply(R"({"op": "add", "path": "/list/3", "value": 1})"), std::runtime_error);
  EXPECT_THROW(apply(R"({"op": "add", "path": "/list/01", "value": 1})"), std::runtime_error);
  EXPECT_THROW(apply(R"({"op": "remove", "path": "/a"})"), std::runtime_error);
  EXPECT_THROW(apply(R"({"op": "add", "path": "/a"})"), std::runtime_error);
  EXPECT_THROW(applyPatch(doc, json::object()), std::runtime_error);
}

}  // namespace
}  // namespace aw::test

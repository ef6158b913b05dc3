// rules::Patch writes the text nlohmann's dump writes for the same operations.
#include "rules/engine/patch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aw::rules {
namespace {

std::string dumped(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(Patch, WritesWhatNlohmannDumps) {
  const std::vector<std::string> values = {
      "",          "DNS",           "a\"quote\\and/slash", std::string("nul\0byte", 8),
      "\x01\x1f",  "caf\xc3\xa9",   "bad \xff utf-8",      "cut \xe2\x82",
      "tab\there", "line\r\nbreak", "\xf0\x9f\x98\x80",
  };
  Patch patch;
  nlohmann::json expected = nlohmann::json::array();
  EXPECT_TRUE(patch.empty());
  EXPECT_EQ(patch.text(), "[]");
  for (const std::string& v : values) {
    const std::string path = "/metadata/annotations/" + v;
    patch.addString("add", path, v);
    expected.push_back({{"op", "add"}, {"path", path}, {"value", v}});
  }
  Patch object;
  object.addJson("replace", "/metadata", R"({"annotations":{"k":"v"}})");
  expected.push_back(
      {{"op", "replace"}, {"path", "/metadata"}, {"value", {{"annotations", {{"k", "v"}}}}}});
  patch.append(object);
  patch.append(Patch{});
  EXPECT_EQ(patch.size(), values.size() + 1);
  EXPECT_EQ(patch.text(), dumped(expected));
  EXPECT_EQ(patch.json(), nlohmann::json::parse(dumped(expected)));
}

}  // namespace
}  // namespace aw::rules

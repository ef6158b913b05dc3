// aw::json::appendString against nlohmann's dump with the replace error handler, byte for byte.
#include "common/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace aw::json {
namespace {

std::string nlohmannDump(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string appended(const std::string& s) {
  std::string out = "x";  // appends, keeping what is there
  appendString(out, s);
  return out.substr(1);
}

TEST(JsonText, EscapesLikeNlohmann) {
  const std::vector<std::string> cases = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      std::string("nul \0 byte", 10),
      "\b\f\n\r\t\x01\x1f\x7f",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",  // 2, 3 and 4 byte sequences
      "\x80",
      "\xC3",
      "a\xC3",
      "\xC3(",
      "\xE2\x82",
      "\xE2\x82(",
      "\xF0\x9F\x98",
      "\xF0\x9F\x98(",
      "\xC0\xAF",          // overlong
      "\xE0\x80\xAF",      // overlong
      "\xED\xA0\x80",      // surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xF5\x80",
      "\xFF\xFE",
      "\xEF\xBF\xBD",
  };
  for (const std::string& s : cases) EXPECT_EQ(appended(s), nlohmannDump(s)) << s;
}

// Random strings over the bytes that matter: ASCII, escapes, continuation and lead bytes.
TEST(JsonText, RandomBytesLikeNlohmann) {
  std::mt19937 rng(12);
  const std::string alphabet =
      std::string("a\"\\\n\x01\x1f\x7f", 7) +
      "\x80\x8f\x90\x9f\xa0\xbf\xc0\xc1\xc2\xdf\xe0\xe1\xed\xee\xef\xf0\xf1\xf4\xf5\xff";
  for (int round = 0; round < 200000; ++round) {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(appended(s), nlohmannDump(s)) << ::testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace aw::json

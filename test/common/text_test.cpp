// quoteValue: user-written values in messages stay on one line and never split a joined message.
#include "common/text.h"

#include <gtest/gtest.h>

namespace aw::rules {
namespace {

TEST(QuoteValue, PlainValuesAreQuoted) {
  EXPECT_EQ(quoteValue("cluster-b.local"), "\"cluster-b.local\"");
  EXPECT_EQ(quoteValue(""), "\"\"");
}

TEST(QuoteValue, TheSeparatorCannotAppear) {
  EXPECT_EQ(quoteValue("a; b"), "\"a;\\x20b\"");
  EXPECT_EQ(quoteValue("a;b"), "\"a;b\"");
  EXPECT_EQ(quoteValue("a ;b"), "\"a ;b\"");
}

TEST(QuoteValue, QuotesControlAndNonAsciiBytesAreEscaped) {
  EXPECT_EQ(quoteValue("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(quoteValue("a\nb\tc"), "\"a\\x0ab\\x09c\"");
  EXPECT_EQ(quoteValue("\xff"), "\"\\xff\"");
}

TEST(QuoteValue, LongValuesAreShortened) {
  EXPECT_EQ(quoteValue(std::string(100, 'x')), "\"" + std::string(64, 'x') + "...\"");
  EXPECT_EQ(quoteValue(std::string(64, 'x')), "\"" + std::string(64, 'x') + "\"");
}

}  // namespace
}  // namespace aw::rules

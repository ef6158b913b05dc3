// quoteValue and quote: user-written values in messages stay on one line and never split a joined
// message.
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

// quote, the one quoting function: the default style (messages about kubeconfig and configuration
// values) used to paste the value between quotes as it was; it escapes now.
TEST(Quote, TheDefaultStyleEscapesWhatUsedToBePastedAsIs) {
  EXPECT_EQ(quote("https://c:6443"), "\"https://c:6443\"");
  EXPECT_EQ(quote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(quote("line\nbreak\x1b"), "\"line\\x0abreak\\x1b\"");
  EXPECT_EQ(quote("it's a; b"), "\"it's a; b\"");
  EXPECT_EQ(quote(std::string(100, 'x')), "\"" + std::string(100, 'x') + "\"");
}

TEST(Quote, StylesChooseDelimiterLengthAndSpaces) {
  const QuoteStyle piece{'"', 4, true, true, false};
  EXPECT_EQ(quote("a' b c", piece), "\"a\\'\\x20b...\"");
  const QuoteStyle character{'\'', 0, true, true, false};
  EXPECT_EQ(quote("'", character), "'\\''");
  EXPECT_EQ(quote("\"", character), "'\\\"'");
  EXPECT_EQ(quote("\"", {'\'', 0}), "'\"'");
  EXPECT_EQ(quote("x", {'\'', 0}), "'x'");
}

}  // namespace
}  // namespace aw::rules

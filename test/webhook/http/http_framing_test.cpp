// The framing the connection layer decides requests by (webhook/http_framing.h), table-driven.
#include "webhook/http/http_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aw::webhook::http {
namespace {

struct HeadCase {
  std::string name;
  std::string bytes;
  Parse want;
  int status = 0;  // Refused
  BodyKind body = BodyKind::None;
  std::uint64_t length = 0;
};

TEST(HttpFraming, Heads) {
  const std::string fields40k = [] {
    std::string s;
    for (int i = 0; i < 40; ++i) {
      s += "X-Fill-" + std::to_string(i) + ": " + std::string(1000, 'a') + "\r\n";
    }
    return s;
  }();
  const std::string fields101 = [] {
    std::string s;
    for (int i = 0; i < 101; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
    return s;
  }();
  const std::vector<HeadCase> cases = {
      {"GET", "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", Parse::Complete},
      {"incomplete head", "GET /healthz HTTP/1.1\r\nHost: a\r\n", Parse::Incomplete},
      {"incomplete request line", "GET /hea", Parse::Incomplete},
      {"content-length", "POST /v HTTP/1.1\r\nContent-Length: 12\r\n\r\n", Parse::Complete, 0,
       BodyKind::Length, 12},
      {"content-length 0 is no body", "POST /v HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
       Parse::Complete, 0, BodyKind::None},
      {"the same content-length twice",
       "POST /v HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n", Parse::Complete, 0,
       BodyKind::Length, 3},
      {"a list of one length", "POST /v HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", Parse::Complete,
       0, BodyKind::Length, 3},
      {"two different content-lengths",
       "POST /v HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", Parse::Refused, 400},
      {"a list of two lengths", "POST /v HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", Parse::Refused,
       400},
      {"content-length not a number", "POST /v HTTP/1.1\r\nContent-Length: 3x\r\n\r\n",
       Parse::Refused, 400},
      {"content-length of 10^23 (too large, not malformed)",
       "POST /v HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", Parse::Complete, 0,
       BodyKind::Length, UINT64_MAX},
      {"chunked", "POST /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", Parse::Complete, 0,
       BodyKind::Chunked},
      {"Chunked in any case", "POST /v HTTP/1.1\r\nTransfer-Encoding: ChUnKeD\r\n\r\n",
       Parse::Complete, 0, BodyKind::Chunked},
      {"content-length and chunked",
       "POST /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
       Parse::Refused, 400},
      {"gzip, chunked", "POST /v HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       Parse::Refused, 400},
      {"an unknown coding", "POST /v HTTP/1.1\r\nTransfer-Encoding: xyz\r\n\r\n", Parse::Refused,
       400},
      {"chunked twice",
       "POST /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       Parse::Refused, 400},
      {"chunked in HTTP/1.0", "POST /v HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       Parse::Refused, 400},
      {"request line without a version", "GET /healthz\r\n\r\n", Parse::Refused, 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", Parse::Refused, 400},
      {"unknown method", "BREW / HTTP/1.1\r\n\r\n", Parse::Refused, 400},
      {"NUL in the target", std::string("GET /a\0b HTTP/1.1\r\n\r\n", 21), Parse::Refused, 400},
      {"bare LF after the request line", "GET / HTTP/1.1\n\r\n", Parse::Refused, 400},
      {"bare LF after a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", Parse::Refused, 400},
      {"folded field", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", Parse::Refused, 400},
      {"space before the colon", "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", Parse::Refused,
       400},
      {"a line without a colon is skipped", "GET / HTTP/1.1\r\ngarbage\r\n\r\n", Parse::Complete},
      {"request line over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
       Parse::Refused, 414},
      {"request line over 8 KiB, no newline yet", "GET /" + std::string(9000, 'a'), Parse::Refused,
       414},
      {"40 KiB of fields", "GET / HTTP/1.1\r\n" + fields40k + "\r\n", Parse::Complete},
      {"one field line over 8 KiB", "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n",
       Parse::Refused, 431},
      {"one field line over 8 KiB, no newline yet",
       "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a'), Parse::Refused, 431},
      {"fields over 64 KiB", "GET / HTTP/1.1\r\n" + fields40k + fields40k + "\r\n", Parse::Refused,
       431},
      {"fields over 64 KiB, no end yet", "GET / HTTP/1.1\r\n" + fields40k + fields40k,
       Parse::Refused, 431},
      {"101 fields", "GET / HTTP/1.1\r\n" + fields101 + "\r\n", Parse::Refused, 431},
  };
  const Limits limits;
  for (const HeadCase& k : cases) {
    SCOPED_TRACE(k.name);
    RequestHead head;
    Refusal refusal;
    EXPECT_EQ(parseHead(k.bytes, limits, head, refusal), k.want);
    if (k.want == Parse::Refused) {
      EXPECT_EQ(refusal.status, k.status);
    }
    if (k.want == Parse::Complete) {
      EXPECT_EQ(head.body, k.body);
      EXPECT_EQ(head.bytes, k.bytes.size());
      if (k.body == BodyKind::Length) {
        EXPECT_EQ(head.contentLength, k.length);
      }
    }
  }
}

TEST(HttpFraming, LeadingEmptyLinesAreSkipped) {
  EXPECT_EQ(leadingEmptyLines("\r\n\r\nGET"), 4u);
  EXPECT_EQ(leadingEmptyLines("GET"), 0u);
  EXPECT_EQ(leadingEmptyLines("\r"), 0u);
}

TEST(HttpFraming, ChunkedBodiesAsTheyArrive) {
  const Limits limits;
  const std::string body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\nGET /next";
  const std::size_t end = body.find("GET");
  // Fed a byte at a time, it completes exactly at the end of the trailer.
  ChunkedScanner s;
  Refusal r;
  for (std::size_t n = 1; n <= body.size(); ++n) {
    const Parse p = s.scan(std::string_view(body).substr(0, n), limits, r);
    if (n < end) {
      ASSERT_EQ(p, Parse::Incomplete) << n;
    } else {
      ASSERT_EQ(p, Parse::Complete) << n;
      EXPECT_EQ(s.end(), end);
    }
  }
  EXPECT_EQ(s.decoded(), 9u);

  const std::vector<std::pair<std::string, int>> bad = {
      {"zz\r\nabc\r\n0\r\n\r\n", 400},
      {"FFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", 400},
      {"-1\r\n", 400},
      {"0x4\r\nWiki\r\n0\r\n\r\n", 400},
      {"4\r\nWikiXX0\r\n\r\n", 400},
      {"4\nWiki\r\n0\r\n\r\n", 400},
      {std::string(2000, '0'), 400},
  };
  for (const auto& [bytes, status] : bad) {
    SCOPED_TRACE(bytes.substr(0, 40));
    ChunkedScanner b;
    Refusal refusal;
    EXPECT_EQ(b.scan(bytes, limits, refusal), Parse::Refused);
    EXPECT_EQ(refusal.status, status);
  }
}

TEST(HttpFraming, AChunkedBodyOverTheLimitIsFlaggedAtItsSizeLine) {
  Limits limits;
  limits.maxBody = 100;
  ChunkedScanner s;
  Refusal r;
  EXPECT_EQ(s.scan("65\r\n", limits, r), Parse::Incomplete);  // 0x65 = 101 bytes announced
  EXPECT_TRUE(s.overLimit(limits));
}

}  // namespace
}  // namespace aw::webhook::http

// The admission POSTs' direct lane (webhook/http/direct_post.h) against cpp-httplib: the same
// request bytes through both, the answers compared byte for byte.
#include "webhook/http/direct_post.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "webhook/http/server.h"

namespace aw::webhook {
namespace {

std::string post(const std::string& target, const std::string& fields, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: webhook.svc:443\r\n" + fields +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A server whose /validate answers what the body asks for.
class DirectPost : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.post("/validate", [](std::string_view body) -> HttpReply {
      if (body == "throw") throw std::runtime_error("handler failed");
      if (body == "400") return {400, R"({"error":"bad review"})"};
      if (body == "400-empty") return {400, ""};
      if (body == "500") return {500, R"({"error":"broken"})"};
      return {200, R"({"echo":")" + std::string(body) + "\"}"};
    });
    server_.post("/mutate", [](std::string_view) { return HttpReply{200, "{}"}; });
  }

  CertificateStore certs_;
  Metrics metrics_;
  AdmissionServer server_{ServerOptions{}, certs_, metrics_};
};

bool taken(const std::string& request) {
  http::Limits limits;
  http::RequestHead head;
  http::Refusal refusal;
  if (http::parseHead(request, limits, head, refusal) != http::Parse::Complete) return false;
  http::DirectPost post;
  return http::readDirectPost(request, head, post);
}

TEST_F(DirectPost, AnswersAsHttplibDoesByteForByte) {
  const std::string review = R"({"kind":"AdmissionReview"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", post("/validate", "Content-Type: application/json\r\n", review)},
      {"the API server's query", post("/validate?timeout=10s", "", review)},
      {"mutate", post("/mutate", "Accept: application/json, */*\r\n", review)},
      {"Connection: close", post("/validate", "Connection: close\r\n", review)},
      {"Connection: keep-alive", post("/validate", "Connection: keep-alive\r\n", review)},
      {"Connection: Close (httplib keeps it open)",
       post("/validate", "Connection: Close\r\n", review)},
      {"Content-Encoding: identity", post("/validate", "Content-Encoding: identity\r\n", review)},
      {"an empty field", post("/validate", "Connection:\r\nContent-Encoding: \r\n", review)},
      {"a line without a colon", post("/validate", "no colon here\r\n", review)},
      {"lower-case names", post("/validate", "connection: close\r\ncontent-type: a/b\r\n", review)},
      {"Expect", post("/validate", "Expect: 100-continue\r\n", review)},
      {"a 400 answer", post("/validate", "", "400")},
      {"a 400 answer without a body", post("/validate", "", "400-empty")},
      {"a 500 answer", post("/validate", "", "500")},
      {"a handler that throws", post("/validate", "", "throw")},
      {"a body with a NUL and CRLF", post("/validate", "", std::string("a\0b\r\n\r\nc", 8))},
  };
  for (const auto& [name, request] : cases) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(taken(request));
    const std::string direct = server_.answer(request, true);
    EXPECT_EQ(direct, server_.answer(request, false));
    EXPECT_EQ(direct.rfind("HTTP/1.1 ", 0), 0U) << direct;
  }
}

TEST_F(DirectPost, LeavesEverythingElseToHttplib) {
  const std::string review = R"({"kind":"AdmissionReview"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET", "GET /validate HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"HTTP/1.0", "POST /validate HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"},
      {"no body", "POST /validate HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
      {"chunked",
       "POST /validate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"percent in the path", post("/v%61lidate", "", review)},
      {"gzip body", post("/validate", "Content-Encoding: gzip\r\n", review)},
      {"multipart", post("/validate", "Content-Type: multipart/form-data; boundary=x\r\n", review)},
      {"Range", post("/validate", "Range: bytes=0-1\r\n", review)},
      {"two Connection fields",
       post("/validate", "Connection: a\r\nConnection: close\r\n", review)},
      {"percent in a field read", post("/validate", "Connection: %63lose\r\n", review)},
      {"identity refused", post("/validate", "Accept-Encoding: gzip, identity;q=0\r\n", review)},
      {"any refused", post("/validate", "Accept-Encoding: *;q=0\r\n", review)},
  };
  for (const auto& [name, request] : cases) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(taken(request));
    // Declined: the listener's answer is httplib's.
    EXPECT_EQ(server_.answer(request, true), server_.answer(request, false));
  }
  // Read, but not a route of the lane's: httplib's 404.
  const std::string unknown = post("/validate/", "", review);
  EXPECT_TRUE(taken(unknown));
  EXPECT_EQ(server_.answer(unknown, true).rfind("HTTP/1.1 404 Not Found\r\n", 0), 0U);
  EXPECT_EQ(server_.answer(unknown, true), server_.answer(unknown, false));
  // The path as httplib routes it.
  EXPECT_NE(server_.answer(post("/v%61lidate", "", review), true).find("\"echo\""),
            std::string::npos);
}

// Go's HTTP client (the API server's) asks for gzip on every request; httplib would compress
// each admission answer. The lane answers in identity, which the client takes as well.
TEST_F(DirectPost, AnswersUncompressedWhenGzipIsOffered) {
  const std::string review = R"({"kind":"AdmissionReview"})";
  const std::string offered = post("/validate", "Accept-Encoding: gzip\r\n", review);
  ASSERT_TRUE(taken(offered));
  EXPECT_NE(server_.answer(offered, false).find("Content-Encoding: gzip"), std::string::npos);
  EXPECT_EQ(server_.answer(offered, true), server_.answer(post("/validate", "", review), false));
}

TEST(DirectPostRead, FindsPathBodyAndClose) {
  const std::string request =
      "POST /mutate?timeout=5s HTTP/1.1\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbody";
  http::Limits limits;
  http::RequestHead head;
  http::Refusal refusal;
  ASSERT_EQ(http::parseHead(request, limits, head, refusal), http::Parse::Complete);
  http::DirectPost post;
  ASSERT_TRUE(http::readDirectPost(request, head, post));
  EXPECT_EQ(post.path, "/mutate");
  EXPECT_EQ(post.body, "body");
  EXPECT_TRUE(post.close);
  // Bytes of a second, pipelined request are not this one's body.
  EXPECT_FALSE(http::readDirectPost(request + "POST", head, post));
}

}  // namespace
}  // namespace aw::webhook

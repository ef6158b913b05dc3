// log::Line (the admission line's formatter) against event()'s nlohmann::json formatting: the
// same bytes for the same fields, in both formats, and the same prefix when written.
#include "webhook/telemetry/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace aw::webhook::log {
namespace {

const std::vector<std::string> kStrings = {
    "",          "plain",        "with space",  "quote\"d",  "a=b",          "tab\there",
    "new\nline", "ctl\x01x",     "back\\slash", "del\x7f",   "caf\xc3\xa9",  "bad\xff utf8",
    "cut\xc3",   "\xe2\x82\xac", "ünï cödé",    "x\r\f\b y", "{\"json\":1}",
};
const std::vector<double> kNumbers = {0.0,
                                      -0.0,
                                      1.0,
                                      0.5,
                                      0.0123,
                                      1e-7,
                                      12.345678901234,
                                      123456789012345678.0,
                                      1e300,
                                      3.0,
                                      0.001,
                                      42.1,
                                      std::nan(""),
                                      std::numeric_limits<double>::infinity()};

struct UseFormat {
  explicit UseFormat(const char* format) {
    std::string error;
    EXPECT_TRUE(setup(format, "info", error)) << error;
  }
  ~UseFormat() {
    std::string error;
    setup("text", "info", error);
  }
};

void expectSameBody(Format format) {
  for (const std::string& s : kStrings) {
    Line line(spdlog::level::info, s);
    line.str("s", s);
    EXPECT_EQ(line.body(), formatEvent(format, s, {{"s", s}})) << s;
  }
  for (double d : kNumbers) {
    Line line(spdlog::level::info, "n");
    line.number("n", d);
    EXPECT_EQ(line.body(), formatEvent(format, "n", {{"n", d}})) << d;
  }
  for (const std::vector<std::string_view>& list :
       {std::vector<std::string_view>{}, {"one"}, {"a b", "q\"", "bad\xff"}}) {
    Line line(spdlog::level::info, "l");
    line.flag("f", false).strings("rules", list).flag("t", true);
    nlohmann::json array = nlohmann::json::array();
    for (std::string_view v : list) array.push_back(std::string(v));
    EXPECT_EQ(line.body(), formatEvent(format, "l", {{"rules", array}, {"t", true}, {"f", false}}));
  }
}

TEST(LogLine, TextBodyIsEventsBody) {
  UseFormat s("text");
  expectSameBody(Format::Text);
}

TEST(LogLine, JsonBodyIsEventsBody) {
  UseFormat s("json");
  expectSameBody(Format::Json);
}

// What the admission handler logs, built as it was (a nlohmann::json object: key order) and as
// it is (a Line, fields given in key order).
TEST(LogLine, AdmissionFieldsInKeyOrder) {
  for (const char* f : {"text", "json"}) {
    UseFormat s(f);
    const Format format = std::string(f) == "json" ? Format::Json : Format::Text;
    const std::vector<std::string_view> rules = {"service-port-names", "subnet-overlap"};
    nlohmann::json fields = {
        {"endpoint", "validate"},
        {"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
        {"kind", "Service"},
        {"namespace", "team a"},
        {"name", "web"},
        {"operation", "CREATE"},
        {"user", "system:admin"},
        {"decision", "deny"},
        {"rules", {"service-port-names", "subnet-overlap"}},
        {"dry_run", false},
        {"duration_ms", 0.123456},
    };
    fields["exempt"] = "namespace kube-system";
    fields["patched"] = true;
    Line line(spdlog::level::info, "admission");
    line.str("decision", "deny")
        .flag("dry_run", false)
        .number("duration_ms", 0.123456)
        .str("endpoint", "validate")
        .str("exempt", "namespace kube-system")
        .str("kind", "Service")
        .str("name", "web")
        .str("namespace", "team a")
        .str("operation", "CREATE")
        .flag("patched", true)
        .strings("rules", rules)
        .str("uid", "705ab4f5-6393-11e8-b7cc-42010a800002")
        .str("user", "system:admin");
    EXPECT_EQ(line.body(), formatEvent(format, "admission", fields)) << f;
  }
}

// Standard error into a file while `write` runs; returns what was written.
template <typename F>
std::string captureStderr(F write) {
  char path[] = "/tmp/aw_log_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  const int saved = dup(STDERR_FILENO);
  std::fflush(stderr);
  dup2(fd, STDERR_FILENO);
  write();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::remove(path);
  return s.str();
}

// The timestamp (24 characters from `at`) and everything but two lines blanked out.
std::vector<std::string> linesWithoutTimestamps(const std::string& text, std::size_t at) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    EXPECT_GE(l.size(), at + 24) << l;
    if (l.size() >= at + 24) {
      EXPECT_EQ(l[at + 4], '-') << l;
      EXPECT_EQ(l[at + 10], 'T') << l;
      EXPECT_EQ(l[at + 19], '.') << l;
      EXPECT_EQ(l[at + 23], 'Z') << l;
      l.replace(at, 24, "TIMESTAMP");
    }
    out.push_back(l);
  }
  return out;
}

TEST(LogLine, WrittenLineIsEventsLine) {
  for (const char* f : {"text", "json"}) {
    UseFormat s(f);
    for (const auto level : {spdlog::level::info, spdlog::level::warn, spdlog::level::err}) {
      const std::string text = captureStderr([&] {
        event(level, "admission", {{"a", "x y"}, {"b", 1.5}});
        Line(level, "admission").str("a", "x y").number("b", 1.5).write();
      });
      const auto lines = linesWithoutTimestamps(text, std::string(f) == "json" ? 7 : 0);
      ASSERT_EQ(lines.size(), 2u) << text;
      EXPECT_EQ(lines[0], lines[1]) << text;
    }
  }
}

TEST(LogLine, NothingWrittenBelowTheLevel) {
  std::string error;
  ASSERT_TRUE(setup("text", "warn", error));
  const std::string text =
      captureStderr([] { Line(spdlog::level::info, "admission").str("a", "b").write(); });
  EXPECT_EQ(text, "");
  ASSERT_TRUE(setup("text", "info", error));
}

}  // namespace
}  // namespace aw::webhook::log

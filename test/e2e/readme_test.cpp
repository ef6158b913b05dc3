// The README's examples are executed, so they never rot.
#include <gtest/gtest.h>

#include <sstream>

#include "rules/registry.h"
#include "test/support/process.h"
#include "webhook/state/config.h"

namespace aw::test {
namespace {

using nlohmann::json;

std::string readme() {
  return readFile(std::string(AW_SOURCE_DIR) + "/README.md");
}

// The first fenced block after `marker`.
std::string blockAfter(const std::string& text, const std::string& marker) {
  auto at = text.find(marker);
  if (at == std::string::npos) return {};
  auto open = text.find("```", at);
  auto start = text.find('\n', open) + 1;
  auto close = text.find("```", start);
  return text.substr(start, close - start);
}

TEST(Readme, TheCurlExampleGetsTheAnswerShown) {
  const std::string src = AW_SOURCE_DIR;
  ServerProcess s({"--config", src + "/examples/config.yaml"});
  TlsClient c(s.port(), {devCerts().ca});
  ASSERT_TRUE(c.connected()) << c.error();
  auto r = c.request("POST", "/validate", readFile(src + "/examples/service-review.json"));
  ASSERT_TRUE(r);
  const std::string shown = blockAfter(readme(), "<!-- readme-example: service-review -->");
  ASSERT_FALSE(shown.empty());
  EXPECT_EQ(json::parse(r->body), json::parse(shown));
  EXPECT_EQ(r->body + "\n", shown);  // byte for byte, as curl prints it
}

TEST(Readme, TheConfigurationReferenceIsAValidConfiguration) {
  const std::string yaml = blockAfter(readme(), "## Configuration");
  ASSERT_FALSE(yaml.empty());
  // The example names a ClusterConfiguration file that exists only in a cluster; drop that line.
  std::string withoutFile;
  std::istringstream in(yaml);
  for (std::string line; std::getline(in, line);) {
    if (line.find("clusterConfigurationFile") == std::string::npos) withoutFile += line + "\n";
  }
  webhook::ConfigResult r = webhook::parseConfig(withoutFile, "README.md", ".");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->local.domain, "cluster-a.local");
  EXPECT_EQ(r.config->members.size(), 1u);
}

TEST(Readme, TheCheckExamplePrintsWhatIsShown) {
  const std::string text = readme();
  const std::string marker = "A run over one of the test fixtures";
  const std::string command = blockAfter(text, marker);
  // The next fenced block after the command's own closing fence.
  const std::string rest = text.substr(text.find(command) + command.size() + 4);
  const std::string shown = blockAfter(rest, "```");
  ASSERT_EQ(command,
            "alliance-webhook check --config test/webhook/cli/check/config.yaml "
            "test/webhook/cli/check/warnings/manifests\n");
  RunResult r = run({AW_BINARY, "check", "--config", "test/webhook/cli/check/config.yaml",
                     "test/webhook/cli/check/warnings/manifests"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, shown);
}

TEST(Readme, TheExampleConfigurationLoads) {
  webhook::ConfigResult r =
      webhook::loadConfig(std::string(AW_SOURCE_DIR) + "/examples/config.yaml");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.config->notes.empty());
}

// The README's rules table is the registry's: every rule once, in order, with its kinds and its
// default action.
TEST(Readme, TheRulesTableIsTheRegistry) {
  const std::string text = readme();
  const auto section = text.find("\n## Rules\n");
  ASSERT_NE(section, std::string::npos);
  std::vector<std::string> rows;
  std::istringstream in(text.substr(section));
  bool inTable = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| rule id |", 0) == 0) {
      inTable = true;
    } else if (inTable && line.rfind("| `", 0) == 0) {
      rows.push_back(line);
    } else if (inTable && !line.starts_with("|")) {
      break;
    }
  }
  const auto rules = rules::registry();
  ASSERT_EQ(rows.size(), rules.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const rules::RuleInfo& rule = rules[i];
    std::string kinds;
    for (rules::KindId k : rule.kinds) {
      kinds += (kinds.empty() ? "" : ", ") + std::string(rules::kindInfo(k).kind);
    }
    const std::string prefix = "| `" + std::string(rule.id) + "` | " + kinds + " | " +
                               std::string(rule.options.front().defaultValue) + " | ";
    EXPECT_EQ(rows[i].substr(0, prefix.size()), prefix) << rows[i];
  }
}

// The README's command line is what `alliance-webhook --help` prints: both are written from each
// command's one flag table.
TEST(Readme, TheCommandLineIsTheHelp) {
  const std::string block = blockAfter(readme(), "\n## Command line\n");
  ASSERT_FALSE(block.empty());
  const RunResult help = run({AW_BINARY, "--help"});
  ASSERT_EQ(help.status, 0);
  const auto from = help.out.find("Usage:\n");
  const auto to = help.out.find("\n\n", from);
  ASSERT_NE(from, std::string::npos);
  // The help's usage lines, without their two-space indent.
  std::string usage;
  std::istringstream lines(help.out.substr(from + 7, to - from - 7));
  for (std::string line; std::getline(lines, line);) usage += line.substr(2) + "\n";
  EXPECT_EQ(block, usage);
}

}  // namespace
}  // namespace aw::test

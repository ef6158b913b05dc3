// The folders' direction: every #include in common/, rules/ and webhook/ names a header of its own
// folder or of a folder its CMake library declares it uses (aw_library(... USES ...) in the top
// CMakeLists.txt, passed here as AW_LAYOUT). A wrong-way include fails here, naming the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

// "dir:used,used|dir:...|" -> dir -> the folders it may include from (itself included).
std::map<std::string, std::set<std::string>> declaredLayout() {
  std::map<std::string, std::set<std::string>> layout;
  std::stringstream entries(AW_LAYOUT);
  std::string entry;
  while (std::getline(entries, entry, '|')) {
    if (entry.empty()) continue;
    const auto colon = entry.find(':');
    const std::string dir = entry.substr(0, colon);
    std::set<std::string>& uses = layout[dir];
    uses.insert(dir);
    std::stringstream used(entry.substr(colon + 1));
    std::string u;
    while (std::getline(used, u, ',')) {
      if (!u.empty()) uses.insert(u);
    }
  }
  return layout;
}

std::vector<std::string> wrongWayIncludes() {
  const auto layout = declaredLayout();
  const fs::path root = AW_SOURCE_DIR;
  std::vector<std::string> wrong;
  for (const char* top : {"common", "rules", "webhook"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
      const std::string file = fs::relative(entry.path(), root).generic_string();
      const std::string dir = fs::path(file).parent_path().generic_string();
      const auto allowed = layout.find(dir);
      if (allowed == layout.end()) {
        wrong.push_back(file + ": folder " + dir +
                        " is no library (add aw_library in CMakeLists.txt)");
        continue;
      }
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        if (line.rfind("#include \"", 0) != 0) continue;
        const std::string header = line.substr(10, line.find('"', 10) - 10);
        const std::string from = fs::path(header).parent_path().generic_string();
        if (allowed->second.count(from) == 0) {
          wrong.push_back(file + ":" + std::to_string(n) + ": " + dir + " may not include " +
                          header);
        }
      }
    }
  }
  return wrong;
}

TEST(Layout, EveryIncludePointsTheDeclaredWay) {
  const std::vector<std::string> wrong = wrongWayIncludes();
  std::string report;
  for (const std::string& w : wrong) report += w + "\n";
  EXPECT_TRUE(wrong.empty()) << report;
}

TEST(Layout, TheDeclarationKnowsEveryFolder) {
  const auto layout = declaredLayout();
  for (const char* dir : {"common", "rules/model", "rules/engine", "rules", "webhook/base",
                          "webhook/telemetry", "webhook/kube", "webhook/http", "webhook/state",
                          "webhook/admission", "webhook/audit", "webhook/cli"}) {
    EXPECT_EQ(layout.count(dir), 1U) << dir;
  }
  // The rules never use the shell; the HTTP server and the Kubernetes client never meet.
  for (const auto& [dir, uses] : layout) {
    if (dir.rfind("rules", 0) == 0 || dir == "common") {
      for (const std::string& u : uses)
        EXPECT_NE(u.rfind("webhook", 0), 0U) << dir << " uses " << u;
    }
  }
  EXPECT_EQ(layout.at("webhook/http").count("webhook/kube"), 0U);
  EXPECT_EQ(layout.at("webhook/kube").count("webhook/http"), 0U);
  EXPECT_EQ(layout.at("webhook/kube").count("rules"), 0U);
}

}  // namespace

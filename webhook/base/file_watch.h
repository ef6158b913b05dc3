// Notices when any of a set of files changes on disk. Follows symlinks, so the atomic symlink
// swap of a mounted ConfigMap or Secret counts as a change.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace aw::webhook {

class FileWatch {
 public:
  explicit FileWatch(std::vector<std::filesystem::path> files = {}) : files_(std::move(files)) {
    last_ = signature();
  }
  // True when the files differ from the last call to changed() (or the construction).
  bool changed();
  void reset(std::vector<std::filesystem::path> files);

 private:
  std::string signature() const;
  std::vector<std::filesystem::path> files_;
  std::string last_;
};

}  // namespace aw::webhook

#include "webhook/base/file_watch.h"

#include <sys/stat.h>

namespace aw::webhook {

std::string FileWatch::signature() const {
  std::string sig;
  for (const auto& f : files_) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      sig += "missing;";
      continue;
    }
    sig += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  return sig;
}

bool FileWatch::changed() {
  std::string now = signature();
  if (now == last_) return false;
  last_ = std::move(now);
  return true;
}

void FileWatch::reset(std::vector<std::filesystem::path> files) {
  files_ = std::move(files);
  last_ = signature();
}

}  // namespace aw::webhook

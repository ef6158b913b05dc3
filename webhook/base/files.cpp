#include "webhook/base/files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace aw::webhook {

std::optional<std::string> readFile(const std::filesystem::path& path, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = path.string() + ": is a directory, expected a file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    error = path.string() + ": " +
            (e == ENOENT   ? std::string("no such file")
             : e == EACCES ? std::string("permission denied")
                           : std::strerror(e));
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    error = path.string() + ": read error";
    return std::nullopt;
  }
  return s.str();
}

}  // namespace aw::webhook

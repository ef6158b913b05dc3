// Small file helpers with errors a user can act on.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace aw::webhook {

// Reads a whole file. On failure returns nullopt and sets `error` to
// "PATH: no such file" / "PATH: permission denied" / "PATH: is a directory".
std::optional<std::string> readFile(const std::filesystem::path& path, std::string& error);

}  // namespace aw::webhook

// The command line (SPEC §2): serve, check, version, --help.
#pragma once

#include <string>
#include <vector>

namespace aw::webhook {

// Runs the command line; returns the process exit status.
int runCli(const std::vector<std::string>& args);

}  // namespace aw::webhook

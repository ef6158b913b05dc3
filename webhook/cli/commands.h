// The subcommands, each taking its arguments after the subcommand name.
#pragma once

#include <string>
#include <vector>

#include "webhook/cli/flags.h"

namespace aw::webhook {

int runServe(const std::vector<std::string>& args);
int runCheck(const std::vector<std::string>& args);
int runAudit(const std::vector<std::string>& args);

// Each command's flags, declared once: parsed, and written into the usage lines and help.
const std::vector<FlagSpec>& serveFlags();
const std::vector<FlagSpec>& checkFlags();
const std::vector<FlagSpec>& auditFlags();

// Exit statuses shared by the commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitDenied = 1;  // check: an object would be denied; serve: runtime failure
inline constexpr int kExitUsage = 2;   // usage, configuration or parse error

}  // namespace aw::webhook

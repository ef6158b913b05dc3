#include "webhook/cli/cli.h"

#include <iostream>

#include "rules/registry.h"
#include "webhook/cli/commands.h"

namespace aw::webhook {

namespace {

void printHelp() {
  std::cout << "alliance-webhook: admission webhook for Istio federations and multiclusters of "
               "Deckhouse clusters\n\nUsage:\n";
  for (const std::string& usage :
       {usageLine("serve", serveFlags()), usageLine("check", checkFlags(), "PATH..."),
        usageLine("audit", auditFlags()), std::string("alliance-webhook version"),
        std::string("alliance-webhook --help | <command> --help")}) {
    std::string indented = "  " + usage;
    for (std::size_t at = indented.find('\n'); at != std::string::npos;
         at = indented.find('\n', at + 1)) {
      indented.insert(at + 1, "  ");
    }
    std::cout << indented << "\n";
  }
  std::cout << "\nRules:\n";
  for (const rules::RuleInfo& r : rules::registry()) {
    std::cout << "  " << r.id << " (default " << r.options.front().defaultValue
              << "): " << r.summary << "\n";
  }
}

}  // namespace

int runCli(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printHelp();
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "serve") return runServe(rest);
  if (command == "check") return runCheck(rest);
  if (command == "audit") return runAudit(rest);
  if (command == "version" || command == "--version") {
    std::cout << "alliance-webhook " << AW_VERSION << "\n";
    return kExitOk;
  }
  std::cerr
      << "alliance-webhook: unknown command \"" << command
      << "\"; the commands are serve, check, audit and version (see alliance-webhook --help)\n";
  return kExitUsage;
}

}  // namespace aw::webhook

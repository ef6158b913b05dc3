#include "webhook/cli/cli.h"

#include <iostream>

#include "rules/registry.h"
#include "webhook/cli/commands.h"

namespace aw::webhook {

namespace {

void printHelp() {
  std::cout
      << R"(alliance-webhook: admission webhook for Istio federations and multiclusters of Deckhouse clusters

Usage:
  alliance-webhook serve [--config FILE] [--listen HOST:PORT] [--tls-cert FILE] [--tls-key FILE]
                         [--client-ca FILE] [--metrics-listen HOST:PORT] [--audit-only]
                         [--kubeconfig FILE] [--log-format json|text] [--log-level LEVEL]
  alliance-webhook check [--config FILE] [--audit-only] [--output text|json] PATH...
  alliance-webhook audit [--config FILE] [--kubeconfig FILE] [--audit-only] [--output text|json]
  alliance-webhook version
  alliance-webhook <command> --help

Rules:
)";
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

// `alliance-webhook check`: the same rules and decision as `serve`, over manifests, offline.
#include <algorithm>
#include <iostream>

#include "webhook/audit/scan.h"
#include "webhook/base/manifests.h"
#include "webhook/cli/commands.h"
#include "webhook/cli/flags.h"
#include "webhook/state/config.h"

namespace aw::webhook {

namespace {

const std::vector<FlagSpec> kCheckFlags = {
    {"config", "FILE", "configuration file"},
    {"audit-only", "", "never deny: would-be denials become [audit] warnings"},
    {"output", "text|json", "report format (default text)"},
};

constexpr const char* kCheckAbout = R"(
Runs the webhook's rules over manifests without a cluster. PATH is a file, a directory (every
*.yaml, *.yml and *.json below it) or - for standard input. Every object is checked as a CREATE,
and all IstioFederation and IstioMulticluster objects of one run are members of one alliance.

Exit status: 0 nothing denied, 1 at least one object would be denied, 2 usage, configuration or
parse error (the findings of the documents that parsed are still reported).
)";

}  // namespace

const std::vector<FlagSpec>& checkFlags() {
  return kCheckFlags;
}

int runCheck(const std::vector<std::string>& args) {
  const ParsedFlags flags = parseFlags(args, kCheckFlags);
  if (flags.help) {
    std::cout << "Usage: " << usageLine("check", kCheckFlags, "PATH...") << "\n" << kCheckAbout;
    return kExitOk;
  }
  auto usage = [](const std::string& e) {
    std::cerr << "alliance-webhook check: " << e
              << "\nRun 'alliance-webhook check --help' for usage.\n";
    return kExitUsage;
  };
  if (!flags.error.empty()) return usage(flags.error);
  const std::string output = flags.get("output").value_or("text");
  if (output != "text" && output != "json")
    return usage("--output " + output + ": expected text or json");
  if (flags.positional.empty())
    return usage("no PATH given: name files, directories or - for standard input");

  ConfigResult loaded = loadConfigOrDefaults(flags.get("config"));
  if (!loaded.config) {
    std::cerr << "alliance-webhook check: invalid configuration: " << loaded.error << "\n";
    return kExitUsage;
  }
  Config config = std::move(*loaded.config);
  if (config.cluster.present) {
    std::cerr << "note: the cluster block of the configuration is ignored: check never contacts a "
                 "cluster\n";
  }
  // What serve says at start-up: the checks skipped for lack of local cluster data.
  for (const std::string& note : config.notes) std::cerr << "note: " << note << "\n";
  if (flags.has("audit-only")) config.mode = Mode::Audit;

  ManifestSet set;
  readManifests(flags.positional, set);

  const ScanResult scan = scanObjects(config, set.objects);
  if (output == "json") {
    printJsonReport(scan, set, config.mode, std::cout);
  } else {
    printTextReport(
        scan, set, config.mode,
        {"checked", "in " + std::to_string(set.files) + (set.files == 1 ? " file" : " files")},
        std::cout, std::cerr);
  }
  const bool fatal = std::any_of(set.problems.begin(), set.problems.end(),
                                 [](const ManifestProblem& p) { return p.fatal; });
  if (fatal) return kExitUsage;
  return scan.denied > 0 ? kExitDenied : kExitOk;
}

}  // namespace aw::webhook

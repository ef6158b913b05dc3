// `alliance-webhook check`: the same rules and decision as `serve`, over manifests, offline.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "rules/registry.h"
#include "webhook/commands.h"
#include "webhook/config.h"
#include "webhook/decision.h"
#include "webhook/flags.h"
#include "webhook/manifests.h"

namespace aw::webhook {

namespace {

constexpr const char* kCheckHelp =
    R"(Usage: alliance-webhook check [--config FILE] [--audit-only] [--output text|json] PATH...

Runs the webhook's rules over manifests without a cluster. PATH is a file, a directory (every
*.yaml, *.yml and *.json below it) or - for standard input. Every object is checked as a CREATE,
and all IstioFederation and IstioMulticluster objects of one run are members of one alliance.

Exit status: 0 nothing denied, 1 at least one object would be denied, 2 usage, configuration or
parse error (the findings of the documents that parsed are still reported).
)";

using nlohmann::json;

struct Reported {
  const ManifestObject* source;
  std::string kind, ns, name;
  std::string action;  // what the webhook would do with it: deny | warn | audit
  const rules::Finding* finding;
};

std::string stringAt(const json& obj, std::initializer_list<const char*> path) {
  const json* node = &obj;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) return {};
    node = &(*node)[key];
  }
  return node->is_string() ? node->get<std::string>() : std::string{};
}

}  // namespace

int runCheck(const std::vector<std::string>& args) {
  const ParsedFlags flags = parseFlags(args, {{"config"}, {"audit-only", false}, {"output"}});
  if (flags.help) {
    std::cout << kCheckHelp;
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

  // Every IstioFederation / IstioMulticluster of the run is a member of the alliance.
  std::vector<rules::Member> objects;
  for (const ManifestObject& m : set.objects) {
    const rules::KindInfo* kind = rules::findKind(
        rules::groupOfApiVersion(stringAt(m.object, {"apiVersion"})), stringAt(m.object, {"kind"}));
    if (kind && (kind->id == rules::KindId::IstioFederation ||
                 kind->id == rules::KindId::IstioMulticluster)) {
      rules::Member member = rules::memberFromObject(kind->id, m.object);
      // Messages about another object of the run say where it is written.
      member.origin += " in " + m.file + ":" + std::to_string(m.line);
      objects.push_back(std::move(member));
    }
  }
  const rules::Alliance alliance(config.local, config.members, std::move(objects));
  const rules::Context context{alliance, config.settings};

  std::vector<rules::Outcome> outcomes;
  outcomes.reserve(set.objects.size());
  std::vector<Reported> reported;
  std::size_t denied = 0;
  for (const ManifestObject& m : set.objects) {
    const std::string apiVersion = stringAt(m.object, {"apiVersion"});
    rules::Request request;
    request.kind =
        rules::findKind(rules::groupOfApiVersion(apiVersion), stringAt(m.object, {"kind"}));
    request.version = apiVersion.substr(apiVersion.find('/') + 1);
    request.operation = rules::Operation::Create;
    request.name = stringAt(m.object, {"metadata", "name"});
    request.namespace_ = stringAt(m.object, {"metadata", "namespace"});
    request.object = &m.object;
    // An exempt namespace is allowed without looking, as serve does (check has no user).
    if (request.kind != nullptr && !config.exemptions.match(request.namespace_, "", {}).empty()) {
      continue;
    }
    outcomes.push_back(rules::validate(request, context));
    const rules::Outcome& outcome = outcomes.back();
    const Decision decision = decide(outcome, config.mode);
    if (!decision.response.allowed) ++denied;
    for (const Decision::Effect& e : decision.findings) {
      reported.push_back({&m, stringAt(m.object, {"kind"}), request.namespace_, request.name,
                          std::string(rules::actionName(e.action)), e.finding});
    }
  }
  std::map<std::string, std::size_t> byAction{{"deny", 0}, {"warn", 0}, {"audit", 0}};
  for (const Reported& r : reported) ++byAction[r.action];
  std::size_t errors = 0, notes = 0;
  for (const ManifestProblem& p : set.problems) ++(p.fatal ? errors : notes);
  const bool fatal = errors > 0;

  if (output == "json") {
    auto orNull = [](int v, int none) { return v == none ? json(nullptr) : json(v); };
    json doc = {{"findings", json::array()}, {"errors", json::array()}, {"notes", json::array()}};
    for (const Reported& r : reported) {
      doc["findings"].push_back({{"file", r.source->file},
                                 {"line", r.source->line},
                                 {"document", r.source->document},
                                 {"kind", r.kind},
                                 {"namespace", r.ns},
                                 {"name", r.name},
                                 {"rule", r.finding->rule},
                                 {"action", r.action},
                                 {"path", r.finding->path},
                                 {"message", r.finding->message}});
    }
    for (const ManifestProblem& p : set.problems) {
      json e = {{"file", p.file},
                {"line", orNull(p.line, 0)},
                {"column", orNull(p.column, 0)},
                {"document", orNull(p.document, -1)},
                {"message", p.message}};
      doc[p.fatal ? "errors" : "notes"].push_back(e);
    }
    doc["summary"] = {{"files", set.files},
                      {"objects", set.objects.size()},
                      {"denied", denied},
                      {"findings", byAction},
                      {"errors", errors},
                      {"notes", notes},
                      {"mode", modeName(config.mode)}};
    std::cout << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    const bool colour = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
    auto paint = [&](const std::string& action) {
      if (!colour) return action;
      const char* code = action == "deny" ? "31" : action == "warn" ? "33" : "36";
      return std::string("\033[") + code + "m" + action + "\033[0m";
    };
    for (const ManifestProblem& p : set.problems) {
      std::cerr << p.file;
      if (p.line > 0) std::cerr << ":" << p.line;
      if (p.column > 0) std::cerr << ":" << p.column;
      std::cerr << ": " << (p.fatal ? "error: " : "note: ") << p.message << "\n";
    }
    for (const Reported& r : reported) {
      std::cout << r.source->file << ":" << r.source->line << ": " << paint(r.action) << " "
                << r.finding->text() << "\n";
    }
    auto count = [](std::size_t n, const char* one, const char* many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::cout << "checked " << count(set.objects.size(), "object", "objects") << " in "
              << count(set.files, "file", "files") << " (mode " << modeName(config.mode)
              << "): " << denied << " denied, " << count(byAction["warn"], "warning", "warnings")
              << ", " << count(byAction["audit"], "audit finding", "audit findings");
    if (errors > 0) std::cout << ", " << count(errors, "error", "errors");
    if (notes > 0) std::cout << ", " << count(notes, "note", "notes");
    std::cout << "\n";
  }
  if (fatal) return kExitUsage;
  return denied > 0 ? kExitDenied : kExitOk;
}

}  // namespace aw::webhook

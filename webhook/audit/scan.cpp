#include "webhook/audit/scan.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>

#include "common/json_path.h"
#include "common/json_view.h"
#include "rules/registry.h"
#include "webhook/admission/decision.h"

namespace aw::webhook {

namespace {

using nlohmann::json;

using aw::json::stringOr;

const rules::KindInfo* kindOf(const json& object) {
  return rules::findKind(rules::groupOfApiVersion(stringOr(object, {"apiVersion"})),
                         stringOr(object, {"kind"}));
}

// The object as the rules read it; none when it nests deeper than a view reads (an object from
// the API can; a manifest cannot).
std::optional<aw::json::Document> viewable(const json& object) {
  try {
    return aw::json::Document::of(object);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// Every IstioFederation / IstioMulticluster of the set, as members of one alliance.
rules::Alliance allianceOf(const Config& config,
                           const std::vector<const ManifestObject*>& objects) {
  std::vector<rules::Member> members;
  for (const ManifestObject* object : objects) {
    const ManifestObject& m = *object;
    const rules::KindInfo* kind = kindOf(m.object);
    if (kind && (kind->id == rules::KindId::IstioFederation ||
                 kind->id == rules::KindId::IstioMulticluster)) {
      const std::optional<aw::json::Document> document = viewable(m.object);
      rules::Member member =
          rules::memberFromObject(kind->id, document ? document->root() : aw::json::View());
      // Messages about another object of a run over files say where it is written.
      if (!m.file.empty()) member.origin += " in " + m.file + ":" + std::to_string(m.line);
      members.push_back(std::move(member));
    }
  }
  return rules::Alliance(config.local, config.members, std::move(members));
}

std::size_t countOf(const ScanResult& scan, const std::string& action) {
  std::size_t n = 0;
  for (const Reported& r : scan.reported) n += r.action == action ? 1 : 0;
  return n;
}

std::string where(const Reported& r) {
  if (!r.source->file.empty()) return r.source->file + ":" + std::to_string(r.source->line);
  return r.kind + " " + (r.ns.empty() ? r.name : r.ns + "/" + r.name);
}

std::string count(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

ScanResult scanObjects(const Config& config, const std::vector<ManifestObject>& objects) {
  std::vector<const ManifestObject*> pointers;
  pointers.reserve(objects.size());
  for (const ManifestObject& m : objects) pointers.push_back(&m);
  return scanObjects(config, pointers, nullptr);
}

ScanResult scanObjects(const Config& config, const std::vector<const ManifestObject*>& objects,
                       const std::function<bool()>& stop) {
  const rules::Alliance alliance = allianceOf(config, objects);
  const rules::Plan plan(config.settings);
  const rules::Context context{alliance, config.settings, &plan};
  ScanResult out;
  out.outcomes.reserve(objects.size());
  for (const ManifestObject* object : objects) {
    if (stop && stop()) {
      out.interrupted = true;
      break;
    }
    const ManifestObject& m = *object;
    const std::string apiVersion = stringOr(m.object, {"apiVersion"});
    rules::Request request;
    request.kind = kindOf(m.object);
    const std::string name = stringOr(m.object, {"metadata", "name"});
    const std::string ns = stringOr(m.object, {"metadata", "namespace"});
    request.version = std::string_view(apiVersion).substr(apiVersion.find('/') + 1);
    request.operation = rules::Operation::Create;
    request.name = name;
    request.namespace_ = ns;
    // An exempt namespace is allowed without looking, as serve does (no user here).
    if (request.kind != nullptr && !config.exemptions.match(request.namespace_, "", {}).empty()) {
      continue;
    }
    const std::optional<aw::json::Document> document =
        request.kind != nullptr ? viewable(m.object) : std::nullopt;
    if (document) request.object = document->root();
    if (request.kind != nullptr && !document) {
      rules::Outcome& deep = out.outcomes.emplace_back();
      deep.shapeErrors.push_back({std::string(rules::kObjectShapeRule), "object",
                                  "nests deeper than " +
                                      std::to_string(aw::json::Document::kMaxDepth) +
                                      " levels, more than the rules read",
                                  rules::Action::Deny});
    } else {
      out.outcomes.push_back(rules::validate(request, context));
    }
    const Decision decision = decide(out.outcomes.back(), config.mode);
    if (!decision.response.allowed) ++out.denied;
    for (const Decision::Effect& e : decision.findings) {
      out.reported.push_back({&m, stringOr(m.object, {"kind"}), ns, name,
                              std::string(rules::actionName(e.action)), e.finding});
    }
  }
  return out;
}

void printTextReport(const ScanResult& scan, const ManifestSet& set, Mode mode,
                     const ReportHeading& heading, std::ostream& out, std::ostream& err) {
  const bool colour =
      &out == &std::cout && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  auto paint = [&](const std::string& action) {
    if (!colour) return action;
    const char* code = action == "deny" ? "31" : action == "warn" ? "33" : "36";
    return std::string("\033[") + code + "m" + action + "\033[0m";
  };
  std::size_t errors = 0, notes = 0;
  for (const ManifestProblem& p : set.problems) {
    ++(p.fatal ? errors : notes);
    err << p.file;
    if (p.line > 0) err << ":" << p.line;
    if (p.column > 0) err << ":" << p.column;
    err << ": " << (p.fatal ? "error: " : "note: ") << p.message << "\n";
  }
  for (const Reported& r : scan.reported) {
    out << where(r) << ": " << paint(r.action) << " " << r.finding->text() << "\n";
  }
  out << heading.verb << " " << count(set.objects.size(), "object", "objects") << " "
      << heading.source << " (mode " << modeName(mode) << "): " << scan.denied << " denied, "
      << count(countOf(scan, "warn"), "warning", "warnings") << ", "
      << count(countOf(scan, "audit"), "audit finding", "audit findings");
  if (errors > 0) out << ", " << count(errors, "error", "errors");
  if (notes > 0) out << ", " << count(notes, "note", "notes");
  out << "\n";
}

json findingJson(const Reported& r) {
  const bool fromFile = !r.source->file.empty();
  return {{"file", fromFile ? json(r.source->file) : json(nullptr)},
          {"line", fromFile ? json(r.source->line) : json(nullptr)},
          {"document", fromFile ? json(r.source->document) : json(nullptr)},
          {"kind", r.kind},
          {"namespace", r.ns},
          {"name", r.name},
          {"rule", r.finding->rule},
          {"action", r.action},
          {"path", r.finding->path},
          {"message", r.finding->message}};
}

void printJsonReport(const ScanResult& scan, const ManifestSet& set, Mode mode, std::ostream& out) {
  auto orNull = [](int v, int none) { return v == none ? json(nullptr) : json(v); };
  json doc = {{"findings", json::array()}, {"errors", json::array()}, {"notes", json::array()}};
  for (const Reported& r : scan.reported) doc["findings"].push_back(findingJson(r));
  std::size_t errors = 0, notes = 0;
  for (const ManifestProblem& p : set.problems) {
    ++(p.fatal ? errors : notes);
    json e = {{"file", p.file},
              {"line", orNull(p.line, 0)},
              {"column", orNull(p.column, 0)},
              {"document", orNull(p.document, -1)},
              {"message", p.message}};
    doc[p.fatal ? "errors" : "notes"].push_back(e);
  }
  std::map<std::string, std::size_t> byAction{{"deny", countOf(scan, "deny")},
                                              {"warn", countOf(scan, "warn")},
                                              {"audit", countOf(scan, "audit")}};
  doc["summary"] = {{"files", set.files},    {"objects", set.objects.size()},
                    {"denied", scan.denied}, {"findings", byAction},
                    {"errors", errors},      {"notes", notes},
                    {"mode", modeName(mode)}};
  out << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace aw::webhook

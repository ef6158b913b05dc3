// Judging a set of objects together, each as if it were created now against all the others: what
// `check` does over manifests and `audit` over what a cluster holds. Every IstioFederation and
// IstioMulticluster of the set is a member of one alliance with the configuration's members.
#pragma once

#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rules/engine/finding.h"
#include "webhook/base/manifests.h"
#include "webhook/state/config.h"

namespace aw::webhook {

struct Reported {
  const ManifestObject* source;
  std::string kind, ns, name;
  std::string action;  // what the webhook would do with it: deny | warn | audit
  const rules::Finding* finding;
};

struct ScanResult {
  std::vector<rules::Outcome> outcomes;  // the findings point into these
  std::vector<Reported> reported;
  std::size_t denied = 0;    // objects that would be denied
  bool interrupted = false;  // `stop` said so: the result is incomplete
};

// `objects` must outlive the result. Objects in an exempt namespace are allowed without looking.
ScanResult scanObjects(const Config& config, const std::vector<ManifestObject>& objects);
// The same over objects held elsewhere (the background audit's store). `stop`, when given, is
// asked before each object; true ends the scan there, with `interrupted` set.
ScanResult scanObjects(const Config& config, const std::vector<const ManifestObject*>& objects,
                       const std::function<bool()>& stop);

// One finding as `check --output json` and GET /audit write it.
nlohmann::json findingJson(const Reported& r);

// How a report is printed: where the objects came from, and what the run is called.
struct ReportHeading {
  std::string verb;    // "checked", "audited"
  std::string source;  // "in 3 files", "in the cluster"
};

// The text report (findings on `out`, problems on `err`) or the JSON document (on `out`).
// An object without a file is named by kind, namespace and name instead of FILE:LINE.
void printTextReport(const ScanResult& scan, const ManifestSet& set, Mode mode,
                     const ReportHeading& heading, std::ostream& out, std::ostream& err);
void printJsonReport(const ScanResult& scan, const ManifestSet& set, Mode mode, std::ostream& out);

}  // namespace aw::webhook

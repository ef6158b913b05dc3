// The rule table: every rule's metadata and its pure function. The server, the `check` command,
// the docs and the webhook manifests all read this table.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "rules/engine/finding.h"
#include "rules/engine/request.h"
#include "rules/engine/rule.h"
#include "rules/model/alliance.h"
#include "rules/plan.h"
#include "rules/settings.h"

namespace aw::rules {

// What the engine runs the rules against: the alliance, and every rule's options. `plan`, when
// given, is Plan(settings) made beforehand (once per configuration); without it each request
// works out its rules from the settings.
struct Context {
  const Alliance& alliance;
  const Settings& settings;
  const Plan* plan = nullptr;
};

std::span<const RuleInfo> registry();
// What the engine itself reads of every object before any rule: whether it is being deleted.
std::span<const FieldShape> lifecycleReads();
const RuleInfo* findRule(std::string_view id);

// Runs every enabled validating rule for the request's kind. The object is shape-checked first;
// on a shape error no rule runs and Outcome::shapeErrors says why. DELETE and CONNECT, and kinds
// not in the table, yield an empty outcome.
Outcome validate(const Request& request, const Context& context);
// Same for the mutating rules; Outcome::patch holds the JSONPatch operations.
// Both allow an UPDATE of an object being deleted (metadata.deletionTimestamp set) with no
// findings and no patch: controllers remove finalizers with such UPDATEs.
Outcome mutate(const Request& request, const Context& context);

// On UPDATE, marks each finding of `outcome` that request.oldObject has too, judged against the
// same context, as Finding::existing. Findings match by rule, explanation and field path with
// list indexes ignored (a reordered list introduces nothing), each old finding matching one new
// one. A missing old object, or one that is not an object or has the wrong shape, marks nothing:
// the UPDATE is judged like a CREATE.
void markExisting(Outcome& outcome, const Request& request, const Context& context);

}  // namespace aw::rules

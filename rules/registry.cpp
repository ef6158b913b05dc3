#include "rules/registry.h"

#include <algorithm>
#include <map>

#include "common/json_view.h"
#include "rules/all_rules.h"

namespace aw::rules {

std::span<const RuleInfo> registry() {
  static const std::vector<RuleInfo> kRules = {
      servicePortNamesRule(),      servicePortProtocolRule(),       publicServiceLabelRule(),
      federationTrustDomainRule(), multiclusterClusterDomainRule(), subnetOverlapRule(),
      serviceEntryPortsRule(),     serviceEntryDefaultsRule(),
  };
  return kRules;
}

const RuleInfo* findRule(std::string_view id) {
  for (const RuleInfo& r : registry()) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

namespace {

// What the engine itself reads of every object, before any rule: whether it is being deleted.
const std::vector<FieldShape> kLifecycleReads = {
    {"metadata", kObject},
    {"metadata.deletionTimestamp", kString},
};

}  // namespace

std::span<const FieldShape> lifecycleReads() {
  return kLifecycleReads;
}

namespace {

bool beingDeleted(json::View object) {
  const auto at = json::stringAt(object, {"metadata", "deletionTimestamp"});
  return at && !at->empty();
}

Outcome run(const Request& request, const Context& context, bool mutating) {
  Outcome out;
  if (request.kind == nullptr) return out;
  if (request.operation != Operation::Create && request.operation != Operation::Update) return out;

  KindPlan made;
  const KindPlan& plan = context.plan != nullptr
                             ? context.plan->of(request.kind->id, mutating)
                             : (made = Plan::make(context.settings, request.kind->id, mutating));
  if (plan.active.empty()) return out;
  // One walk checks what the engine reads first (lifecycleReads, leading in plan.shapes) and
  // what the rules read. A deleting object is let through before anything else counts: a
  // finalizer must come off even when the object breaks a rule or has a field of the wrong type.
  const ShapeCheck shape = checkShape(request.object, plan.shapes, out.shapeErrors);
  if (shape == ShapeCheck::LeadingFailed) return out;
  if (request.operation == Operation::Update && beingDeleted(request.object)) {
    out.shapeErrors.clear();
    return out;
  }
  if (shape == ShapeCheck::Failed) return out;
  Derived derived;
  for (const RuleInfo* rule : plan.active) {
    RuleContext ruleContext(*rule, context.settings.of(rule->id), context.alliance, out, &derived);
    rule->check(request, ruleContext);
  }
  return out;
}

}  // namespace

Outcome validate(const Request& request, const Context& context) {
  return run(request, context, false);
}

Outcome mutate(const Request& request, const Context& context) {
  return run(request, context, true);
}

namespace {

// rule, explanation and the field path with every list index dropped ("spec.ports[]").
std::string matchKey(const Finding& f) {
  std::string key = f.rule;
  key += '\n';
  for (std::size_t i = 0; i < f.path.size(); ++i) {
    key += f.path[i];
    if (f.path[i] != '[') continue;
    std::size_t j = i + 1;
    while (j < f.path.size() && f.path[j] >= '0' && f.path[j] <= '9') ++j;
    if (j > i + 1 && j < f.path.size() && f.path[j] == ']') i = j - 1;
  }
  key += '\n';
  key += f.message;
  return key;
}

}  // namespace

void markExisting(Outcome& outcome, const Request& request, const Context& context) {
  if (request.operation != Operation::Update || outcome.findings.empty()) return;
  if (!request.oldObject.isObject()) return;
  Request old = request;
  old.object = request.oldObject;
  old.oldObject = {};
  const Outcome before = validate(old, context);
  if (!before.shapeErrors.empty()) return;
  std::map<std::string, std::size_t> unmatched;
  for (const Finding& f : before.findings) ++unmatched[matchKey(f)];
  for (Finding& f : outcome.findings) {
    const auto it = unmatched.find(matchKey(f));
    if (it == unmatched.end() || it->second == 0) continue;
    --it->second;
    f.existing = true;
  }
}

}  // namespace aw::rules

#include "rules/registry.h"

#include <algorithm>

#include "rules/all_rules.h"

namespace aw::rules {

std::span<const RuleInfo> registry() {
  static const std::vector<RuleInfo> kRules = {
      servicePortNamesRule(),          servicePortProtocolRule(), federationTrustDomainRule(),
      multiclusterClusterDomainRule(), subnetOverlapRule(),       serviceEntryPortsRule(),
      serviceEntryDefaultsRule(),
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

bool applies(const RuleInfo& rule, const Request& request, bool mutating) {
  return rule.mutating == mutating &&
         std::find(rule.kinds.begin(), rule.kinds.end(), request.kind->id) != rule.kinds.end();
}

Outcome run(const Request& request, const Context& context, bool mutating) {
  Outcome out;
  if (request.kind == nullptr || request.object == nullptr) return out;
  if (request.operation != Operation::Create && request.operation != Operation::Update) return out;

  std::vector<const RuleInfo*> active;
  std::vector<FieldShape> reads;
  for (const RuleInfo& rule : registry()) {
    if (!applies(rule, request, mutating) || !context.settings.of(rule.id).enabled()) continue;
    active.push_back(&rule);
    // A field read by several rules must suit every one of them: the types they accept intersect.
    for (const FieldShape& s : rule.reads) {
      auto same = std::find_if(reads.begin(), reads.end(),
                               [&](const FieldShape& r) { return r.path == s.path; });
      if (same == reads.end()) {
        reads.push_back(s);
      } else {
        same->types &= s.types;
      }
    }
  }
  if (active.empty()) return out;
  checkShape(*request.object, reads, out.shapeErrors);
  if (!out.shapeErrors.empty()) return out;
  for (const RuleInfo* rule : active) {
    rule->check(request, context, context.settings.of(rule->id), out);
  }
  std::erase_if(out.findings, [](const Finding& f) { return f.action == Action::Off; });
  return out;
}

}  // namespace

Outcome validate(const Request& request, const Context& context) {
  return run(request, context, false);
}

Outcome mutate(const Request& request, const Context& context) {
  return run(request, context, true);
}

}  // namespace aw::rules

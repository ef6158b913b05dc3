// public-service-label: the platform exports a Service to the other federation clusters only when
// its label federation.istio.deckhouse.io/public-service has the empty value (its selector is
// `public-service=`). Any other value still makes this webhook check the Service as public, but
// the Service is never exported, which is rarely what its author meant.
#include "common/json_view.h"
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/model/keys.h"
#include "rules/service_ports.h"

namespace aw::rules {

namespace {

void check(const Request& request, RuleContext& rule) {
  const auto value =
      json::string(json::child(serviceLabels(request, rule), keys::kPublicServiceLabel));
  if (!value || value->empty()) return;
  rule.report(keys::labelPath(keys::kPublicServiceLabel),
              "value " + quoteValue(*value) +
                  " is not empty, and the platform exports only Services whose value is empty (its "
                  "selector is public-service=), so this Service is checked but never exported: "
                  "set the value to \"\"");
}

}  // namespace

const RuleInfo& publicServiceLabelRule() {
  static const RuleInfo kRule{
      .id = "public-service-label",
      .summary =
          "The federation.istio.deckhouse.io/public-service label of a Service has the empty "
          "value, the only one the platform exports",
      .kinds = {KindId::Service},
      .options = {actionOption(kAction, Action::Warn)},
      .reads = {{"metadata", kObject},
                {"metadata.labels", kObject},
                {"metadata.labels{}", kString}},
      .check = check,
  };
  return kRule;
}

}  // namespace aw::rules

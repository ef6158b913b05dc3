// What the two Service port rules share: the public-service test, the shapes they read, and how
// a port is described in a message.
#pragma once

#include <string>
#include <vector>

#include "common/json_view.h"
#include "rules/engine/options.h"
#include "rules/engine/rule.h"
#include "rules/engine/shape.h"

namespace aw::rules {

// The Services a port rule looks at: public federation Services, or every Service.
enum class Scope { Public, All };
inline constexpr ChoiceOption<Scope, 2> kScope{"scope", {"public", "all"}};

inline const std::vector<FieldShape> kServicePortShapes = {
    {"metadata", kObject},
    {"metadata.labels", kObject},
    {"spec", kObject},
    {"spec.ports", kArray},
    {"spec.ports[]", kObject},
    {"spec.ports[].name", kString},
    {"spec.ports[].port", kInteger | kString},
    {"spec.ports[].protocol", kString},
    {"spec.ports[].appProtocol", kString},
};

// A Service's metadata.labels and spec.ports, each looked up once for the rules of one run.
json::View serviceLabels(const Request& request, RuleContext& rule);
json::View servicePorts(const Request& request, RuleContext& rule);
// Labelled federation.istio.deckhouse.io/public-service (with any value), worked out once for
// the rules of one run.
bool isPublicService(const Request& request, RuleContext& rule);

struct ServicePort {
  std::string label;          // "80/TCP"
  std::string suggestedName;  // "tcp-80"
};
ServicePort describeServicePort(json::View port);

}  // namespace aw::rules

// What a rule reports, and with which action.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/engine/patch.h"

namespace aw::rules {

// Ordered by severity: a decision takes the strongest.
enum class Action { Off, Audit, Warn, Deny };

std::string_view actionName(Action a);

struct Finding {
  std::string rule;     // stable rule id, e.g. "service-port-names"
  std::string path;     // field path: spec.ports[0].name, metadata.annotations[key]
  std::string message;  // explanation; never contains "; "
  Action action = Action::Deny;
  // On UPDATE: the old object has this finding too (markExisting), so the change did not
  // introduce it.
  bool existing = false;

  // "RULE-ID: FIELD-PATH: explanation", as the API server and kubectl show it.
  std::string text() const { return rule + ": " + path + ": " + message; }
  friend bool operator==(const Finding&, const Finding&) = default;
};

// The object-shape pseudo rule: a field the rules read has the wrong JSON type.
inline constexpr std::string_view kObjectShapeRule = "object-shape";

// Everything the rules say about one request.
struct Outcome {
  std::vector<Finding> findings;     // validating findings, action already resolved (never Off)
  std::vector<Finding> shapeErrors;  // non-empty: the object is malformed, rules did not run
  // RFC 6902 operations (mutate() only).
  Patch patch;
};

}  // namespace aw::rules

// The JSON types of the fields a rule reads. Checked before any rule runs, so a wrong type is
// reported as an `object-shape` finding naming the field, and rules can read without surprises.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_view.h"
#include "rules/engine/finding.h"

namespace aw::rules {

enum ShapeType : std::uint8_t {
  kObject = 1,
  kArray = 2,
  kString = 4,
  kInteger = 8,
  kBoolean = 16,
};

struct FieldShape {
  // Dotted path from the object root; "[]" after a segment means every element of that list,
  // "{}" every value of that map: "spec.ports[].port", "metadata.annotations{}".
  std::string_view path;
  std::uint8_t types;  // ShapeType bits; null and absent are always allowed
};

// Appends one finding per mismatch (rule object-shape), with the concrete path
// ("spec.ports[1].port: expected an integer or a string, got an object").
void checkShape(json::View object, const std::vector<FieldShape>& shapes,
                std::vector<Finding>& out);

}  // namespace aw::rules

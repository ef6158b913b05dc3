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

// The shapes of a list of fields as one tree, so that checking them walks each object once:
// built once per configuration (rules::Plan), not per request.
class ShapeTree {
 public:
  ShapeTree() = default;
  // The first `leading` shapes are checked before the others: see checkShape.
  explicit ShapeTree(const std::vector<FieldShape>& shapes, std::size_t leading = 0);

  struct Node {
    std::string_view name;  // the key leading here ("ports"); "" for the root and [] and {}
    int shape = -1;         // the index of the shape ending here, or -1
    std::uint8_t types = 0;
    std::vector<std::uint32_t> keys;  // the named children
    json::KeyLengths keyLengths;      // of their names
    int element = -1;                 // "[]": every element of a list
    int value = -1;                   // "{}": every value of a map
  };
  // At most this many named children per node, each walked once per object.
  static constexpr std::size_t kMaxKeys = 16;

  const std::vector<Node>& nodes() const { return nodes_; }  // nodes()[0] is the root
  std::size_t leading() const { return leading_; }

 private:
  std::uint32_t add(std::uint32_t parent, std::string_view segment);
  std::vector<Node> nodes_;
  std::size_t leading_ = 0;
};

// Appends one finding per mismatch (rule object-shape), with the concrete path
// ("spec.ports[1].port: expected an integer or a string, got an object"): those of the first
// shape first, each shape's in the order of the document. When a leading shape does not hold (or
// the object is not an object and the tree has leading shapes), only the leading shapes'
// findings are appended.
enum class ShapeCheck { Fits, Failed, LeadingFailed };
ShapeCheck checkShape(json::View object, const ShapeTree& shapes, std::vector<Finding>& out);

}  // namespace aw::rules

#include "rules/engine/shape.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>

namespace aw::rules {

namespace {

std::string_view typeName(json::Type t) {
  switch (t) {
    case json::Type::Object:
      return "an object";
    case json::Type::Array:
      return "a list";
    case json::Type::String:
      return "a string";
    case json::Type::Boolean:
      return "a boolean";
    case json::Type::Integer:
      return "an integer";
    case json::Type::Float:
      return "a number with a fraction";
    case json::Type::Absent:
    case json::Type::Null:
      break;
  }
  return "null";
}

bool matches(json::Type t, std::uint8_t types) {
  switch (t) {
    case json::Type::Object:
      return types & kObject;
    case json::Type::Array:
      return types & kArray;
    case json::Type::String:
      return types & kString;
    case json::Type::Boolean:
      return types & kBoolean;
    case json::Type::Integer:
      return types & kInteger;
    case json::Type::Float:
      // A float with an integral value (1e3, 80.0) is still not an integer to Kubernetes.
      return false;
    case json::Type::Absent:
    case json::Type::Null:
      break;
  }
  return true;
}

std::string expected(std::uint8_t types) {
  static constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
      {kObject, "an object"}, {kArray, "a list"},      {kInteger, "an integer"},
      {kString, "a string"},  {kBoolean, "a boolean"},
  };
  std::vector<std::string_view> names;
  for (const auto& [bit, name] : kNames) {
    if (types & bit) names.push_back(name);
  }
  std::string out = "expected ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// The concrete path of the node being walked, as parts on the stack: its string is built only
// for a mismatch.
class At {
 public:
  struct Part {
    enum { kName, kIndex, kKey } kind;
    std::string_view text;  // kName, kKey
    std::size_t index = 0;  // kIndex
  };
  // Pushes a part for as long as the object lives.
  class Push {
   public:
    Push(At& at, Part part) : at_(at) {
      if (at_.depth_ == at_.parts_.size()) throw std::logic_error("field shape path too deep");
      at_.parts_[at_.depth_++] = part;
    }
    ~Push() { --at_.depth_; }
    Push(const Push&) = delete;
    Push& operator=(const Push&) = delete;

   private:
    At& at_;
  };

  // "spec.ports[1].port", "metadata.annotations[key]".
  std::string str() const {
    std::string out;
    for (std::size_t i = 0; i < depth_; ++i) {
      const Part& p = parts_[i];
      if (p.kind == Part::kName) {
        if (!out.empty()) out += '.';
        out += p.text;
      } else {
        out += '[';
        out += p.kind == Part::kIndex ? std::to_string(p.index) : std::string(p.text);
        out += ']';
      }
    }
    return out;
  }

 private:
  std::array<Part, 32> parts_{};
  std::size_t depth_ = 0;
};

struct Found {
  int shape;
  Finding finding;
};

void visit(json::View v, const ShapeTree& tree, std::uint32_t index, At& at,
           std::vector<Found>& found) {
  const ShapeTree::Node& node = tree.nodes()[index];
  if (node.shape >= 0) {
    const json::Type type = v.type();
    if (!matches(type, node.types)) {
      found.push_back(
          {node.shape,
           {std::string(kObjectShapeRule), at.str(),
            expected(node.types) + ", got " + std::string(typeName(type)), Action::Deny}});
    }
  }
  if (!node.keys.empty() && v.isObject()) {
    // One pass over the members; of a repeated key, the last one counts. Only the slots in use
    // are made (a whole array of views would be cleared for every object walked).
    alignas(json::View) std::byte storage[sizeof(json::View) * ShapeTree::kMaxKeys];
    static_assert(std::is_trivially_destructible_v<json::View>);  // never destroyed
    json::View* last = reinterpret_cast<json::View*>(storage);
    std::uninitialized_value_construct_n(last, node.keys.size());
    for (const json::Member m : v.members()) {
      if (!node.keyLengths.mayMatch(m.key.size())) continue;
      for (std::size_t k = 0; k < node.keys.size(); ++k) {
        if (json::sameKey(tree.nodes()[node.keys[k]].name, m.key)) last[k] = m.value;
      }
    }
    for (std::size_t k = 0; k < node.keys.size(); ++k) {
      if (!last[k]) continue;  // absent or null: every shape allows it
      const ShapeTree::Node& child = tree.nodes()[node.keys[k]];
      const At::Push here(at, {At::Part::kName, child.name});
      visit(last[k], tree, node.keys[k], at, found);
    }
  }
  if (node.element >= 0) {
    std::size_t i = 0;
    for (const json::View element : v.elements()) {
      const At::Push here(at, {At::Part::kIndex, {}, i++});
      visit(element, tree, static_cast<std::uint32_t>(node.element), at, found);
    }
  }
  if (node.value >= 0) {
    // In document order. The request path's decoder hands over only maps whose keys are
    // ascending and unique, the order a nlohmann object (and the API server's JSON) has.
    for (const json::Member m : v.members()) {
      const At::Push here(at, {At::Part::kKey, m.key});
      visit(m.value, tree, static_cast<std::uint32_t>(node.value), at, found);
    }
  }
}

}  // namespace

ShapeTree::ShapeTree(const std::vector<FieldShape>& shapes, std::size_t leading)
    : nodes_(1), leading_(leading) {
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    std::uint32_t node = 0;
    std::string_view rest = shapes[i].path;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      node = add(node, rest.substr(0, dot));
      rest = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    }
    if (nodes_[node].shape >= 0) throw std::logic_error("field shape listed twice");
    nodes_[node].shape = static_cast<int>(i);
    nodes_[node].types = shapes[i].types;
  }
}

// The node of `segment` ("ports", "ports[]", "labels{}") below `parent`, made when missing.
std::uint32_t ShapeTree::add(std::uint32_t parent, std::string_view segment) {
  const bool each = segment.ends_with("[]");
  const bool values = segment.ends_with("{}");
  if (each || values) segment.remove_suffix(2);
  std::uint32_t named = 0;
  bool found = false;
  for (const std::uint32_t k : nodes_[parent].keys) {
    if (nodes_[k].name == segment) {
      named = k;
      found = true;
    }
  }
  if (!found) {
    if (nodes_[parent].keys.size() == kMaxKeys) throw std::logic_error("field shape too wide");
    named = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back().name = segment;
    nodes_[parent].keys.push_back(named);
    nodes_[parent].keyLengths.add(segment.size());
  }
  if (!each && !values) return named;
  int& slot = each ? nodes_[named].element : nodes_[named].value;
  if (slot >= 0) return static_cast<std::uint32_t>(slot);
  const auto made = static_cast<std::uint32_t>(nodes_.size());
  slot = static_cast<int>(made);
  nodes_.emplace_back();  // `slot` may point into the old storage from here on
  return made;
}

ShapeCheck checkShape(json::View object, const ShapeTree& shapes, std::vector<Finding>& out) {
  if (!object.isObject()) {
    out.push_back({std::string(kObjectShapeRule), "object",
                   "expected an object, got " + std::string(typeName(object.type())),
                   Action::Deny});
    return shapes.leading() > 0 ? ShapeCheck::LeadingFailed : ShapeCheck::Failed;
  }
  At at;
  std::vector<Found> found;
  visit(object, shapes, 0, at, found);
  if (found.empty()) return ShapeCheck::Fits;
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.shape < b.shape; });
  const auto leading = static_cast<int>(shapes.leading());
  const bool leadingFailed = found.front().shape < leading;
  for (Found& f : found) {
    if (leadingFailed && f.shape >= leading) break;
    out.push_back(std::move(f.finding));
  }
  return leadingFailed ? ShapeCheck::LeadingFailed : ShapeCheck::Failed;
}

}  // namespace aw::rules

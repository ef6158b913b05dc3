#include "rules/engine/shape.h"

#include <array>
#include <stdexcept>

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

// Walks `rest` (remaining dotted segments) below `node`, whose concrete path is `at`.
void walk(json::View node, std::string_view rest, At& at, std::uint8_t types,
          std::vector<Finding>& out) {
  if (rest.empty()) {
    const json::Type type = node.type();
    if (!matches(type, types)) {
      out.push_back({std::string(kObjectShapeRule), at.str(),
                     expected(types) + ", got " + std::string(typeName(type)), Action::Deny});
    }
    return;
  }
  if (!node.isObject()) return;  // the parent's own shape entry reports it
  const auto dot = rest.find('.');
  std::string_view seg = rest.substr(0, dot);
  const std::string_view next = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
  enum { kPlain, kEachElement, kEachValue } mode = kPlain;
  if (seg.ends_with("[]")) {
    mode = kEachElement;
    seg.remove_suffix(2);
  } else if (seg.ends_with("{}")) {
    mode = kEachValue;
    seg.remove_suffix(2);
  }
  const json::View field = node[seg];
  if (!field) return;
  const At::Push here(at, {At::Part::kName, seg});
  if (mode == kPlain) {
    walk(field, next, at, types, out);
  } else if (mode == kEachElement) {
    std::size_t i = 0;
    for (const json::View element : field.elements()) {
      const At::Push index(at, {At::Part::kIndex, {}, i++});
      walk(element, next, at, types, out);
    }
  } else {
    // In document order. The request path's decoder hands over only maps whose keys are
    // ascending and unique, the order a nlohmann object (and the API server's JSON) has.
    for (const json::Member m : field.members()) {
      const At::Push value(at, {At::Part::kKey, m.key});
      walk(m.value, next, at, types, out);
    }
  }
}

}  // namespace

void checkShape(json::View object, const std::vector<FieldShape>& shapes,
                std::vector<Finding>& out) {
  if (!object.isObject()) {
    out.push_back({std::string(kObjectShapeRule), "object",
                   "expected an object, got " + std::string(typeName(object.type())),
                   Action::Deny});
    return;
  }
  At at;
  for (const FieldShape& s : shapes) walk(object, s.path, at, s.types, out);
}

}  // namespace aw::rules

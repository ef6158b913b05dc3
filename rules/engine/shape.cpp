#include "rules/engine/shape.h"

#include <array>
#include <stdexcept>

namespace aw::rules {

namespace {

std::string_view typeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "null";
  }
}

bool matches(const nlohmann::json& v, std::uint8_t types) {
  if (v.is_null()) return true;
  if (v.is_object()) return types & kObject;
  if (v.is_array()) return types & kArray;
  if (v.is_string()) return types & kString;
  if (v.is_boolean()) return types & kBoolean;
  if (v.is_number_integer()) return types & kInteger;
  // A float with an integral value (1e3, 80.0) is still not an integer to Kubernetes.
  return false;
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
void walk(const nlohmann::json& node, std::string_view rest, At& at, std::uint8_t types,
          std::vector<Finding>& out) {
  if (rest.empty()) {
    if (!matches(node, types)) {
      out.push_back({std::string(kObjectShapeRule), at.str(),
                     expected(types) + ", got " + std::string(typeName(node)), Action::Deny});
    }
    return;
  }
  if (!node.is_object()) return;  // the parent's own shape entry reports it
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
  const auto it = node.find(seg);
  if (it == node.end()) return;
  const At::Push here(at, {At::Part::kName, seg});
  if (mode == kPlain) {
    walk(*it, next, at, types, out);
  } else if (mode == kEachElement && it->is_array()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const At::Push element(at, {At::Part::kIndex, {}, i});
      walk((*it)[i], next, at, types, out);
    }
  } else if (mode == kEachValue && it->is_object()) {
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      const At::Push value(at, {At::Part::kKey, kv.key()});
      walk(kv.value(), next, at, types, out);
    }
  }
}

}  // namespace

void checkShape(const nlohmann::json& object, const std::vector<FieldShape>& shapes,
                std::vector<Finding>& out) {
  if (!object.is_object()) {
    out.push_back({std::string(kObjectShapeRule), "object",
                   "expected an object, got " + std::string(typeName(object)), Action::Deny});
    return;
  }
  At at;
  for (const FieldShape& s : shapes) walk(object, s.path, at, s.types, out);
}

}  // namespace aw::rules

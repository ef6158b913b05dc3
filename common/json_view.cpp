#include "common/json_view.h"

#include <stdexcept>

namespace aw::json {

namespace dom = simdjson::dom;

Type View::type() const {
  if (!present_) return Type::Absent;
  switch (e_.type()) {
    case dom::element_type::OBJECT:
      return Type::Object;
    case dom::element_type::ARRAY:
      return Type::Array;
    case dom::element_type::STRING:
      return Type::String;
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
      return Type::Integer;
    case dom::element_type::DOUBLE:
      return Type::Float;
    case dom::element_type::BOOL:
      return Type::Boolean;
    case dom::element_type::NULL_VALUE:
      break;
  }
  return Type::Null;
}

std::optional<std::string_view> View::string() const {
  std::string_view s;
  if (!present_ || e_.get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<bool> View::boolean() const {
  bool b = false;
  if (!present_ || e_.get(b) != simdjson::SUCCESS) return std::nullopt;
  return b;
}

std::size_t View::size() const {
  // simdjson stores a container's count saturated at 2^24 - 1: beyond that, count.
  constexpr std::size_t kSaturated = 0xFFFFFF;
  std::size_t n = 0;
  if (dom::array a; present_ && e_.get(a) == simdjson::SUCCESS) {
    n = a.size();
    if (n == kSaturated) {
      n = 0;
      for (dom::element item : a) {
        static_cast<void>(item);
        ++n;
      }
    }
  } else if (dom::object o; present_ && e_.get(o) == simdjson::SUCCESS) {
    n = o.size();
    if (n == kSaturated) {
      n = 0;
      for (dom::key_value_pair field : o) {
        static_cast<void>(field);
        ++n;
      }
    }
  }
  return n;
}

View View::operator[](std::string_view key) const {
  dom::object o;
  if (!present_ || e_.get(o) != simdjson::SUCCESS) return {};
  View found;
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it.key_equals(key)) found = View(it.value());
  }
  return found ? found : View();
}

Document::Document(std::string_view text) : parser_(std::make_unique<dom::parser>()) {
  if (const auto error = parser_->allocate(text.size(), kMaxDepth); error != simdjson::SUCCESS) {
    throw std::invalid_argument(std::string("cannot parse JSON: ") +
                                simdjson::error_message(error));
  }
  const simdjson::padded_string padded(text);
  if (const auto error = parser_->parse(padded).get(root_); error != simdjson::SUCCESS) {
    throw std::invalid_argument(std::string("cannot parse JSON: ") +
                                simdjson::error_message(error));
  }
}

Document Document::of(const nlohmann::json& value) {
  return Document(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json toNlohmann(View v) {
  const dom::element& e = v.element();
  switch (v.type()) {
    case Type::Absent:
    case Type::Null:
      return nullptr;
    case Type::Object: {
      nlohmann::json out = nlohmann::json::object();
      for (const Member m : v.members()) out[std::string(m.key)] = toNlohmann(m.value);
      return out;
    }
    case Type::Array: {
      nlohmann::json out = nlohmann::json::array();
      for (const View item : v.elements()) out.push_back(toNlohmann(item));
      return out;
    }
    case Type::String:
      return std::string(*v.string());
    case Type::Boolean:
      return *v.boolean();
    case Type::Integer: {
      // Non-negative integers are unsigned, as nlohmann's parser gives them.
      std::int64_t i = 0;
      if (e.get(i) == simdjson::SUCCESS) {
        return i < 0 ? nlohmann::json(i) : nlohmann::json(static_cast<std::uint64_t>(i));
      }
      std::uint64_t u = 0;
      return e.get(u) == simdjson::SUCCESS ? nlohmann::json(u) : nlohmann::json();
    }
    case Type::Float: {
      double d = 0;
      return e.get(d) == simdjson::SUCCESS ? nlohmann::json(d) : nlohmann::json();
    }
  }
  return nullptr;
}

std::string scalarText(View node) {
  if (const auto s = node.string()) return std::string(*s);
  if (!node.isInteger()) return {};
  const dom::element& e = node.element();
  if (std::int64_t i = 0; e.get(i) == simdjson::SUCCESS) return std::to_string(i);
  std::uint64_t u = 0;
  return e.get(u) == simdjson::SUCCESS ? std::to_string(u) : std::string();
}

}  // namespace aw::json

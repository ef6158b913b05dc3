#include "common/json_view.h"

#include <stdexcept>

namespace aw::json {

namespace dom = simdjson::dom;

Type View::type() const {
  if (w_ == nullptr) return Type::Absent;
  switch (tape::typeOf(w_)) {
    case '{':
      return Type::Object;
    case '[':
      return Type::Array;
    case '"':
      return Type::String;
    case 'l':
    case 'u':
      return Type::Integer;
    case 'd':
      return Type::Float;
    case 't':
    case 'f':
      return Type::Boolean;
    default:
      break;
  }
  return Type::Null;
}

namespace {
template <class T>
T numberAfter(const tape::Word* w) {
  T v;
  std::memcpy(&v, w + 1, sizeof(v));
  return v;
}
}  // namespace

std::optional<std::int64_t> View::int64() const {
  if (is('l')) return numberAfter<std::int64_t>(w_);
  // simdjson keeps an integer as unsigned only beyond int64's range.
  if (is('u')) {
    if (const auto u = numberAfter<std::uint64_t>(w_); u <= INT64_MAX) {
      return static_cast<std::int64_t>(u);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> View::uint64() const {
  if (is('u')) return numberAfter<std::uint64_t>(w_);
  if (const auto i = is('l') ? numberAfter<std::int64_t>(w_) : -1; i >= 0) {
    return static_cast<std::uint64_t>(i);
  }
  return std::nullopt;
}

std::optional<double> View::float64() const {
  if (is('d')) return numberAfter<double>(w_);
  return std::nullopt;
}

std::size_t View::size() const {
  if (!isArray() && !isObject()) return 0;
  // simdjson stores a container's count saturated at 2^24 - 1: beyond that, count.
  constexpr std::size_t kSaturated = simdjson::internal::JSON_COUNT_MASK;
  const std::size_t n = (*w_ >> 32) & kSaturated;
  if (n < kSaturated) return n;
  std::size_t counted = 0;
  const tape::Word* const stop = tape::end(doc_, w_);
  for (const tape::Word* v = w_ + 1; v != stop; v = tape::after(doc_, isArray() ? v : v + 1)) {
    ++counted;
  }
  return counted;
}

Document::Document(std::string_view text) : parser_(std::make_unique<dom::parser>()) {
  if (const auto error = parser_->allocate(text.size(), kMaxDepth); error != simdjson::SUCCESS) {
    throw std::invalid_argument(std::string("cannot parse JSON: ") +
                                simdjson::error_message(error));
  }
  const simdjson::padded_string padded(text);
  if (const auto error = parser_->parse(padded).error(); error != simdjson::SUCCESS) {
    throw std::invalid_argument(std::string("cannot parse JSON: ") +
                                simdjson::error_message(error));
  }
}

Document Document::of(const nlohmann::json& value) {
  return Document(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json toNlohmann(View v) {
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
    case Type::Integer:
      // Non-negative integers are unsigned, as nlohmann's parser gives them.
      if (const auto u = v.uint64()) return *u;
      return *v.int64();
    case Type::Float:
      return *v.float64();
  }
  return nullptr;
}

std::string scalarText(View node) {
  if (const auto s = node.string()) return std::string(*s);
  if (const auto u = node.uint64()) return std::to_string(*u);
  if (const auto i = node.int64()) return std::to_string(*i);
  return {};
}

}  // namespace aw::json

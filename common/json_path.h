// JSON path readers over nlohmann/json, for what the webhook reads of configuration, manifests
// and API lists (the rules read json::View, common/json_view.h, with readers of the same names).
// They tolerate any JSON (returning "absent": a missing key, a null, a step that is not an
// object, a value of another type), so a reader can never throw on input.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace aw::json {

using nlohmann::json;

inline const json* child(const json* node, std::string_view key) {
  if (node == nullptr || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() || it->is_null() ? nullptr : &*it;
}

inline const json* child(const json& node, std::string_view key) {
  return child(&node, key);
}

// child(child(node, a), b)...: at(obj, {"spec", "ports"}).
inline const json* at(const json* node, std::initializer_list<std::string_view> path) {
  for (std::string_view key : path) node = child(node, key);
  return node;
}

inline const std::string* string(const json* node) {
  return node && node->is_string() ? &node->get_ref<const std::string&>() : nullptr;
}

// The string at `path` below `node` ({"metadata", "name"}), or nullptr.
inline const std::string* stringAt(const json& node, std::initializer_list<std::string_view> path) {
  return string(at(&node, path));
}

// The string at `path` below `node`, or "" when there is none.
inline std::string stringOr(const json& node, std::initializer_list<std::string_view> path,
                            std::string_view fallback = {}) {
  const std::string* s = stringAt(node, path);
  return s != nullptr ? *s : std::string(fallback);
}

inline const json* array(const json* node) {
  return node && node->is_array() ? node : nullptr;
}
inline const json* object(const json* node) {
  return node && node->is_object() ? node : nullptr;
}

// An integer or an integer-valued string, as text ("80", "http").
inline std::string scalarText(const json* node) {
  if (node == nullptr) return {};
  if (node->is_string()) return node->get<std::string>();
  if (node->is_number_integer()) return std::to_string(node->get<long long>());
  if (node->is_number_unsigned()) return std::to_string(node->get<unsigned long long>());
  return {};
}

}  // namespace aw::json

// A mutating rule's RFC 6902 operations, kept as the JSON text the answer carries: appending an
// operation writes its text once, where a nlohmann array of objects cost a tree per operation
// and a serialisation of it. The text is what nlohmann's dump(-1, ' ', false, replace) writes
// for the same operations (keys in the order op, path, value; strings as common/json_text.h
// writes them).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aw::rules {

class Patch {
 public:
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }  // operations

  // {"op":OP,"path":PATH,"value":VALUE} with `value` written as a JSON string.
  void addString(std::string_view op, std::string_view path, std::string_view value);
  // The same with `valueJson`, JSON text the caller wrote, as the value.
  void addJson(std::string_view op, std::string_view path, std::string_view valueJson);
  // `other`'s operations after these.
  void append(const Patch& other);

  // The operations as one JSON array: "[]" when there are none.
  std::string text() const;
  // The same, parsed (check, tests and the fuzzer compare and apply it).
  nlohmann::json json() const;

 private:
  void open(std::string_view op, std::string_view path);
  std::string ops_;  // the operations, comma-separated
  std::size_t count_ = 0;
};

}  // namespace aw::rules

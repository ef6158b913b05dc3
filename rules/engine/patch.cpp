#include "rules/engine/patch.h"

#include "common/json_text.h"

namespace aw::rules {

void Patch::open(std::string_view op, std::string_view path) {
  if (count_++ > 0) ops_ += ',';
  ops_ += R"({"op":)";
  json::appendString(ops_, op);
  ops_ += R"(,"path":)";
  json::appendString(ops_, path);
  ops_ += R"(,"value":)";
}

void Patch::addString(std::string_view op, std::string_view path, std::string_view value) {
  open(op, path);
  json::appendString(ops_, value);
  ops_ += '}';
}

void Patch::addJson(std::string_view op, std::string_view path, std::string_view valueJson) {
  open(op, path);
  ops_ += valueJson;
  ops_ += '}';
}

void Patch::append(const Patch& other) {
  if (other.empty()) return;
  if (count_ > 0) ops_ += ',';
  ops_ += other.ops_;
  count_ += other.count_;
}

std::string Patch::text() const {
  std::string out;
  out.reserve(ops_.size() + 2);
  out += '[';
  out += ops_;
  out += ']';
  return out;
}

nlohmann::json Patch::json() const {
  return nlohmann::json::parse(text());
}

}  // namespace aw::rules

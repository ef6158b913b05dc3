#include "test/support/json_patch.h"

#include <stdexcept>

namespace aw::test {

std::vector<std::string> pointerTokens(const std::string& pointer) {
  if (pointer.empty()) return {};
  if (pointer[0] != '/') throw std::runtime_error("pointer \"" + pointer + "\" must start with /");
  std::vector<std::string> tokens(1);
  for (std::size_t i = 1; i < pointer.size(); ++i) {
    const char c = pointer[i];
    if (c == '/') {
      tokens.emplace_back();
    } else if (c == '~') {
      const char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        throw std::runtime_error("pointer \"" + pointer + "\" has a bad ~ escape");
      }
      tokens.back() += next == '0' ? '~' : '/';
      ++i;
    } else {
      tokens.back() += c;
    }
  }
  return tokens;
}

namespace {

std::size_t arrayIndex(const std::string& token, std::size_t size, bool allowEnd) {
  if (allowEnd && token == "-") return size;
  if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos ||
      (token.size() > 1 && token[0] == '0')) {
    throw std::runtime_error("\"" + token + "\" is not an array index");
  }
  const std::size_t index = std::stoul(token);
  if (index > size || (!allowEnd && index == size)) {
    throw std::runtime_error("array index " + token + " out of range");
  }
  return index;
}

void applyOne(nlohmann::json& document, const nlohmann::json& op) {
  if (!op.is_object() || !op.contains("op") || !op.contains("path") || !op["op"].is_string() ||
      !op["path"].is_string()) {
    throw std::runtime_error("operation needs string op and path: " + op.dump());
  }
  const std::string kind = op["op"];
  if (kind != "add" && kind != "replace") throw std::runtime_error("unsupported op " + kind);
  if (!op.contains("value")) throw std::runtime_error(kind + " without value: " + op.dump());
  const bool add = kind == "add";
  const std::vector<std::string> tokens = pointerTokens(op["path"]);
  if (tokens.empty()) {
    document = op["value"];
    return;
  }
  nlohmann::json* parent = &document;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (parent->is_object()) {
      auto it = parent->find(tokens[i]);
      if (it == parent->end()) throw std::runtime_error("missing parent in " + op.dump());
      parent = &*it;
    } else if (parent->is_array()) {
      parent = &(*parent)[arrayIndex(tokens[i], parent->size(), false)];
    } else {
      throw std::runtime_error("parent is not a container in " + op.dump());
    }
  }
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    if (!add && !parent->contains(last)) throw std::runtime_error("replace of absent " + op.dump());
    (*parent)[last] = op["value"];
  } else if (parent->is_array()) {
    const std::size_t index = arrayIndex(last, parent->size(), add);
    if (add) {
      parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), op["value"]);
    } else {
      (*parent)[index] = op["value"];
    }
  } else {
    throw std::runtime_error("target parent is not a container in " + op.dump());
  }
}

}  // namespace

nlohmann::json applyPatch(nlohmann::json document, const nlohmann::json& patch) {
  if (!patch.is_array()) throw std::runtime_error("a JSON patch is an array of operations");
  for (const nlohmann::json& op : patch) applyOne(document, op);
  return document;
}

}  // namespace aw::test

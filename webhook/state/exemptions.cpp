#include "webhook/state/exemptions.h"

#include "common/text.h"

namespace aw::webhook {

namespace {

bool matches(std::string_view pattern, std::string_view value) {
  if (pattern.ends_with('*')) return value.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == value;
}

// The first pattern of `patterns` that `value` matches, or nullptr.
const std::string* firstMatch(const std::vector<std::string>& patterns, std::string_view value) {
  for (const std::string& p : patterns) {
    if (matches(p, value)) return &p;
  }
  return nullptr;
}

std::string because(std::string_view what, std::string_view value, std::string_view key,
                    const std::string& pattern) {
  return std::string(what) + " " + std::string(value) + " (exemptions." + std::string(key) + ": " +
         pattern + ")";
}

}  // namespace

std::string Exemptions::match(std::string_view ns, std::string_view username,
                              std::span<const std::string_view> userGroups) const {
  if (!ns.empty()) {
    if (const std::string* p = firstMatch(namespaces, ns)) {
      return because("namespace", ns, "namespaces", *p);
    }
  }
  if (!username.empty()) {
    if (const std::string* p = firstMatch(usernames, username)) {
      return because("user", username, "usernames", *p);
    }
  }
  for (const std::string_view group : userGroups) {
    if (const std::string* p = firstMatch(groups, group)) {
      return because("group", group, "groups", *p);
    }
  }
  return {};
}

std::string exemptionPatternError(std::string_view pattern) {
  if (pattern.empty()) return "empty: write a name, or a prefix ending in * such as d8-*";
  if (pattern == "*") {
    return "\"*\" alone would exempt every request and switch the webhook off: list the names, "
           "or a prefix ending in * such as d8-*";
  }
  if (pattern.find('*') != pattern.size() - 1 && pattern.find('*') != std::string_view::npos) {
    return aw::quote(pattern) + ": only a trailing * is supported (a prefix such as d8-*)";
  }
  return {};
}

}  // namespace aw::webhook

// A small RFC 6902 applier for the tests: `add` and `replace` only, the two operations the
// ServiceEntry defaults emit. Independent of the code under test, so a wrongly escaped pointer or
// a missing parent fails here exactly as it would in the API server.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aw::test {

// Applies `patch` (a JSON array of operations) to `document`. Throws std::runtime_error naming
// the operation when the patch is malformed or cannot apply (unknown op, missing parent,
// `replace` of an absent member, array index out of range, bad pointer escape).
nlohmann::json applyPatch(nlohmann::json document, const nlohmann::json& patch);

// Decodes one RFC 6901 pointer into its reference tokens ("~1" -> "/", "~0" -> "~").
std::vector<std::string> pointerTokens(const std::string& pointer);

}  // namespace aw::test

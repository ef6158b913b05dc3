// The ServiceEntry CRD's own rules (networking.istio.io, the schema's required fields, enums,
// list-map keys and x-kubernetes-validations), written out in C++ so tests can check that what
// the webhook produces would be accepted by the API server.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aw::test {

// One line per violated rule, e.g. "spec.ports[1]: name is required"; empty when acceptable.
std::vector<std::string> serviceEntryCrdViolations(const nlohmann::json& object);

}  // namespace aw::test

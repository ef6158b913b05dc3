#include "test/support/serviceentry_crd.h"

#include <algorithm>
#include <set>

namespace aw::test {

namespace {

using nlohmann::json;

bool has(const json& node, const char* key) {
  return node.is_object() && node.contains(key) && !node[key].is_null();
}

bool oneOf(const std::string& v, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

}  // namespace

std::vector<std::string> serviceEntryCrdViolations(const json& object) {
  std::vector<std::string> out;
  if (!has(object, "spec") || !object["spec"].is_object()) return {"spec: Required value"};
  const json& spec = object["spec"];

  // hosts: required, minItems 1, no "*"
  if (!has(spec, "hosts") || !spec["hosts"].is_array() || spec["hosts"].empty()) {
    out.push_back("spec.hosts: at least one host is required");
  } else {
    for (const json& h : spec["hosts"]) {
      if (!h.is_string()) out.push_back("spec.hosts: every host is a string");
      if (h == "*") out.push_back("spec.hosts: hostname cannot be wildcard");
    }
  }

  // ports: name and number required, number 1..65535 and unique, name unique (list-map key)
  if (has(spec, "ports")) {
    std::set<std::string> names;
    std::multiset<long long> numbers;
    const json& ports = spec["ports"];
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const json& p = ports[i];
      const std::string at = "spec.ports[" + std::to_string(i) + "]";
      if (!has(p, "name") || !p["name"].is_string()) {
        out.push_back(at + ": name is required");
      } else if (!names.insert(p["name"].get<std::string>()).second) {
        out.push_back(at + ": duplicate name " + p["name"].get<std::string>());
      }
      if (!has(p, "number") || !p["number"].is_number_integer()) {
        out.push_back(at + ": number is required");
      } else {
        const long long n = p["number"].get<long long>();
        if (n < 1 || n > 65535) out.push_back(at + ": port must be between 1-65535");
        numbers.insert(n);
      }
      if (has(p, "protocol") && !p["protocol"].is_string()) out.push_back(at + ": protocol");
    }
    for (long long n : numbers) {
      if (numbers.count(n) > 1) {
        out.push_back("spec.ports: port number cannot be duplicated");
        break;
      }
    }
  }

  // enums
  const std::string resolution =
      has(spec, "resolution") ? spec["resolution"].get<std::string>() : "";
  if (!resolution.empty() &&
      !oneOf(resolution, {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"})) {
    out.push_back("spec.resolution: unsupported value " + resolution);
  }
  if (has(spec, "location") &&
      !oneOf(spec["location"].get<std::string>(), {"MESH_EXTERNAL", "MESH_INTERNAL"})) {
    out.push_back("spec.location: unsupported value");
  }

  // x-kubernetes-validations of spec
  const std::string effective = resolution.empty() ? "NONE" : resolution;
  const bool hasEndpoints =
      spec.is_object() && spec.contains("endpoints") && !spec["endpoints"].is_null();
  if (has(spec, "workloadSelector") && hasEndpoints) {
    out.push_back("spec: only one of WorkloadSelector or Endpoints can be set");
  }
  if (has(spec, "addresses")) {
    for (const json& a : spec["addresses"]) {
      if (a.is_string() && a.get<std::string>().find('/') != std::string::npos &&
          !oneOf(effective, {"STATIC", "NONE"})) {
        out.push_back("spec: CIDR addresses are allowed only for NONE/STATIC resolution types");
        break;
      }
    }
  }
  if (effective == "NONE" && hasEndpoints) out.push_back("spec: NONE mode cannot set endpoints");
  if (effective == "DNS_ROUND_ROBIN" && hasEndpoints && spec["endpoints"].size() > 1) {
    out.push_back("spec: DNS_ROUND_ROBIN mode cannot have multiple endpoints");
  }
  if (hasEndpoints) {
    for (std::size_t i = 0; i < spec["endpoints"].size(); ++i) {
      const json& e = spec["endpoints"][i];
      if (!has(e, "address") && !has(e, "network")) {
        out.push_back("spec.endpoints[" + std::to_string(i) + "]: Address is required");
      }
    }
  }
  return out;
}

}  // namespace aw::test

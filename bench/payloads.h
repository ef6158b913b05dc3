// Benchmark payloads: AdmissionReview bodies shaped like the ones the API server sends, built
// deterministically (same bytes on every run) so figures compare across runs and machines.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aw::bench {

struct Payload {
  std::string name;      // service, federation, se100, se1m
  std::string path;      // /validate or /mutate
  std::string body;      // compact JSON, as the API server sends it
  std::string describe;  // one line for the report
};

// A public federation Service with realistic metadata (labels, Helm annotations, two
// managedFields entries) and three named ports; the whole AdmissionReview is about 3 KB.
nlohmann::json publicService();
// An IstioFederation declaring pod and service subnets that overlap nothing in
// examples/config.yaml, with a trust domain of its own.
nlohmann::json federation(const std::string& name = "cluster-b",
                          const std::string& podCidr = "10.112.0.0/16",
                          const std::string& serviceCidr = "10.221.0.0/16");
// A ServiceEntry with `endpoints` IP endpoints, `hosts` external host names and `ports` ports,
// none with protocol or name, and neither resolution nor location: every default applies.
nlohmann::json serviceEntry(std::size_t endpoints, std::size_t hosts = 1, std::size_t ports = 2);
// The smallest serviceEntry(n, n / 20, 4) whose AdmissionReview reaches `bytes`.
nlohmann::json serviceEntryOfSize(std::size_t bytes);

// CREATE AdmissionReview (admission.k8s.io/v1) around `object`, compact JSON.
std::string reviewBody(const nlohmann::json& object);

// The four payloads of issue 7, in report order.
std::vector<Payload> standardPayloads();

}  // namespace aw::bench

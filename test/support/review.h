// Test support: AdmissionReview requests shaped like the ones the API server sends.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aw::test {

struct ReviewOptions {
  std::string apiVersion = "admission.k8s.io/v1";
  std::string uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
  std::string operation = "CREATE";
  bool dryRun = false;
  nlohmann::json oldObject = nullptr;
  std::string username = "admin";
  std::vector<std::string> groups = {"system:authenticated", "my-admin-group"};
};

// Group, version and kind are read from the object's apiVersion and kind.
nlohmann::json review(const nlohmann::json& object, const ReviewOptions& options = {});

// A Service with the given ports; public adds the federation public-service label.
nlohmann::json service(const std::string& name, const nlohmann::json& ports, bool isPublic = true);

nlohmann::json federation(const std::string& name, const std::string& trustDomain,
                          const std::string& podCidr = "", const std::string& serviceCidr = "");

// The response object of an AdmissionReview answer (parsed); throws if absent.
nlohmann::json responseOf(const std::string& body);

// The JSONPatch of a response object (base64-decoded and parsed); null when it has none.
nlohmann::json patchOf(const nlohmann::json& response);

}  // namespace aw::test

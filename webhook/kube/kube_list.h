// Reading a collection or one object once: the paginated LIST and the GET by name that the
// reflector starts every watch with, and that `alliance-webhook audit` reads the cluster with.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_path.h"
#include "webhook/kube/kube_client.h"

namespace aw::webhook::kube {

struct ListResult {
  enum class Outcome { Listed, Absent, Failed, Canceled };
  Outcome outcome = Outcome::Failed;
  std::vector<nlohmann::json> items;
  std::string resourceVersion;  // of the list, or of the one object
  std::string error;            // Failed: "LIST /apis/...: HTTP 403 Forbidden: ..."
};

struct ListOptions {
  std::string labelSelector;  // e.g. "federation.istio.deckhouse.io/public-service"
  std::size_t pageSize = 500;
  std::chrono::seconds timeout{60};
};

// Every item of `collection` ("/apis/deckhouse.io/v1alpha1/istiofederations"), page by page
// (limit, continue). Every page of one list is a consistent snapshot at the first page's
// resourceVersion; a continue token the server has compacted away (410) restarts the list, at
// most three times. A 404 on the first page is Absent (the CRD is not installed).
ListResult listAll(const Client& client, const std::string& collection,
                   const ListOptions& options = {}, Interrupt* interrupt = nullptr);

// The one object `name` of `collection`, as a list of one; a 404 is an empty list (Listed).
ListResult getNamed(const Client& client, const std::string& collection, const std::string& name,
                    std::chrono::seconds timeout, Interrupt* interrupt = nullptr);

// The string at `path` in a JSON value ({"metadata", "resourceVersion"}), or nullptr.
using aw::json::stringAt;

// A query value, percent-encoded (continue tokens are base64 and carry '=', '+', '/').
std::string escapeQuery(std::string_view v);

}  // namespace aw::webhook::kube

// bytes -> a JSON object used as a ServiceEntry's spec (or, when it has an apiVersion, as the
// whole ServiceEntry, so metadata and the defaulted annotation are fuzzed too) -> rules::mutate.
// Invariants: the patch is a JSON array that nlohmann's RFC 6902 json::patch applies without
// throwing, and mutating the patched object again yields an empty patch (idempotence).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/json_view.h"
#include "fuzz/common.h"
#include "rules/model/kinds.h"
#include "rules/registry.h"

namespace {

using aw::fuzz::fail;
using nlohmann::json;

const aw::webhook::Snapshot& snapshot() {
  static const std::shared_ptr<const aw::webhook::Snapshot> s =
      aw::webhook::makeSnapshot(aw::fuzz::fuzzConfig());
  return *s;
}

aw::rules::Outcome mutate(const json& object) {
  aw::rules::Request r;
  r.kind = aw::rules::findKind("networking.istio.io", "ServiceEntry");
  r.version = "v1";
  r.operation = aw::rules::Operation::Create;
  r.name = "fuzz";
  r.namespace_ = "default";
  const aw::json::Document document = aw::json::Document::of(object);
  r.object = document.root();
  const aw::rules::Context context{snapshot().alliance, snapshot().config.settings};
  return aw::rules::mutate(r, context);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (aw::rules::findKind("networking.istio.io", "ServiceEntry") == nullptr)
    fail("ServiceEntry is not a known kind");
  snapshot();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json input = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!input.is_object()) return -1;  // not added to the corpus
  json object;
  if (input.contains("apiVersion")) {
    object = std::move(input);
    object["apiVersion"] = "networking.istio.io/v1";
    object["kind"] = "ServiceEntry";
  } else {
    object = {{"apiVersion", "networking.istio.io/v1"},
              {"kind", "ServiceEntry"},
              {"metadata", {{"name", "fuzz"}, {"namespace", "default"}}},
              {"spec", std::move(input)}};
  }

  const aw::rules::Outcome first = mutate(object);
  if (!first.findings.empty()) fail("mutate returned validating findings");
  json operations;
  try {
    operations = first.patch.json();
  } catch (const std::exception& e) {
    fail(std::string("the patch is not JSON: ") + e.what() + "\npatch: " + first.patch.text());
  }
  if (!operations.is_array() || operations.size() != first.patch.size()) {
    fail("the patch is not an array of its operations: " + first.patch.text());
  }
  if (!first.shapeErrors.empty()) {
    if (!first.patch.empty()) fail("a patch despite shape errors: " + first.patch.text());
    return 0;
  }
  if (first.patch.empty()) return 0;

  json patched;
  try {
    patched = object.patch(operations);
  } catch (const std::exception& e) {
    fail(std::string("the patch does not apply: ") + e.what() + "\npatch: " + first.patch.text() +
         "\nobject: " + object.dump());
  }
  const aw::rules::Outcome second = mutate(patched);
  if (!second.shapeErrors.empty())
    fail("the patched object has shape errors: " + second.shapeErrors.front().text() +
         "\npatch: " + first.patch.text());
  if (!second.patch.empty())
    fail("not idempotent: second patch " + second.patch.text() +
         "\nfirst patch: " + first.patch.text() + "\nobject: " + object.dump());
  return 0;
}

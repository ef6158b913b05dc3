#include "webhook/audit/audit_store.h"

#include <malloc.h>

namespace aw::webhook {

namespace {

using Json = nlohmann::json;

std::string keyOf(const Json& object) {
  const Json* meta =
      object.is_object() && object.contains("metadata") && object["metadata"].is_object()
          ? &object["metadata"]
          : nullptr;
  if (meta == nullptr) return {};
  auto text = [&](const char* k) {
    auto it = meta->find(k);
    return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string name = text("name");
  return name.empty() ? std::string() : text("namespace") + "/" + name;
}

}  // namespace

void trimForAudit(Json& object) {
  if (!object.is_object()) return;
  object.erase("status");
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return;
  meta->erase("managedFields");
  auto annotations = meta->find("annotations");
  if (annotations != meta->end() && annotations->is_object()) {
    annotations->erase("kubectl.kubernetes.io/last-applied-configuration");
  }
}

void AuditObjectTable::replace(std::vector<Json> objects) {
  {
    std::lock_guard lock(mutex_);
    objects_.clear();
    for (Json& o : objects) put(std::move(o));
  }
  objects.clear();
  objects.shrink_to_fit();
  // A full list parsed every object whole: give that back rather than keep it as the peak.
  malloc_trim(0);
}

void AuditObjectTable::apply(std::vector<kube::WatchEvent> events) {
  std::lock_guard lock(mutex_);
  for (kube::WatchEvent& e : events) {
    if (e.type == kube::WatchEvent::Type::Deleted) {
      objects_.erase(keyOf(e.object));
    } else {
      put(std::move(e.object));
    }
  }
}

void AuditObjectTable::put(Json object) {
  std::string key = keyOf(object);
  if (key.empty()) return;  // not an object the API server could have stored
  trimForAudit(object);
  auto m = std::make_shared<ManifestObject>();
  m->object = std::move(object);
  objects_.insert_or_assign(std::move(key), std::move(m));
}

void AuditObjectTable::collect(std::vector<std::shared_ptr<const ManifestObject>>& out) const {
  std::lock_guard lock(mutex_);
  out.reserve(out.size() + objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
}

std::size_t AuditObjectTable::size() const {
  std::lock_guard lock(mutex_);
  return objects_.size();
}

}  // namespace aw::webhook

#include "webhook/kube/kube_list.h"

#include <cctype>

#include "webhook/telemetry/log.h"

namespace aw::webhook::kube {

namespace {

using Json = nlohmann::json;
using Outcome = ListResult::Outcome;

ListResult failure(std::string error) {
  ListResult r;
  r.outcome = Outcome::Failed;
  r.error = std::move(error);
  return r;
}

ListResult canceled() {
  ListResult r;
  r.outcome = Outcome::Canceled;
  return r;
}

enum class Page { More, Done, Restart };

// One page into `into`; `cont` is the continue token in, the next one out.
Page readPage(const Response& r, ListResult& into, std::string& cont, const std::string& what) {
  if (r.status == 410 && !cont.empty()) return Page::Restart;
  if (!r.ok()) {
    into = failure("LIST " + what + ": " + describeFailure(r));
    return Page::Done;
  }
  Json page = Json::parse(r.body, nullptr, false);
  const Json* items = page.is_object() && page.contains("items") ? &page["items"] : nullptr;
  const std::string* rv =
      page.is_object() ? stringAt(page, {"metadata", "resourceVersion"}) : nullptr;
  if (items == nullptr || !(items->is_array() || items->is_null()) || rv == nullptr) {
    into = failure("LIST " + what +
                   ": the answer is not a Kubernetes list (items, metadata.resourceVersion)");
    return Page::Done;
  }
  if (into.resourceVersion.empty()) into.resourceVersion = *rv;
  // The API server leaves apiVersion and kind out of the items of a built-in type's list; they
  // are the list's, as client-go's decoder sets them.
  const std::string* apiVersion = stringAt(page, {"apiVersion"});
  const std::string* listKind = stringAt(page, {"kind"});
  if (items->is_array()) {
    for (Json& item : page["items"]) {
      if (item.is_object() && !item.contains("kind") && listKind != nullptr &&
          listKind->ends_with("List")) {
        item["kind"] = listKind->substr(0, listKind->size() - 4);
        if (apiVersion != nullptr) item["apiVersion"] = *apiVersion;
      }
      into.items.push_back(std::move(item));
    }
  }
  const std::string* next = stringAt(page, {"metadata", "continue"});
  cont = next != nullptr ? *next : "";
  return cont.empty() ? Page::Done : Page::More;
}

}  // namespace

std::string escapeQuery(std::string_view v) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ListResult listAll(const Client& client, const std::string& collection, const ListOptions& options,
                   Interrupt* interrupt) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    ListResult result;
    result.outcome = Outcome::Listed;
    std::string cont;
    Page page = Page::More;
    while (page == Page::More) {
      std::string target = collection + "?limit=" + std::to_string(options.pageSize);
      if (!options.labelSelector.empty()) {
        target += "&labelSelector=" + escapeQuery(options.labelSelector);
      }
      if (!cont.empty()) target += "&continue=" + escapeQuery(cont);
      const Response r = client.get(target, options.timeout, interrupt);
      if (r.canceled) return canceled();
      if (r.status == 404 && r.error.empty() && cont.empty()) {
        ListResult absent;
        absent.outcome = Outcome::Absent;
        return absent;
      }
      page = readPage(r, result, cont, collection);
    }
    if (page == Page::Done) return result;
    log::info("cluster state: " + collection +
              ": the list's continue token expired; listing again from the start");
  }
  return failure("LIST " + collection + ": the list kept expiring while it was read");
}

ListResult getNamed(const Client& client, const std::string& collection, const std::string& name,
                    std::chrono::seconds timeout, Interrupt* interrupt) {
  const Response r = client.get(collection + "/" + escapeQuery(name), timeout, interrupt);
  if (r.canceled) return canceled();
  ListResult result;
  if (r.status == 404 && r.error.empty()) {
    result.outcome = Outcome::Listed;  // not there (yet): nothing to mirror
    return result;
  }
  Json object = r.ok() ? Json::parse(r.body, nullptr, false) : Json();
  const std::string* rv =
      object.is_object() ? stringAt(object, {"metadata", "resourceVersion"}) : nullptr;
  if (rv == nullptr) {
    return failure(
        "GET " + collection + "/" + name + ": " +
        (r.ok() ? "not a Kubernetes object (no metadata.resourceVersion)" : describeFailure(r)));
  }
  result.outcome = Outcome::Listed;
  result.resourceVersion = *rv;
  result.items.push_back(std::move(object));
  return result;
}

}  // namespace aw::webhook::kube

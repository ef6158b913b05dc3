#include "test/support/review.h"

#include <openssl/evp.h>

namespace aw::test {

using nlohmann::json;

json review(const json& object, const ReviewOptions& o) {
  const std::string apiVersion = object.value("apiVersion", "v1");
  const auto slash = apiVersion.find('/');
  const std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  const std::string version =
      slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  const std::string kind = object.value("kind", "");
  std::string resource = kind;
  for (char& c : resource) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  resource += kind == "ServiceEntry" ? "" : "s";
  if (kind == "ServiceEntry") resource = "serviceentries";
  const json meta = object.value("metadata", json::object());
  json request = {
      {"uid", o.uid},
      {"kind", {{"group", group}, {"version", version}, {"kind", kind}}},
      {"resource", {{"group", group}, {"version", version}, {"resource", resource}}},
      {"requestKind", {{"group", group}, {"version", version}, {"kind", kind}}},
      {"requestResource", {{"group", group}, {"version", version}, {"resource", resource}}},
      {"name", meta.value("name", "")},
      {"operation", o.operation},
      {"userInfo",
       {{"username", o.username},
        {"uid", "014fbff9a07c"},
        {"groups", o.groups},
        {"extra", {{"some-key", {"some-value1", "some-value2"}}}}}},
      {"object", o.operation == "DELETE" ? json(nullptr) : object},
      {"oldObject", o.oldObject},
      {"dryRun", o.dryRun},
      {"options",
       {{"apiVersion", "meta.k8s.io/v1"},
        {"kind", o.operation == "UPDATE" ? "UpdateOptions" : "CreateOptions"}}},
  };
  if (meta.contains("namespace")) request["namespace"] = meta["namespace"];
  return {{"apiVersion", o.apiVersion}, {"kind", "AdmissionReview"}, {"request", request}};
}

json service(const std::string& name, const json& ports, bool isPublic) {
  json labels = json::object();
  labels["app"] = name;
  if (isPublic) labels["federation.istio.deckhouse.io/public-service"] = "";
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"spec", {{"selector", {{"app", name}}}, {"ports", ports}}}};
}

json federation(const std::string& name, const std::string& trustDomain, const std::string& podCidr,
                const std::string& serviceCidr) {
  json annotations = json::object();
  if (!podCidr.empty()) annotations["alliance-webhook.io/pod-subnet-cidr"] = podCidr;
  if (!serviceCidr.empty()) annotations["alliance-webhook.io/service-subnet-cidr"] = serviceCidr;
  return {{"apiVersion", "deckhouse.io/v1alpha1"},
          {"kind", "IstioFederation"},
          {"metadata", {{"name", name}, {"annotations", annotations}}},
          {"spec",
           {{"metadataEndpoint", "https://istio." + name + ".example.com/metadata/"},
            {"trustDomain", trustDomain}}}};
}

json responseOf(const std::string& body) {
  return json::parse(body).at("response");
}

json patchOf(const json& response) {
  if (!response.contains("patch")) return nullptr;
  const std::string in = response["patch"].get<std::string>();
  std::string out(in.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t pad = in.size() - in.find_last_not_of('=') - 1; pad > 0 && !out.empty(); --pad) {
    out.pop_back();
  }
  return json::parse(out);
}

}  // namespace aw::test

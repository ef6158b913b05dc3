#include "bench/payloads.h"

#include <cstdio>

#include "test/support/review.h"

namespace aw::bench {

using nlohmann::json;

namespace {

std::string ipv4(std::size_t i) {
  // 10.64.0.0/10 walked in order: never the subnets of examples/config.yaml.
  char buf[32];
  std::snprintf(buf, sizeof buf, "10.%zu.%zu.%zu", 64 + (i / 65536) % 64, (i / 256) % 256, i % 256);
  return buf;
}

// managedFields as the API server keeps them: one entry per manager, fieldsV1 mirroring the
// fields it owns.
json managedFields(const json& labels, const json& annotations, const json& ports) {
  json metaFields = json::object();
  json labelFields = {{".", json::object()}};
  for (auto it = labels.begin(); it != labels.end(); ++it)
    labelFields["f:" + it.key()] = json::object();
  json annotationFields = {{".", json::object()}};
  for (auto it = annotations.begin(); it != annotations.end(); ++it)
    annotationFields["f:" + it.key()] = json::object();
  metaFields["f:labels"] = labelFields;
  metaFields["f:annotations"] = annotationFields;
  json portFields = {{".", json::object()}};
  for (const json& p : ports) {
    const std::string key = "k:{\"port\":" + std::to_string(p["port"].get<int>()) +
                            ",\"protocol\":\"" + p.value("protocol", "TCP") + "\"}";
    portFields[key] = {{".", json::object()},
                       {"f:name", json::object()},
                       {"f:port", json::object()},
                       {"f:protocol", json::object()},
                       {"f:targetPort", json::object()}};
  }
  json helm = {{"manager", "helm"},
               {"operation", "Update"},
               {"apiVersion", "v1"},
               {"time", "2024-05-14T09:21:07Z"},
               {"fieldsType", "FieldsV1"},
               {"fieldsV1",
                {{"f:metadata", metaFields},
                 {"f:spec",
                  {{"f:internalTrafficPolicy", json::object()},
                   {"f:ports", portFields},
                   {"f:selector", json::object()},
                   {"f:sessionAffinity", json::object()},
                   {"f:type", json::object()}}}}}};
  json label = {
      {"manager", "kubectl-label"},
      {"operation", "Update"},
      {"apiVersion", "v1"},
      {"time", "2024-05-20T13:02:44Z"},
      {"fieldsType", "FieldsV1"},
      {"fieldsV1",
       {{"f:metadata",
         {{"f:labels", {{"f:federation.istio.deckhouse.io/public-service", json::object()}}}}}}}};
  return json::array({helm, label});
}

}  // namespace

json publicService() {
  const json labels = {{"app", "reviews"},
                       {"app.kubernetes.io/name", "reviews"},
                       {"app.kubernetes.io/instance", "bookinfo"},
                       {"app.kubernetes.io/part-of", "bookinfo"},
                       {"app.kubernetes.io/managed-by", "Helm"},
                       {"helm.sh/chart", "reviews-1.4.2"},
                       {"federation.istio.deckhouse.io/public-service", ""}};
  const json annotations = {{"meta.helm.sh/release-name", "bookinfo"},
                            {"meta.helm.sh/release-namespace", "bookinfo"},
                            {"prometheus.io/scrape", "true"},
                            {"prometheus.io/port", "15020"}};
  const json ports = json::array({
      {{"name", "http"}, {"port", 9080}, {"protocol", "TCP"}, {"targetPort", 9080}},
      {{"name", "grpc-api"}, {"port", 9090}, {"protocol", "TCP"}, {"targetPort", 9090}},
      {{"name", "http-metrics"}, {"port", 15020}, {"protocol", "TCP"}, {"targetPort", 15020}},
  });
  json metadata = {{"name", "reviews"},
                   {"namespace", "bookinfo"},
                   {"uid", "8b1c3f5e-9d2a-4f6b-a7c1-2e4d6f8a0b13"},
                   {"resourceVersion", "48213377"},
                   {"creationTimestamp", "2024-05-14T09:21:07Z"},
                   {"labels", labels},
                   {"annotations", annotations}};
  metadata["managedFields"] = managedFields(labels, annotations, ports);
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata},
          {"spec",
           {{"clusterIP", "10.222.14.7"},
            {"clusterIPs", {"10.222.14.7"}},
            {"internalTrafficPolicy", "Cluster"},
            {"ipFamilies", {"IPv4"}},
            {"ipFamilyPolicy", "SingleStack"},
            {"ports", ports},
            {"selector", {{"app", "reviews"}, {"app.kubernetes.io/instance", "bookinfo"}}},
            {"sessionAffinity", "None"},
            {"type", "ClusterIP"}}},
          {"status", {{"loadBalancer", json::object()}}}};
}

json federation(const std::string& name, const std::string& podCidr,
                const std::string& serviceCidr) {
  json object = test::federation(name, name + ".local", podCidr, serviceCidr);
  json& meta = object["metadata"];
  meta["uid"] = "3f0c9a7e-51d2-4c1b-9e8f-7a6b5c4d3e2f";
  meta["resourceVersion"] = "1170031";
  meta["creationTimestamp"] = "2024-05-14T09:30:00Z";
  meta["generation"] = 1;
  meta["labels"] = {{"app.kubernetes.io/managed-by", "alliance-operator"},
                    {"alliance.deckhouse.io/member", name}};
  meta["managedFields"] =
      json::array({{{"manager", "alliance-operator"},
                    {"operation", "Update"},
                    {"apiVersion", "deckhouse.io/v1alpha1"},
                    {"time", "2024-05-14T09:30:00Z"},
                    {"fieldsType", "FieldsV1"},
                    {"fieldsV1",
                     {{"f:metadata",
                       {{"f:annotations",
                         {{".", json::object()},
                          {"f:alliance-webhook.io/pod-subnet-cidr", json::object()},
                          {"f:alliance-webhook.io/service-subnet-cidr", json::object()}}},
                        {"f:labels",
                         {{".", json::object()},
                          {"f:app.kubernetes.io/managed-by", json::object()},
                          {"f:alliance.deckhouse.io/member", json::object()}}}}},
                      {"f:spec",
                       {{".", json::object()},
                        {"f:metadataEndpoint", json::object()},
                        {"f:trustDomain", json::object()}}}}}}});
  return object;
}

json serviceEntry(std::size_t endpoints, std::size_t hosts, std::size_t ports) {
  json hostList = json::array();
  for (std::size_t h = 0; h < std::max<std::size_t>(hosts, 1); ++h) {
    hostList.push_back(h == 0 ? std::string("api.payments.example.com")
                              : "api-" + std::to_string(h) + ".payments.example.com");
  }
  json portList = json::array();
  for (std::size_t p = 0; p < ports; ++p) {
    portList.push_back({{"number", p == 0 ? 443 : static_cast<int>(8000 + p)}});
  }
  json endpointList = json::array();
  for (std::size_t e = 0; e < endpoints; ++e) {
    endpointList.push_back({{"address", ipv4(e)},
                            {"ports", {{"https", 8443}}},
                            {"labels", {{"app", "payments"}, {"version", e % 2 ? "v2" : "v1"}}},
                            {"locality", e % 3 ? "eu-west/zone-a" : "eu-west/zone-b"},
                            {"weight", 1 + e % 10}});
  }
  return {{"apiVersion", "networking.istio.io/v1beta1"},
          {"kind", "ServiceEntry"},
          {"metadata",
           {{"name", "payments-external"},
            {"namespace", "payments"},
            {"labels", {{"app", "payments"}}},
            {"annotations", {{"owner", "team-payments"}}}}},
          {"spec", {{"hosts", hostList}, {"ports", portList}, {"endpoints", endpointList}}}};
}

json serviceEntryOfSize(std::size_t bytes) {
  // Grow geometrically, then bisect: the size is monotonic in the endpoint count.
  std::size_t lo = 1, hi = 1;
  auto size = [](std::size_t n) { return reviewBody(serviceEntry(n, n / 20, 4)).size(); };
  while (size(hi) < bytes) {
    lo = hi;
    hi *= 2;
  }
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (size(mid) < bytes) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return serviceEntry(hi, hi / 20, 4);
}

std::string reviewBody(const json& object) {
  test::ReviewOptions options;
  options.uid = "b2a3c4d5-0000-4000-8000-00000000be4c";
  json review = test::review(object, options);
  // The API server names the user and groups of a real service account.
  review["request"]["userInfo"] = {
      {"username", "system:serviceaccount:argocd:argocd-application-controller"},
      {"uid", "9c2f0d5e-3b1a-4c7d-8e6f-0a1b2c3d4e5f"},
      {"groups",
       {"system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"}}};
  return review.dump();
}

std::vector<Payload> standardPayloads() {
  std::vector<Payload> out;
  out.push_back({"service", "/validate", reviewBody(publicService()),
                 "public Service, 3 named ports, managedFields"});
  out.push_back({"federation", "/validate", reviewBody(federation()),
                 "IstioFederation with pod and service subnet annotations"});
  out.push_back({"se100", "/mutate", reviewBody(serviceEntry(100)),
                 "ServiceEntry, 100 endpoints, every default applies"});
  const json big = serviceEntryOfSize(1024 * 1024);
  out.push_back({"se1m", "/mutate", reviewBody(big),
                 "ServiceEntry ~1 MiB: " + std::to_string(big["spec"]["endpoints"].size()) +
                     " endpoints, " + std::to_string(big["spec"]["hosts"].size()) + " hosts"});
  return out;
}

}  // namespace aw::bench

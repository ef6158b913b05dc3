// No input of any shape makes a rule throw, and every message keeps the contract: a field
// path, an explanation without "; " or line breaks. Random objects are built from the very
// field names the rules read, with values of every JSON type.
#include <gtest/gtest.h>

#include <random>

#include "common/json_view.h"
#include "rules/model/keys.h"
#include "rules/registry.h"
#include "test/support/json_patch.h"
#include "webhook/state/config.h"

namespace aw::rules {
namespace {

using nlohmann::json;

class RandomJson {
 public:
  explicit RandomJson(unsigned seed) : rng_(seed) {}

  json object(int depth) {
    json o = json::object();
    const int n = between(0, 5);
    for (int i = 0; i < n; ++i) o[key()] = value(depth - 1);
    return o;
  }

  json value(int depth) {
    switch (between(0, depth > 0 ? 9 : 5)) {
      case 0:
        return nullptr;
      case 1:
        return between(0, 1) == 1;
      case 2:
        return between(-5, 70000);
      case 3:
        return 1.5;
      case 4:
      case 5:
        return text();
      case 6:
      case 7:
        return object(depth);
      default: {
        json a = json::array();
        const int n = between(0, 4);
        for (int i = 0; i < n; ++i)
          a.push_back(between(0, 2) ? object(depth - 1) : value(depth - 1));
        return a;
      }
    }
  }

  json kubernetesObject(std::string_view apiVersion, std::string_view kind) {
    json o = object(4);
    o["apiVersion"] = apiVersion;
    o["kind"] = kind;
    if (between(0, 3)) {
      json metadata = between(0, 4) ? object(2) : value(2);
      if (metadata.is_object()) {
        metadata["name"] = between(0, 5) ? json("cluster-b") : value(1);
        json annotations = json::object();
        for (std::string_view k : {keys::kPodSubnetAnnotation, keys::kServiceSubnetAnnotation,
                                   keys::kClusterDomainAnnotation, keys::kDefaultedAnnotation}) {
          if (between(0, 1)) annotations[std::string(k)] = between(0, 4) ? json(text()) : value(1);
        }
        metadata["annotations"] = between(0, 6) ? annotations : value(1);
        if (between(0, 1)) {
          metadata["labels"] = {{std::string(keys::kPublicServiceLabel), text()}};
        }
      }
      o["metadata"] = metadata;
    }
    return o;
  }

 private:
  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string key() {
    static const std::vector<std::string> kKeys = {"spec",
                                                   "ports",
                                                   "name",
                                                   "port",
                                                   "protocol",
                                                   "appProtocol",
                                                   "number",
                                                   "targetPort",
                                                   "trustDomain",
                                                   "enableIngressGateway",
                                                   "hosts",
                                                   "endpoints",
                                                   "address",
                                                   "network",
                                                   "addresses",
                                                   "resolution",
                                                   "location",
                                                   "metadata",
                                                   "annotations",
                                                   "labels",
                                                   "x"};
    return kKeys[static_cast<std::size_t>(between(0, static_cast<int>(kKeys.size()) - 1))];
  }

  std::string text() {
    static const std::vector<std::string> kTexts = {"",
                                                    " ",
                                                    "http-web",
                                                    "web",
                                                    "cluster.local",
                                                    "Cluster-B.local.",
                                                    "cluster-a.local",
                                                    "10.111.0.0/16",
                                                    "10.112.0.1/16",
                                                    "10.112.0.0/16, fd00::/8",
                                                    ",,",
                                                    "a; b",
                                                    "x;\ny",
                                                    "fd00::1/64",
                                                    "::/0",
                                                    "0.0.0.0/0",
                                                    "010.1.2.3/8",
                                                    "192.0.2.1",
                                                    "unix:///s",
                                                    "api.example.com",
                                                    "*.cluster-c.local",
                                                    "UDP",
                                                    "SCTP",
                                                    "\xff\xfe",
                                                    std::string(300, 'a'),
                                                    "spec.resolution",
                                                    "TCP",
                                                    "GRPC-Web"};
    return kTexts[static_cast<std::size_t>(between(0, static_cast<int>(kTexts.size()) - 1))];
  }

  std::mt19937 rng_;
};

void checkFindings(const std::vector<Finding>& findings) {
  for (const Finding& f : findings) {
    EXPECT_TRUE(f.rule == kObjectShapeRule || findRule(f.rule) != nullptr) << f.rule;
    EXPECT_FALSE(f.path.empty()) << f.text();
    EXPECT_FALSE(f.message.empty()) << f.text();
    EXPECT_EQ(f.message.find("; "), std::string::npos) << f.text();
    EXPECT_EQ(f.message.find('\n'), std::string::npos) << f.text();
    EXPECT_NE(f.action, Action::Off) << f.text();
  }
}

TEST(Robustness, RandomObjectsNeverThrowAndKeepTheMessageContract) {
  const webhook::ConfigResult parsed = webhook::parseConfig(R"(
localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: [10.111.0.0/16, fd00:111::/48]
  serviceSubnetCIDR: 10.222.0.0/16
members:
  - {name: cluster-b, podSubnetCIDR: 10.112.0.0/16, clusterDomain: cluster-b.local}
  - {name: cluster-b, kind: IstioMulticluster, serviceSubnetCIDR: 10.221.0.0/16}
rules:
  service-port-protocol: {scope: all}
  subnet-overlap: {unknownSubnets: deny}
)",
                                                            "test", ".");
  ASSERT_TRUE(parsed.config) << parsed.error;
  const Alliance alliance(parsed.config->local, parsed.config->members);
  const Context context{alliance, parsed.config->settings};
  RandomJson random(42);
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"v1", "Service"},
      {"deckhouse.io/v1alpha1", "IstioFederation"},
      {"deckhouse.io/v1alpha1", "IstioMulticluster"},
      {"networking.istio.io/v1", "ServiceEntry"}};

  int shapeErrors = 0, findings = 0, patches = 0;
  for (int round = 0; round < 20000; ++round) {
    const auto& [apiVersion, kind] = kinds[static_cast<std::size_t>(round) % kinds.size()];
    const json object =
        round % 97 == 0 ? random.value(2) : random.kubernetesObject(apiVersion, kind);
    const json old = random.kubernetesObject(apiVersion, kind);
    Request request;
    request.kind = findKind(groupOfApiVersion(apiVersion), kind);
    request.operation = round % 3 == 0 ? Operation::Update : Operation::Create;
    request.name = "cluster-b";
    const aw::json::Document objectDocument = aw::json::Document::of(object);
    const aw::json::Document oldDocument = aw::json::Document::of(old);
    request.object = objectDocument.root();
    if (request.operation == Operation::Update) request.oldObject = oldDocument.root();

    Outcome validated, mutated;
    ASSERT_NO_THROW(validated = validate(request, context)) << object.dump();
    ASSERT_NO_THROW(mutated = mutate(request, context)) << object.dump();
    checkFindings(validated.findings);
    checkFindings(validated.shapeErrors);
    checkFindings(mutated.shapeErrors);
    EXPECT_TRUE(validated.patch.empty());
    shapeErrors += !validated.shapeErrors.empty();
    findings += static_cast<int>(validated.findings.size());
    if (!mutated.patch.empty()) {
      ++patches;
      ASSERT_NO_THROW(test::applyPatch(object, mutated.patch.json())) << object.dump() << "\n"
                                                                      << mutated.patch.text();
    }
  }
  // The generator reaches both the shape check and the rules behind it.
  EXPECT_GT(shapeErrors, 1000);
  EXPECT_GT(findings, 1000);
  EXPECT_GT(patches, 20);
}

}  // namespace
}  // namespace aw::rules

// serviceentry-defaults: every case of fixtures/serviceentry-defaults.yaml, then properties over
// many generated ServiceEntries: the patch applies, never overwrites or removes a field, is
// idempotent, records exactly what it set, introduces no violation of the ServiceEntry CRD, and
// picks resolution and location as independent oracles say.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "common/json_view.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"
#include "rules/registry.h"
#include "test/support/json_patch.h"
#include "test/support/rule_fixture.h"
#include "test/support/serviceentry_crd.h"

AW_RULE_FIXTURE_TESTS(ServiceEntryDefaults, "serviceentry-defaults.yaml");

namespace aw::test {
namespace {

using nlohmann::json;

constexpr const char* kConfig = R"(
localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: 10.111.0.0/16
  serviceSubnetCIDR: 10.222.0.0/16
members:
  - {name: cluster-c, clusterDomain: cluster-c.local}
  - {name: cluster-m, kind: IstioMulticluster, clusterDomain: Cluster-M.Local.}
)";

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  json serviceEntry() {
    json se = {{"apiVersion", "networking.istio.io/v1"}, {"kind", "ServiceEntry"}};
    if (chance(95)) se["metadata"] = metadata();
    json spec = json::object();
    if (chance(90)) spec["hosts"] = hosts();
    if (chance(85)) spec["ports"] = ports();
    if (chance(60)) spec["endpoints"] = endpoints();
    if (chance(25)) spec["addresses"] = addresses();
    if (chance(20)) spec["resolution"] = pick({"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"});
    if (chance(20)) spec["location"] = pick({"MESH_EXTERNAL", "MESH_INTERNAL"});
    if (chance(5)) spec["resolution"] = nullptr;
    se["spec"] = spec;
    return se;
  }

 private:
  bool chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string pick(std::initializer_list<const char*> items) {
    return *(items.begin() + between(0, static_cast<int>(items.size()) - 1));
  }

  json metadata() {
    json m = {{"name", "se-" + std::to_string(between(0, 999))}, {"namespace", "default"}};
    if (chance(50)) {
      json a = json::object();
      if (chance(50)) a["team"] = "mesh";
      if (chance(40)) {
        a[std::string(rules::keys::kDefaultedAnnotation)] =
            pick({"", "spec.resolution", "spec.ports[0].protocol,spec.location", "x"});
      }
      m["annotations"] = a;
    } else if (chance(10)) {
      m["annotations"] = nullptr;
    }
    return m;
  }

  json hosts() {
    json h = json::array();
    const int n = between(0, 4);
    for (int i = 0; i < n; ++i) {
      h.push_back(pick({"api.example.com", "bar.ns.svc.cluster-a.local", "cluster-c.local",
                        "*.cluster-c.local", "Baz.svc.CLUSTER-C.local.", "x.cluster-m.local",
                        "x.notcluster-c.local", "foo.svc.cluster.local", "db.internal"}));
    }
    return h;
  }

  json ports() {
    json list = json::array();
    const int n = between(0, 6);
    std::set<int> numbers;
    for (int i = 0; i < n; ++i) {
      json p = json::object();
      if (chance(92)) {
        int number = pick({"80", "443", "8080", "9090", "5432"}) == "80" ? 80 : between(1, 65535);
        while (numbers.contains(number)) number = between(1, 65535);
        numbers.insert(number);
        p["number"] = number;
      }
      if (chance(50)) {
        p["name"] = pick({"http-web", "grpc", "GRPC-Web-ui", "web", "tcp-80", "tcp-80-2", "mongo",
                          "redis-cache", "tls", "http2", "https-admin"});
      } else if (chance(10)) {
        p["name"] = nullptr;
      }
      if (chance(40)) {
        p["protocol"] = pick({"HTTP", "TCP", "GRPC-Web", "", "Mongo", "TLS", "http"});
      } else if (chance(10)) {
        p["protocol"] = nullptr;
      }
      if (chance(30)) p["targetPort"] = between(1, 65535);
      list.push_back(p);
    }
    return list;
  }

  json endpoints() {
    json list = json::array();
    const int n = between(0, 3);
    for (int i = 0; i < n; ++i) {
      json e = json::object();
      if (chance(85)) {
        e["address"] = pick({"192.0.2.10", "2001:db8::1", "::ffff:192.0.2.1",
                             "unix:///var/run/a.sock", "api-1.example.com", "db.internal", ""});
      }
      if (!e.contains("address") || chance(20)) e["network"] = "network-b";
      list.push_back(e);
    }
    return list;
  }

  json addresses() {
    json list = json::array();
    list.push_back(pick({"192.0.2.0/24", "192.0.2.1", "2001:db8::/64", "240.0.0.1"}));
    return list;
  }

  std::mt19937 rng_;
};

// --- independent oracles ---------------------------------------------------------------------

bool isIp(const std::string& a) {
  unsigned char buf[16];
  return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// SPEC §6 resolution, with the CRD constraints: "" means left unset.
std::string expectedResolution(const json& spec) {
  if (!spec.contains("endpoints") || spec["endpoints"].is_null()) return "NONE";
  bool host = false;
  for (const json& e : spec["endpoints"]) {
    const std::string a = e.value("address", "");
    if (!a.empty() && !a.starts_with("unix://") && !isIp(a)) host = true;
  }
  if (!host) return "STATIC";
  for (const json& a : spec.value("addresses", json::array())) {
    if (a.get<std::string>().find('/') != std::string::npos) return "";
  }
  return "DNS";
}

std::string expectedLocation(const json& spec, const rules::Alliance& alliance) {
  if (!spec.contains("hosts") || spec["hosts"].empty()) return "";
  for (const json& h : spec["hosts"]) {
    bool internal = rules::hostUnderDomain(h.get<std::string>(), alliance.local().domain);
    for (const rules::Member& m : alliance.members()) {
      internal = internal || rules::hostUnderDomain(h.get<std::string>(), m.domain);
    }
    if (!internal) return "MESH_EXTERNAL";
  }
  return "MESH_INTERNAL";
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 1;
  }
}

// "/spec/ports/1/name" -> "spec.ports[1].name"
std::string fieldPath(const std::string& pointer) {
  std::string out;
  for (const std::string& token : pointerTokens(pointer)) {
    if (!token.empty() && token.find_first_not_of("0123456789") == std::string::npos) {
      out += "[" + token + "]";
    } else {
      out += (out.empty() ? "" : ".") + token;
    }
  }
  return out;
}

std::string annotationOf(const json& object) {
  const json::json_pointer p("/metadata/annotations/alliance-webhook.io~1defaulted");
  return object.contains(p) && object.at(p).is_string() ? object.at(p).get<std::string>() : "";
}

TEST(ServiceEntryDefaultsProperties, GeneratedServiceEntries) {
  webhook::ConfigResult parsed = webhook::parseConfig(kConfig, "generated", ".");
  ASSERT_TRUE(parsed.config) << parsed.error;
  const rules::Alliance alliance(parsed.config->local, parsed.config->members);
  const rules::Context context{alliance, parsed.config->settings};
  Generator generate(20240611);
  int patched = 0;

  for (int round = 0; round < 3000; ++round) {
    const json original = generate.serviceEntry();
    SCOPED_TRACE("object: " + original.dump());
    rules::Request request;
    request.kind = &rules::kindInfo(rules::KindId::ServiceEntry);
    const aw::json::Document originalDocument = aw::json::Document::of(original);
    request.object = originalDocument.root();
    const rules::Outcome out = rules::mutate(request, context);
    ASSERT_TRUE(out.shapeErrors.empty());
    ASSERT_TRUE(out.findings.empty());
    const json patch = out.patch.json();

    // Applies, exactly as nlohmann's own RFC 6902 implementation applies it.
    json result;
    ASSERT_NO_THROW(result = applyPatch(original, patch)) << patch.dump();
    ASSERT_EQ(result, original.patch(patch));
    if (!patch.empty()) ++patched;

    // Cost follows what changed: at most protocol and name per port, resolution, location and
    // the annotation.
    const std::size_t ports = original["spec"].value("ports", json::array()).size();
    EXPECT_LE(patch.size(), 2 * ports + 3);

    // Idempotent.
    const aw::json::Document resultDocument = aw::json::Document::of(result);
    request.object = resultDocument.root();
    const rules::Outcome again = rules::mutate(request, context);
    EXPECT_TRUE(again.patch.empty()) << "second patch: " << again.patch.text();

    // Never overwrites or removes: every non-null leaf keeps its value (the defaulted
    // annotation is only appended to), and every add targets an absent or null member.
    const json flat = original.flatten();
    const std::string before = annotationOf(original);
    for (auto it = flat.begin(); it != flat.end(); ++it) {
      if (it->is_null()) continue;
      const json::json_pointer p(it.key());
      ASSERT_TRUE(result.contains(p)) << it.key() << " was removed";
      if (it.key() == "/metadata/annotations/alliance-webhook.io~1defaulted") {
        EXPECT_TRUE(result.at(p).get<std::string>().starts_with(before));
      } else if (it->is_structured()) {
        EXPECT_EQ(result.at(p).type(), it->type()) << it.key();  // empty container stays one
      } else {
        EXPECT_EQ(result.at(p), *it) << it.key() << " was changed";
      }
    }
    std::vector<std::string> setPaths;
    for (const json& op : patch) {
      const std::string pointer = op["path"];
      const bool annotation = pointer.starts_with("/metadata");
      if (op["op"] == "replace") {
        EXPECT_EQ(pointer, "/metadata/annotations/alliance-webhook.io~1defaulted");
        continue;
      }
      ASSERT_EQ(op["op"], "add");
      const json::json_pointer p(pointer);
      EXPECT_TRUE(!original.contains(p) || original.at(p).is_null()) << pointer << " overwritten";
      if (!annotation) setPaths.push_back(fieldPath(pointer));
    }

    // The annotation records exactly what was set, appended, in order, without duplicates.
    std::vector<std::string> recorded;
    if (!setPaths.empty()) {
      const std::string after = annotationOf(result);
      const std::vector<std::string> old =
          before.empty() ? std::vector<std::string>{} : split(before);
      std::vector<std::string> expected = old;
      for (const std::string& p : setPaths) {
        if (std::find(expected.begin(), expected.end(), p) == expected.end()) expected.push_back(p);
      }
      EXPECT_EQ(split(after), expected);
    } else {
      EXPECT_EQ(annotationOf(result), before);
    }

    // resolution and location as the oracles say.
    const json& spec = original["spec"];
    if (!spec.contains("resolution") || spec["resolution"].is_null()) {
      const std::string r = expectedResolution(spec);
      if (r.empty()) {
        EXPECT_FALSE(result["spec"].contains("resolution") &&
                     !result["spec"]["resolution"].is_null());
      } else {
        EXPECT_EQ(result["spec"].value("resolution", ""), r);
      }
    }
    if (!spec.contains("location")) {
      EXPECT_EQ(result["spec"].value("location", ""), expectedLocation(spec, alliance));
    }

    // The CRD: the defaults introduce no violation, and repair the ones they are about.
    const std::vector<std::string> was = serviceEntryCrdViolations(original);
    for (const std::string& v : serviceEntryCrdViolations(result)) {
      EXPECT_NE(std::find(was.begin(), was.end(), v), was.end()) << "introduced: " << v;
    }
    for (const json& port : result["spec"].value("ports", json::array())) {
      if (port.contains("number")) {
        EXPECT_TRUE(port.contains("name") && port["name"].is_string()) << port.dump();
      }
    }
  }
  EXPECT_GT(patched, 2000);  // the generator exercises the defaults, not just complete objects
}

TEST(ServiceEntryDefaultsProperties, ValidEntriesStayValid) {
  // Objects whose only gaps are the defaulted fields come out fully valid, except where SPEC §6
  // leaves resolution unset next to a CIDR address (the user must choose).
  webhook::ConfigResult parsed = webhook::parseConfig(kConfig, "generated", ".");
  ASSERT_TRUE(parsed.config) << parsed.error;
  const rules::Alliance alliance(parsed.config->local, parsed.config->members);
  const rules::Context context{alliance, parsed.config->settings};
  Generator generate(7);
  int checked = 0;
  for (int round = 0; round < 3000; ++round) {
    json object = generate.serviceEntry();
    json& spec = object["spec"];
    spec.erase("resolution");
    spec.erase("location");
    if (!spec.contains("hosts") || spec["hosts"].empty()) spec["hosts"] = {"api.example.com"};
    if (spec.contains("ports")) {
      json kept = json::array();
      for (json& p : spec["ports"]) {
        if (p.contains("number")) kept.push_back(p);
      }
      spec["ports"] = kept;
    }
    std::set<std::string> names;
    bool duplicateUserNames = false;
    for (const json& p : spec.value("ports", json::array())) {
      if (p.contains("name") && p["name"].is_string()) {
        duplicateUserNames |= !names.insert(p["name"].get<std::string>()).second;
      }
    }
    if (duplicateUserNames) continue;
    rules::Request request;
    request.kind = &rules::kindInfo(rules::KindId::ServiceEntry);
    const aw::json::Document document = aw::json::Document::of(object);
    request.object = document.root();
    const json result = applyPatch(object, rules::mutate(request, context).patch.json());
    const bool cidrAndDns = !result["spec"].contains("resolution");
    const std::vector<std::string> violations = serviceEntryCrdViolations(result);
    if (cidrAndDns) {
      EXPECT_EQ(violations, std::vector<std::string>{"spec: NONE mode cannot set endpoints"});
    } else {
      EXPECT_TRUE(violations.empty()) << result.dump() << "\n" << violations.front();
    }
    ++checked;
  }
  EXPECT_GT(checked, 2000);
}

}  // namespace
}  // namespace aw::test

// The installation manifests, as `kubectl kustomize` renders them: manifests/, the base, every
// overlay, and the overlay certs/make-certs.sh --kustomize generates. Checks the invariants an
// installation must keep: webhooks registered for exactly the kinds of rules/model/kinds.cpp, on
// the paths the server serves, safe admission settings, a hardened and highly available Deployment,
// and a configuration that agrees with the rule registry and with the webhook selectors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "rules/model/keys.h"
#include "rules/model/kinds.h"
#include "rules/registry.h"
#include "test/support/process.h"

namespace fs = std::filesystem;

namespace {

using aw::test::readFile;
using aw::test::RunResult;
using aw::test::shellQuote;
RunResult run(const std::string& command) {
  return aw::test::runShell(command);
}

const fs::path kSource = AW_SOURCE_DIR;
constexpr const char* kMutatingWebhook = "serviceentry-defaults.alliance-webhook.io";
constexpr const char* kObjectName = "alliance-webhook";

bool haveKubectl() {
  return std::system("command -v kubectl >/dev/null 2>&1") == 0;
}

std::string str(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string{};
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> v;
  if (n && n.IsSequence()) {
    for (const YAML::Node& e : n) v.push_back(str(e));
  }
  return v;
}

// One rendered kustomization.
struct Render {
  std::string dir;
  RunResult result;
  std::vector<YAML::Node> objects;
  std::string parseError;

  const YAML::Node* find(const std::string& kind, const std::string& name) const {
    for (const YAML::Node& o : objects) {
      if (str(o["kind"]) == kind && str(o["metadata"]["name"]) == name) return &o;
    }
    return nullptr;
  }
  std::vector<const YAML::Node*> all(const std::string& kind) const {
    std::vector<const YAML::Node*> v;
    for (const YAML::Node& o : objects) {
      if (str(o["kind"]) == kind) v.push_back(&o);
    }
    return v;
  }
};

Render render(const fs::path& dir) {
  Render r;
  r.dir = dir.string();
  r.result = run("kubectl kustomize " + shellQuote(dir.string()));
  if (r.result.status != 0) return r;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(r.result.out)) {
      if (doc && doc.IsMap()) r.objects.push_back(doc);
    }
  } catch (const YAML::Exception& e) {
    r.parseError = e.what();
  }
  return r;
}

// Renders are cached: each kustomization is rendered once per test program.
const Render& rendered(const fs::path& dir) {
  static std::map<std::string, std::unique_ptr<Render>> cache;
  auto& slot = cache[dir.string()];
  if (!slot) slot = std::make_unique<Render>(render(dir));
  return *slot;
}

// The kustomizations of the repository: manifests/, the base, every overlay.
std::vector<std::string> kustomizations() {
  std::vector<std::string> dirs = {"manifests", "manifests/base"};
  std::vector<std::string> overlays;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kSource / "manifests/overlays", ec)) {
    if (fs::exists(e.path() / "kustomization.yaml")) {
      overlays.push_back("manifests/overlays/" + e.path().filename().string());
    }
  }
  std::sort(overlays.begin(), overlays.end());
  dirs.insert(dirs.end(), overlays.begin(), overlays.end());
  return dirs;
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// ---- what one webhook registration must be ----

// The namespace the webhook's Service landed in.
std::string installNamespace(const Render& r) {
  const YAML::Node* svc = r.find("Service", kObjectName);
  return svc ? str((*svc)["metadata"]["namespace"]) : std::string{};
}

void expectCommonWebhook(const YAML::Node& w, const std::string& ns, const std::string& path) {
  const std::string name = str(w["name"]);
  SCOPED_TRACE("webhook " + name);
  const YAML::Node svc = w["clientConfig"]["service"];
  EXPECT_EQ(str(svc["name"]), kObjectName);
  EXPECT_EQ(str(svc["namespace"]), ns);
  EXPECT_EQ(str(svc["port"]), "443");
  EXPECT_EQ(str(svc["path"]), path);
  EXPECT_FALSE(w["clientConfig"]["url"]) << "the webhook is reached through its Service";
  EXPECT_EQ(str(w["sideEffects"]), "None");
  EXPECT_EQ(strings(w["admissionReviewVersions"]), (std::vector<std::string>{"v1", "v1beta1"}));
  EXPECT_EQ(str(w["matchPolicy"]), "Equivalent");
  ASSERT_TRUE(w["timeoutSeconds"]) << "set a short timeout explicitly";
  const int timeout = w["timeoutSeconds"].as<int>();
  EXPECT_GE(timeout, 1);
  EXPECT_LE(timeout, 10);
  // The webhook's own namespace stays out of its path.
  bool excludesOwn = false;
  for (const YAML::Node& e : w["namespaceSelector"]["matchExpressions"]) {
    const auto values = strings(e["values"]);
    if (str(e["key"]) == "kubernetes.io/metadata.name" && str(e["operator"]) == "NotIn" &&
        std::find(values.begin(), values.end(), ns) != values.end()) {
      excludesOwn = true;
    }
  }
  EXPECT_TRUE(excludesOwn) << "namespaceSelector must exclude namespace " << ns;
}

void expectRulesEqualKind(const YAML::Node& w, const aw::rules::KindInfo& k) {
  SCOPED_TRACE("webhook " + str(w["name"]) + ", kind " + std::string(k.kind));
  ASSERT_TRUE(w["rules"] && w["rules"].IsSequence());
  ASSERT_EQ(w["rules"].size(), 1u) << "one rule per webhook: one object family";
  const YAML::Node rule = w["rules"][0];
  EXPECT_EQ(strings(rule["apiGroups"]), std::vector<std::string>{std::string(k.group)});
  std::vector<std::string> versions(k.versions.begin(), k.versions.end());
  EXPECT_EQ(strings(rule["apiVersions"]), versions);
  EXPECT_EQ(strings(rule["resources"]), std::vector<std::string>{std::string(k.resource)});
  EXPECT_EQ(strings(rule["operations"]), (std::vector<std::string>{"CREATE", "UPDATE"}));
}

// (A YAML::Node is a handle: return it by value, never a pointer to the loop's copy.)
std::optional<YAML::Node> webhookNamed(const YAML::Node& config, const std::string& name) {
  for (const YAML::Node& w : config["webhooks"]) {
    if (str(w["name"]) == name) return w;
  }
  return std::nullopt;
}

// ---- the Deployment ----

// What a file path inside the container comes from: ("ConfigMap"|"Secret", object, key).
struct FileSource {
  std::string kind, name, key;
};

std::optional<FileSource> fromItems(const YAML::Node& src, const std::string& kind,
                                    const std::string& rel) {
  const std::string name = str(src["name"]);
  if (!src["items"]) {
    // Without items, every key is a file of its own name.
    if (rel.find('/') == std::string::npos) return FileSource{kind, name, rel};
    return std::nullopt;
  }
  for (const YAML::Node& item : src["items"]) {
    if (str(item["path"]) == rel) return FileSource{kind, name, str(item["key"])};
  }
  return std::nullopt;
}

std::optional<FileSource> fileSource(const YAML::Node& pod, const YAML::Node& container,
                                     const std::string& file) {
  for (const YAML::Node& m : container["volumeMounts"]) {
    std::string mount = str(m["mountPath"]);
    if (mount.empty()) continue;
    std::string rel;
    if (m["subPath"]) {
      if (file != mount) continue;
      rel = str(m["subPath"]);
    } else {
      if (mount.back() != '/') mount += '/';
      if (file.rfind(mount, 0) != 0) continue;
      rel = file.substr(mount.size());
    }
    for (const YAML::Node& v : pod["volumes"]) {
      if (str(v["name"]) != str(m["name"])) continue;
      if (v["configMap"]) return fromItems(v["configMap"], "ConfigMap", rel);
      if (v["secret"]) {
        YAML::Node s = YAML::Clone(v["secret"]);
        s["name"] = str(s["secretName"]);
        return fromItems(s, "Secret", rel);
      }
      for (const YAML::Node& src : v["projected"]["sources"]) {
        std::optional<FileSource> f;
        if (src["configMap"]) f = fromItems(src["configMap"], "ConfigMap", rel);
        if (src["secret"]) f = fromItems(src["secret"], "Secret", rel);
        if (f) return f;
      }
    }
  }
  return std::nullopt;
}

std::string argAfter(const std::vector<std::string>& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  for (const std::string& a : args) {
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return {};
}

// The effective value of a security setting: the container's, else the pod's.
YAML::Node effective(const YAML::Node& pod, const YAML::Node& container, const std::string& key) {
  const YAML::Node c = container["securityContext"][key];
  return c ? c : pod["securityContext"][key];
}

bool selects(const YAML::Node& matchLabels, const YAML::Node& labels) {
  if (!matchLabels || !matchLabels.IsMap() || matchLabels.size() == 0) return false;
  for (const auto& kv : matchLabels) {
    if (str(labels[kv.first.Scalar()]) != str(kv.second)) return false;
  }
  return true;
}

const YAML::Node* configMapOf(const Render& r) {
  return r.find("ConfigMap", "alliance-webhook-config");
}

YAML::Node configOf(const Render& r) {
  const YAML::Node* cm = configMapOf(r);
  if (cm == nullptr) return {};
  return YAML::Load(str((*cm)["data"]["config.yaml"]));
}

std::vector<std::string> sortedStrings(const YAML::Node& list) {
  std::vector<std::string> out = strings(list);
  std::sort(out.begin(), out.end());
  return out;
}

// The service account `ns`/alliance-webhook is the one subject of `binding`.
void expectBindsWebhook(const YAML::Node* binding, const std::string& roleKind,
                        const std::string& role, const std::string& ns) {
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(str((*binding)["roleRef"]["kind"]), roleKind);
  EXPECT_EQ(str((*binding)["roleRef"]["name"]), role);
  ASSERT_EQ((*binding)["subjects"].size(), 1u);
  const YAML::Node subject = (*binding)["subjects"][0];
  EXPECT_EQ(str(subject["kind"]), "ServiceAccount");
  EXPECT_EQ(str(subject["name"]), kObjectName);
  EXPECT_EQ(str(subject["namespace"]), ns);
}

// The rule of `role` that grants `resource` of `apiGroup` (a null node when none does).
YAML::Node ruleFor(const YAML::Node& role, const std::string& apiGroup,
                   const std::string& resource) {
  for (const YAML::Node& rule : role["rules"]) {
    const std::vector<std::string> groups = sortedStrings(rule["apiGroups"]);
    const std::vector<std::string> resources = sortedStrings(rule["resources"]);
    if (std::find(groups.begin(), groups.end(), apiGroup) != groups.end() &&
        std::find(resources.begin(), resources.end(), resource) != resources.end()) {
      return rule;
    }
  }
  return YAML::Node();
}

// RBAC grants what the configuration's cluster block reads and the audit block writes, and
// nothing more: list/watch on the two member kinds of the kinds table and on Services; get, list,
// create, patch, update on the two PolicyReport kinds; get/watch on the one ClusterConfiguration
// Secret by name, in that Secret's namespace; create, and get/update by name, on the audit's
// Lease in the webhook's own namespace.
void expectLeastPrivilege(const Render& r, const YAML::Node& config, const std::string& ns) {
  const YAML::Node cluster = config["cluster"];
  ASSERT_TRUE(cluster.IsMap()) << "the manifests' configuration reads the cluster state";
  EXPECT_EQ(str(cluster["watch"]), "true");
  const YAML::Node audit = config["audit"];
  ASSERT_TRUE(audit.IsMap()) << "the manifests' configuration runs the background audit";
  EXPECT_EQ(str(audit["services"]), "true");
  ASSERT_EQ(r.all("ClusterRole").size(), 1u);
  ASSERT_EQ(r.all("ClusterRoleBinding").size(), 1u);
  const YAML::Node* role = r.find("ClusterRole", kObjectName);
  ASSERT_NE(role, nullptr);
  ASSERT_EQ((*role)["rules"].size(), 3u);
  std::vector<std::string> resources;
  for (auto id : {aw::rules::KindId::IstioFederation, aw::rules::KindId::IstioMulticluster}) {
    resources.emplace_back(aw::rules::kindInfo(id).resource);
  }
  std::sort(resources.begin(), resources.end());
  const std::string group(aw::rules::kindInfo(aw::rules::KindId::IstioFederation).group);
  struct Want {
    std::string group;
    std::vector<std::string> resources, verbs;
  };
  const Want wants[] = {
      {group, resources, {"list", "watch"}},
      {"", {"services"}, {"list", "watch"}},
      {"wgpolicyk8s.io",
       {"clusterpolicyreports", "policyreports"},
       {"create", "get", "list", "patch", "update"}},
  };
  for (const Want& want : wants) {
    SCOPED_TRACE("ClusterRole rule for group \"" + want.group + "\"");
    const YAML::Node rule = ruleFor(*role, want.group, want.resources.front());
    ASSERT_TRUE(rule.IsMap());
    EXPECT_EQ(sortedStrings(rule["apiGroups"]), std::vector<std::string>{want.group});
    EXPECT_EQ(sortedStrings(rule["resources"]), want.resources);
    EXPECT_EQ(sortedStrings(rule["verbs"]), want.verbs);
    EXPECT_FALSE(rule["resourceNames"]);
  }
  expectBindsWebhook(r.find("ClusterRoleBinding", kObjectName), "ClusterRole", kObjectName, ns);

  const std::string secret = str(cluster["clusterConfigurationSecret"]);
  const std::size_t slash = secret.find('/');
  ASSERT_NE(slash, std::string::npos) << "cluster.clusterConfigurationSecret: " << secret;
  const std::string secretNs = secret.substr(0, slash), secretName = secret.substr(slash + 1);
  ASSERT_EQ(r.all("Role").size(), 2u);
  ASSERT_EQ(r.all("RoleBinding").size(), 2u);
  const YAML::Node* secretRole = r.find("Role", "alliance-webhook-cluster-configuration");
  ASSERT_NE(secretRole, nullptr);
  EXPECT_EQ(str((*secretRole)["metadata"]["namespace"]), secretNs);
  ASSERT_EQ((*secretRole)["rules"].size(), 1u);
  const YAML::Node sr = (*secretRole)["rules"][0];
  EXPECT_EQ(sortedStrings(sr["apiGroups"]), std::vector<std::string>{""});
  EXPECT_EQ(sortedStrings(sr["resources"]), std::vector<std::string>{"secrets"});
  EXPECT_EQ(sortedStrings(sr["resourceNames"]), std::vector<std::string>{secretName});
  EXPECT_EQ(sortedStrings(sr["verbs"]), (std::vector<std::string>{"get", "watch"}));
  const YAML::Node* binding = r.find("RoleBinding", "alliance-webhook-cluster-configuration");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(str((*binding)["metadata"]["namespace"]), secretNs);
  expectBindsWebhook(binding, "Role", str((*secretRole)["metadata"]["name"]), ns);

  // The audit's Lease: in the webhook's own namespace, the one name for get and update.
  const YAML::Node* leaseRole = r.find("Role", "alliance-webhook-audit-lease");
  ASSERT_NE(leaseRole, nullptr);
  EXPECT_EQ(str((*leaseRole)["metadata"]["namespace"]), ns);
  ASSERT_EQ((*leaseRole)["rules"].size(), 2u);
  for (const YAML::Node& rule : (*leaseRole)["rules"]) {
    EXPECT_EQ(sortedStrings(rule["apiGroups"]), std::vector<std::string>{"coordination.k8s.io"});
    EXPECT_EQ(sortedStrings(rule["resources"]), std::vector<std::string>{"leases"});
    const std::vector<std::string> verbs = sortedStrings(rule["verbs"]);
    if (rule["resourceNames"]) {
      EXPECT_EQ(sortedStrings(rule["resourceNames"]),
                std::vector<std::string>{"alliance-webhook-audit"});
      EXPECT_EQ(verbs, (std::vector<std::string>{"get", "update"}));
    } else {
      EXPECT_EQ(verbs, std::vector<std::string>{"create"});
    }
  }
  const YAML::Node* leaseBinding = r.find("RoleBinding", "alliance-webhook-audit-lease");
  ASSERT_NE(leaseBinding, nullptr);
  EXPECT_EQ(str((*leaseBinding)["metadata"]["namespace"]), ns);
  expectBindsWebhook(leaseBinding, "Role", "alliance-webhook-audit-lease", ns);
}

class Kustomization : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "kubectl is not installed";
  }
  const Render& get() {
    const Render& r = rendered(kSource / GetParam());
    return r;
  }
};

#define RENDER_OR_FAIL(r)                                                                  \
  const Render& r = get();                                                                 \
  ASSERT_EQ(r.result.status, 0) << "kubectl kustomize " << r.dir << ":\n" << r.result.err; \
  ASSERT_EQ(r.parseError, "");                                                             \
  ASSERT_FALSE(r.objects.empty())

TEST_P(Kustomization, RendersCleanly) {
  RENDER_OR_FAIL(r);
  EXPECT_EQ(r.result.err.find("Warning"), std::string::npos) << r.result.err;
  for (const YAML::Node& o : r.objects) {
    EXPECT_NE(str(o["apiVersion"]), "");
    EXPECT_NE(str(o["metadata"]["name"]), "");
  }
  EXPECT_NE(r.find("Namespace", installNamespace(r)), nullptr);
  EXPECT_NE(r.find("ServiceAccount", kObjectName), nullptr);
  EXPECT_NE(r.find("Deployment", kObjectName), nullptr);
  EXPECT_NE(r.find("PodDisruptionBudget", kObjectName), nullptr);
  EXPECT_NE(r.find("Service", kObjectName), nullptr);
  EXPECT_NE(configMapOf(r), nullptr);
  expectLeastPrivilege(r, configOf(r), installNamespace(r));
}

TEST_P(Kustomization, ValidatingWebhooksEqualTheKindsTable) {
  RENDER_OR_FAIL(r);
  const std::string ns = installNamespace(r);
  const YAML::Node* vwc = r.find("ValidatingWebhookConfiguration", kObjectName);
  ASSERT_NE(vwc, nullptr);
  ASSERT_TRUE((*vwc)["webhooks"].IsSequence());
  EXPECT_EQ((*vwc)["webhooks"].size(), aw::rules::kinds().size())
      << "one validating webhook per kind of rules/model/kinds.cpp, no other";
  for (const aw::rules::KindInfo& k : aw::rules::kinds()) {
    const std::optional<YAML::Node> w = webhookNamed(*vwc, std::string(k.webhook));
    ASSERT_TRUE(w.has_value()) << "no validating webhook named " << k.webhook;
    expectCommonWebhook(*w, ns, "/validate");
    expectRulesEqualKind(*w, k);
    // Fail only where a rule of the kind denies by default: a webhook that only warns must not
    // block the kind's writes while it is down (SPEC §4.1).
    bool denies = false;
    for (const aw::rules::RuleInfo& rule : aw::rules::registry()) {
      const auto& kinds = rule.kinds;
      if (rule.mutating || std::find(kinds.begin(), kinds.end(), k.id) == kinds.end()) continue;
      denies = denies || rule.options.front().defaultValue == "deny";
    }
    EXPECT_EQ(str((*w)["failurePolicy"]), denies ? "Fail" : "Ignore") << k.webhook;
  }
}

TEST_P(Kustomization, MutatingWebhookCoversServiceEntries) {
  RENDER_OR_FAIL(r);
  const YAML::Node* mwc = r.find("MutatingWebhookConfiguration", kObjectName);
  ASSERT_NE(mwc, nullptr);
  ASSERT_TRUE((*mwc)["webhooks"].IsSequence());
  ASSERT_EQ((*mwc)["webhooks"].size(), 1u);
  const std::optional<YAML::Node> w = webhookNamed(*mwc, kMutatingWebhook);
  ASSERT_TRUE(w.has_value()) << "no mutating webhook named " << kMutatingWebhook;
  expectCommonWebhook(*w, installNamespace(r), "/mutate");
  expectRulesEqualKind(*w, aw::rules::kindInfo(aw::rules::KindId::ServiceEntry));
  // Defaults are conveniences (see the manifest's comment); safety is the validating webhooks'.
  EXPECT_EQ(str((*w)["failurePolicy"]), "Ignore");
  EXPECT_EQ(str((*w)["reinvocationPolicy"]), "Never");
}

// The Services webhook only sees public Services exactly when the rule's scope is public.
TEST_P(Kustomization, ServicesSelectorAgreesWithRuleScope) {
  RENDER_OR_FAIL(r);
  const YAML::Node* vwc = r.find("ValidatingWebhookConfiguration", kObjectName);
  ASSERT_NE(vwc, nullptr);
  const auto& svcKind = aw::rules::kindInfo(aw::rules::KindId::Service);
  const std::optional<YAML::Node> w = webhookNamed(*vwc, std::string(svcKind.webhook));
  ASSERT_TRUE(w.has_value());
  // The scope of every Service rule that has one, as configured (or its default).
  const YAML::Node config = configOf(r);
  std::string scope = "public";
  for (const aw::rules::RuleInfo& rule : aw::rules::registry()) {
    const auto& k = rule.kinds;
    if (std::find(k.begin(), k.end(), aw::rules::KindId::Service) == k.end()) continue;
    for (const aw::rules::OptionSpec& opt : rule.options) {
      if (opt.key != "scope") continue;
      std::string v = str(config["rules"][std::string(rule.id)]["scope"]);
      if (v.empty()) v = opt.defaultValue;
      if (v != "public") scope = v;
    }
  }
  const YAML::Node sel = (*w)["objectSelector"];
  if (scope == "public") {
    ASSERT_TRUE(sel) << "scope public: the Services webhook needs an objectSelector";
    EXPECT_FALSE(sel["matchLabels"]);
    ASSERT_EQ(sel["matchExpressions"].size(), 1u);
    EXPECT_EQ(str(sel["matchExpressions"][0]["key"]), aw::rules::keys::kPublicServiceLabel);
    EXPECT_EQ(str(sel["matchExpressions"][0]["operator"]), "Exists") << "any value counts";
  } else {
    EXPECT_TRUE(!sel || (sel.IsMap() && sel.size() == 0))
        << "scope " << scope << ": the Services webhook must see every Service";
  }
  // No other webhook filters objects by label: the rules decide.
  for (const YAML::Node& other : (*vwc)["webhooks"]) {
    if (str(other["name"]) != svcKind.webhook) {
      EXPECT_FALSE(other["objectSelector"]) << str(other["name"]);
    }
  }
}

TEST_P(Kustomization, DeploymentIsHardenedAndHighlyAvailable) {
  RENDER_OR_FAIL(r);
  const YAML::Node* dep = r.find("Deployment", kObjectName);
  ASSERT_NE(dep, nullptr);
  const YAML::Node spec = (*dep)["spec"];
  const YAML::Node pod = spec["template"]["spec"];
  const YAML::Node podLabels = spec["template"]["metadata"]["labels"];
  EXPECT_GE(spec["replicas"].as<int>(0), 2);
  EXPECT_TRUE(selects(spec["selector"]["matchLabels"], podLabels));
  EXPECT_EQ(str(pod["priorityClassName"]), "system-cluster-critical");
  EXPECT_EQ(str(pod["serviceAccountName"]), kObjectName);
  // The webhook's pods get the token they read the cluster state with; nothing else using the
  // service account does by default.
  EXPECT_EQ(str(pod["automountServiceAccountToken"]), "true");
  const YAML::Node* sa = r.find("ServiceAccount", kObjectName);
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ(str((*sa)["automountServiceAccountToken"]), "false");

  // Replicas on different nodes.
  bool acrossNodes = false;
  for (const YAML::Node& t :
       pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]) {
    if (str(t["topologyKey"]) == "kubernetes.io/hostname" &&
        selects(t["labelSelector"]["matchLabels"], podLabels)) {
      acrossNodes = true;
    }
  }
  for (const YAML::Node& t :
       pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]) {
    const YAML::Node term = t["podAffinityTerm"];
    if (str(term["topologyKey"]) == "kubernetes.io/hostname" &&
        selects(term["labelSelector"]["matchLabels"], podLabels)) {
      acrossNodes = true;
    }
  }
  EXPECT_TRUE(acrossNodes) << "pod anti-affinity on kubernetes.io/hostname";

  const YAML::Node* pdb = r.find("PodDisruptionBudget", kObjectName);
  ASSERT_NE(pdb, nullptr);
  EXPECT_EQ(str((*pdb)["spec"]["minAvailable"]), "1");
  EXPECT_TRUE(selects((*pdb)["spec"]["selector"]["matchLabels"], podLabels));

  ASSERT_EQ(pod["containers"].size(), 1u);
  const YAML::Node c = pod["containers"][0];
  EXPECT_NE(str(c["image"]).find("alliance-webhook"), std::string::npos);

  // Security context, container settings winning over the pod's.
  EXPECT_EQ(str(effective(pod, c, "runAsNonRoot")), "true");
  EXPECT_EQ(str(effective(pod, c, "runAsUser")), "65532");
  EXPECT_EQ(str(effective(pod, c, "seccompProfile")["type"]), "RuntimeDefault");
  EXPECT_EQ(str(c["securityContext"]["readOnlyRootFilesystem"]), "true");
  EXPECT_EQ(str(c["securityContext"]["allowPrivilegeEscalation"]), "false");
  EXPECT_EQ(str(c["securityContext"]["privileged"]), "");
  EXPECT_EQ(strings(c["securityContext"]["capabilities"]["drop"]), std::vector<std::string>{"ALL"});
  EXPECT_FALSE(c["securityContext"]["capabilities"]["add"]);

  EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(c["resources"]["requests"]["memory"]);
  EXPECT_TRUE(c["resources"]["limits"]["memory"]);

  // Probes: the server's health paths, over HTTPS, on the container's 8443.
  int httpsPort = 0;
  for (const YAML::Node& p : c["ports"]) {
    if (str(p["name"]) == "https") httpsPort = p["containerPort"].as<int>(0);
  }
  EXPECT_EQ(httpsPort, 8443);
  const std::pair<const char*, const char*> probes[] = {{"livenessProbe", "/healthz"},
                                                        {"readinessProbe", "/readyz"}};
  for (const auto& [probe, path] : probes) {
    SCOPED_TRACE(probe);
    const YAML::Node get = c[probe]["httpGet"];
    ASSERT_TRUE(get);
    EXPECT_EQ(str(get["path"]), path);
    EXPECT_EQ(str(get["scheme"]), "HTTPS");
    EXPECT_TRUE(str(get["port"]) == "https" || str(get["port"]) == "8443") << str(get["port"]);
  }

  // The command line, and the files it names come from the ConfigMap and the TLS Secret.
  const std::vector<std::string> args = strings(c["args"]);
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args[0], "serve");
  EXPECT_EQ(argAfter(args, "--log-format"), "json");
  const std::string listen = argAfter(args, "--listen");
  EXPECT_TRUE(listen.empty() || listen.ends_with(":8443")) << listen;
  const std::map<std::string, std::pair<std::string, std::string>> files = {
      {"--config", {"ConfigMap", "config.yaml"}},
      {"--tls-cert", {"Secret", "tls.crt"}},
      {"--tls-key", {"Secret", "tls.key"}}};
  for (const auto& [flag, want] : files) {
    SCOPED_TRACE(flag);
    const std::string file = argAfter(args, flag);
    ASSERT_FALSE(file.empty()) << "missing " << flag;
    const auto src = fileSource(pod, c, file);
    ASSERT_TRUE(src.has_value()) << file << " is not mounted from a ConfigMap or Secret";
    EXPECT_EQ(src->kind, want.first);
    EXPECT_EQ(src->key, want.second);
    EXPECT_EQ(src->name,
              want.first == "ConfigMap" ? "alliance-webhook-config" : "alliance-webhook-tls");
  }
  for (const YAML::Node& m : c["volumeMounts"]) {
    EXPECT_FALSE(m["subPath"]) << "a subPath mount never sees ConfigMap or Secret updates";
  }
  // The private key is not readable by others in the pod's file system.
  for (const YAML::Node& v : pod["volumes"]) {
    bool secret = static_cast<bool>(v["secret"]);
    for (const YAML::Node& src : v["projected"]["sources"]) secret = secret || src["secret"];
    if (!secret) continue;
    const YAML::Node mode =
        v["secret"] ? v["secret"]["defaultMode"] : v["projected"]["defaultMode"];
    ASSERT_TRUE(mode) << "volume " << str(v["name"]) << ": set defaultMode (default is 0644)";
    EXPECT_EQ(mode.as<int>() & 07, 0) << "volume " << str(v["name"]);
  }

  // The Service: 443 to the container's 8443, selecting the pods.
  const YAML::Node* svc = r.find("Service", kObjectName);
  ASSERT_NE(svc, nullptr);
  EXPECT_TRUE(selects((*svc)["spec"]["selector"], podLabels));
  ASSERT_EQ((*svc)["spec"]["ports"].size(), 1u);
  const YAML::Node port = (*svc)["spec"]["ports"][0];
  EXPECT_EQ(str(port["name"]), "https");
  EXPECT_EQ(str(port["port"]), "443");
  EXPECT_TRUE(str(port["targetPort"]) == "8443" || str(port["targetPort"]) == "https");
}

TEST_P(Kustomization, ConfigurationAgreesWithRuleRegistry) {
  RENDER_OR_FAIL(r);
  const YAML::Node config = configOf(r);
  ASSERT_TRUE(config.IsMap());
  const std::string mode = str(config["mode"]);
  EXPECT_TRUE(mode == "enforce" || mode == "audit") << mode;
  EXPECT_EQ(mode, GetParam().ends_with("/audit") ? "audit" : "enforce");
  EXPECT_TRUE(config["localCluster"].IsMap());
  // Every registered rule is written out, every option with an allowed value.
  for (const aw::rules::RuleInfo& rule : aw::rules::registry()) {
    const std::string id(rule.id);
    SCOPED_TRACE("rule " + id);
    const YAML::Node block = config["rules"][id];
    ASSERT_TRUE(block && block.IsMap()) << "rules." << id << " missing from config.yaml";
    for (const aw::rules::OptionSpec& opt : rule.options) {
      // An option that inherits its value (scope of service-port-protocol) is left out, so the
      // one it inherits from is the one edit.
      if (!opt.inheritsFrom.empty()) {
        EXPECT_FALSE(block[std::string(opt.key)])
            << "rules." << id << "." << opt.key << " inherits " << opt.inheritsFrom
            << ": leave it out";
        continue;
      }
      const std::string value = str(block[std::string(opt.key)]);
      EXPECT_NE(std::find(opt.values.begin(), opt.values.end(), value), opt.values.end())
          << "rules." << id << "." << opt.key << ": " << value;
      // Defaults, except the one an overlay exists to change.
      if (!(GetParam().ends_with("/scope-all") && opt.key == "scope")) {
        EXPECT_EQ(value, opt.defaultValue) << "rules." << id << "." << opt.key;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Manifests, Kustomization, testing::ValuesIn(kustomizations()), testName);

// ---- repository-level checks ----

class Manifests : public testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "kubectl is not installed";
  }
};

TEST_F(Manifests, TheOverlaysTheReadmeNamesExist) {
  const auto dirs = kustomizations();
  for (const char* d : {"manifests/overlays/audit", "manifests/overlays/cert-manager"}) {
    EXPECT_NE(std::find(dirs.begin(), dirs.end(), d), dirs.end()) << d;
  }
}

TEST_F(Manifests, DefaultInstallIsTheBase) {
  const Render& top = rendered(kSource / "manifests");
  const Render& base = rendered(kSource / "manifests/base");
  ASSERT_EQ(top.result.status, 0) << top.result.err;
  EXPECT_EQ(top.result.out, base.result.out);
}

#ifdef AW_VERSION
// The manifests install the image of this version (CMakeLists.txt's project version).
TEST_F(Manifests, BaseImageIsThisVersion) {
  const Render& base = rendered(kSource / "manifests/base");
  ASSERT_EQ(base.result.status, 0) << base.result.err;
  const YAML::Node* dep = base.find("Deployment", kObjectName);
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(str((*dep)["spec"]["template"]["spec"]["containers"][0]["image"]),
            std::string("alliance-webhook:") + AW_VERSION);
}
#endif

TEST_F(Manifests, BaseRendersWithoutCertificates) {
  const Render& base = rendered(kSource / "manifests/base");
  ASSERT_EQ(base.result.status, 0) << base.result.err;
  EXPECT_EQ(base.result.out.find("caBundle"), std::string::npos);
  EXPECT_EQ(base.find("Secret", "alliance-webhook-tls"), nullptr) << "keys never live in git";
}

// An overlay's config.yaml is the base's with its one change: they cannot drift apart.
TEST_F(Manifests, OverlayConfigsDifferFromBaseOnlyWhereIntended) {
  const YAML::Node base = configOf(rendered(kSource / "manifests/base"));
  ASSERT_TRUE(base.IsMap());
  struct Case {
    const char* dir;
    void (*change)(YAML::Node&);
  };
  const Case cases[] = {
      {"manifests/overlays/audit", [](YAML::Node& c) { c["mode"] = "audit"; }},
      {"manifests/overlays/scope-all",
       [](YAML::Node& c) { c["rules"]["service-port-names"]["scope"] = "all"; }},
      {"manifests/overlays/cert-manager", [](YAML::Node&) {}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.dir);
    if (!fs::exists(kSource / k.dir)) continue;
    YAML::Node want = YAML::Clone(base);
    k.change(want);
    const YAML::Node got = configOf(rendered(kSource / k.dir));
    EXPECT_EQ(YAML::Dump(got), YAML::Dump(want));
  }
}

TEST_F(Manifests, CertManagerOverlayInjectsTheCaIntoBothConfigurations) {
  const Render& r = rendered(kSource / "manifests/overlays/cert-manager");
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  const std::string ns = installNamespace(r);
  // The Certificate that writes the Secret the pods mount.
  const YAML::Node* serving = nullptr;
  for (const YAML::Node* cert : r.all("Certificate")) {
    if (str((*cert)["spec"]["secretName"]) == "alliance-webhook-tls") serving = cert;
  }
  ASSERT_NE(serving, nullptr) << "no Certificate writes Secret alliance-webhook-tls";
  const std::vector<std::string> dns = strings((*serving)["spec"]["dnsNames"]);
  for (const std::string& name : {std::string(kObjectName) + "." + ns + ".svc",
                                  std::string(kObjectName) + "." + ns + ".svc.cluster.local"}) {
    EXPECT_NE(std::find(dns.begin(), dns.end(), name), dns.end()) << name;
  }
  const std::string issuer = str((*serving)["spec"]["issuerRef"]["name"]);
  EXPECT_NE(r.find(str((*serving)["spec"]["issuerRef"]["kind"]), issuer), nullptr) << issuer;
  const std::string from = ns + "/" + str((*serving)["metadata"]["name"]);
  for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
    const YAML::Node* wc = r.find(kind, kObjectName);
    ASSERT_NE(wc, nullptr) << kind;
    EXPECT_EQ(str((*wc)["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]), from)
        << kind;
  }
}

// ---- the overlay certs/make-certs.sh --kustomize writes (what `make deploy` applies) ----

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "aw-manifests-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class GeneratedOverlay : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "kubectl is not installed";
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  }
};

TEST_P(GeneratedOverlay, InjectsCaBundleAndSecretAndKeepsInvariants) {
  const std::string ns = GetParam();
  TempDir tmp;
  const fs::path out = tmp.path / "certs";
  const fs::path kdir = tmp.path / "kustomize";
  const RunResult made = run(shellQuote((kSource / "certs/make-certs.sh").string()) + " --out " +
                             shellQuote(out.string()) + " --namespace " + ns + " --kustomize " +
                             shellQuote(kdir.string()));
  ASSERT_EQ(made.status, 0) << made.err;
  // The Secret holds a private key.
  struct stat st {};
  ASSERT_EQ(stat((kdir / "secret.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "secret.yaml must not be readable by others";

  const Render& r = rendered(kdir);
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  ASSERT_EQ(r.parseError, "");
  EXPECT_EQ(installNamespace(r), ns);
  EXPECT_NE(r.find("Namespace", ns), nullptr);
  EXPECT_EQ(r.all("Namespace").size(), 1u);
  EXPECT_NE(configMapOf(r), nullptr);
  EXPECT_EQ(r.all("ConfigMap").size(), 1u) << "the CA bundle's local-config ConfigMap is dropped";

  const std::string caBundle = aw::test::base64(readFile(out / "ca.crt"));
  std::size_t webhooks = 0;
  for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
    const YAML::Node* wc = r.find(kind, kObjectName);
    ASSERT_NE(wc, nullptr) << kind;
    for (const YAML::Node& w : (*wc)["webhooks"]) {
      ++webhooks;
      EXPECT_EQ(str(w["clientConfig"]["caBundle"]), caBundle) << str(w["name"]);
      expectCommonWebhook(w, ns, str(w["name"]) == kMutatingWebhook ? "/mutate" : "/validate");
    }
  }
  EXPECT_EQ(webhooks, aw::rules::kinds().size() + 1);
  expectLeastPrivilege(r, configOf(r), ns);

  const YAML::Node* secret = r.find("Secret", "alliance-webhook-tls");
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(str((*secret)["metadata"]["namespace"]), ns);
  EXPECT_EQ(str((*secret)["type"]), "kubernetes.io/tls");
  EXPECT_EQ(str((*secret)["data"]["tls.crt"]), aw::test::base64(readFile(out / "tls.crt")));
  EXPECT_EQ(str((*secret)["data"]["tls.key"]), aw::test::base64(readFile(out / "tls.key")));
  EXPECT_EQ(str((*secret)["data"]["ca.crt"]), caBundle);

  // The certificate names the Service in that namespace.
  const RunResult sans =
      run("openssl x509 -noout -ext subjectAltName -in " + shellQuote((out / "tls.crt").string()));
  EXPECT_NE(sans.out.find("DNS:alliance-webhook." + ns + ".svc,"), std::string::npos) << sans.out;

  // Run again: same CA bundle (certificates are kept), same rendering.
  const std::string before = r.result.out;
  const RunResult again = run(shellQuote((kSource / "certs/make-certs.sh").string()) + " --out " +
                              shellQuote(out.string()) + " --namespace " + ns + " --kustomize " +
                              shellQuote(kdir.string()));
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(render(kdir).result.out, before);
}

INSTANTIATE_TEST_SUITE_P(Namespaces, GeneratedOverlay,
                         testing::Values("alliance-webhook", "webhooks-test"));

// `make deploy IMAGE=...` and the audit rollout: --image and --kustomize-base.
TEST_F(Manifests, GeneratedOverlaySetsImageAndBuildsOnAnOverlay) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  const std::pair<std::string, std::string> images[] = {
      {"registry.example:5000/team/alliance-webhook:1.2",
       "registry.example:5000/team/alliance-webhook:1.2"},
      {"registry.example/alliance-webhook@sha256:0123",
       "registry.example/alliance-webhook@sha256:0123"},
      {"registry.example:5000/alliance-webhook", "registry.example:5000/alliance-webhook:"}};
  for (const auto& [image, want] : images) {
    SCOPED_TRACE(image);
    TempDir tmp;
    const RunResult made =
        run(shellQuote((kSource / "certs/make-certs.sh").string()) + " --out " +
            shellQuote((tmp.path / "certs").string()) +
            " --namespace alliance-webhook --kustomize " + shellQuote((tmp.path / "k").string()) +
            " --kustomize-base " + shellQuote((kSource / "manifests/overlays/audit").string()) +
            " --image " + shellQuote(image));
    ASSERT_EQ(made.status, 0) << made.err;
    const Render r = render(tmp.path / "k");
    ASSERT_EQ(r.result.status, 0) << r.result.err;
    const YAML::Node* dep = r.find("Deployment", kObjectName);
    ASSERT_NE(dep, nullptr);
    const std::string got = str((*dep)["spec"]["template"]["spec"]["containers"][0]["image"]);
    EXPECT_EQ(got.substr(0, want.size()), want);
    EXPECT_EQ(str(configOf(r)["mode"]), "audit");
  }
}

// The configuration the manifests install is one the server accepts.
TEST_F(Manifests, ServerAcceptsTheInstalledConfiguration) {
  const fs::path binary = AW_BINARY;
  if (!fs::exists(binary)) GTEST_SKIP() << "no " << binary;
  for (const std::string& dir : kustomizations()) {
    SCOPED_TRACE(dir);
    const Render& r = rendered(kSource / dir);
    ASSERT_EQ(r.result.status, 0) << r.result.err;
    TempDir tmp;
    const fs::path config = tmp.path / "config.yaml";
    std::ofstream(config) << str((*configMapOf(r))["data"]["config.yaml"]);
    // An object of a kind no rule checks: allowed; only a configuration error gives status 2.
    const fs::path object = tmp.path / "object.yaml";
    std::ofstream(object) << "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\n";
    const RunResult c = run(shellQuote(binary.string()) + " check --config " +
                            shellQuote(config.string()) + " " + shellQuote(object.string()));
    EXPECT_EQ(c.status, 0) << c.out << c.err;
  }
}

}  // namespace

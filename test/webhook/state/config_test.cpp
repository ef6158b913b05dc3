// The configuration file: strict, every error with file, line and key path.
#include "webhook/state/config.h"

#include <gtest/gtest.h>

#include "test/support/process.h"

namespace aw::webhook {
namespace {

ConfigResult parse(const std::string& yaml) {
  return parseConfig(yaml, "config.yaml", ".");
}

TEST(Config, EmptyMeansEveryDefault) {
  ConfigResult r = parse("");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->mode, Mode::Enforce);
  EXPECT_EQ(r.config->settings.of("service-port-names").get("action"), "deny");
  EXPECT_EQ(r.config->settings.of("service-port-names").get("scope"), "public");
  EXPECT_EQ(r.config->settings.of("serviceentry-defaults").get("action"), "on");
  EXPECT_EQ(r.config->notes.size(), 2u);  // no local domain, no local subnets
}

TEST(Config, AGoodConfiguration) {
  ConfigResult r = parse(R"(mode: audit
localCluster:
  clusterDomain: cluster-a.local
  podSubnetCIDR: [10.111.0.0/16, "fd00:111::/48"]
  serviceSubnetCIDR: 10.222.0.0/16
members:
  - name: cluster-c
    kind: IstioMulticluster
    clusterDomain: cluster-a.local
    podSubnetCIDR: 10.113.0.0/16
rules:
  service-port-names: { scope: all }
  subnet-overlap: { multiNetworkAction: warn, unknownSubnets: allow }
  serviceentry-defaults: { action: off }
)");
  ASSERT_TRUE(r.config) << r.error;
  const Config& c = *r.config;
  EXPECT_EQ(c.mode, Mode::Audit);
  EXPECT_EQ(c.local.domain, "cluster-a.local");
  ASSERT_EQ(c.local.subnets.size(), 3u);
  EXPECT_EQ(c.local.subnets[1].cidr.str(), "fd00:111::/48");
  EXPECT_EQ(c.local.subnets[1].path, "localCluster.podSubnetCIDR[1]");
  ASSERT_EQ(c.members.size(), 1u);
  EXPECT_EQ(c.members[0].kind, rules::KindId::IstioMulticluster);
  EXPECT_TRUE(c.members[0].podDeclared);
  EXPECT_FALSE(c.members[0].serviceDeclared);
  EXPECT_EQ(c.settings.of("service-port-names").get("scope"), "all");
  EXPECT_EQ(c.settings.of("service-port-names").get("action"), "deny");  // others keep defaults
  EXPECT_EQ(c.settings.of("subnet-overlap").get("multiNetworkAction"), "warn");
  EXPECT_EQ(c.settings.of("subnet-overlap").get("action"), "deny");
  EXPECT_EQ(c.settings.of("serviceentry-defaults").get("action"), "off");
  EXPECT_TRUE(c.notes.empty());
}

TEST(Config, ExemptionsAndExistingViolations) {
  ConfigResult r = parse(R"(existingViolations: deny
exemptions:
  namespaces: [kube-system, "d8-*"]
  usernames: ["system:serviceaccount:ops:*"]
  groups: [platform-admins]
)");
  ASSERT_TRUE(r.config) << r.error;
  const Config& c = *r.config;
  EXPECT_EQ(c.existingViolations, ExistingViolations::Deny);
  EXPECT_EQ(c.exemptions.match("d8-system", "bob", {}),
            "namespace d8-system (exemptions.namespaces: d8-*)");
  EXPECT_EQ(c.exemptions.match("kube-system", "", {}),
            "namespace kube-system (exemptions.namespaces: kube-system)");
  EXPECT_EQ(c.exemptions.match("kube-systems", "bob", std::vector<std::string_view>{"dev"}), "");
  EXPECT_EQ(
      c.exemptions.match("", "system:serviceaccount:ops:ci", {}),
      "user system:serviceaccount:ops:ci (exemptions.usernames: system:serviceaccount:ops:*)");
  EXPECT_EQ(
      c.exemptions.match("prod", "bob", std::vector<std::string_view>{"dev", "platform-admins"}),
      "group platform-admins (exemptions.groups: platform-admins)");
  EXPECT_EQ(parse("").config->existingViolations, ExistingViolations::Warn);
}

TEST(Config, PortProtocolScopeFollowsPortNamesUnlessSet) {
  EXPECT_EQ(parse("").config->settings.of("service-port-protocol").get("scope"), "public");
  ConfigResult all = parse("rules:\n  service-port-names: {scope: all}\n");
  EXPECT_EQ(all.config->settings.of("service-port-protocol").get("scope"), "all");
  ConfigResult own = parse(
      "rules:\n  service-port-names: {scope: all}\n  service-port-protocol: {scope: public}\n");
  EXPECT_EQ(own.config->settings.of("service-port-protocol").get("scope"), "public");
}

TEST(Config, ErrorsNameTheLineAndTheKeyPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mode: strict\n", "config.yaml:1: mode: \"strict\" is not one of enforce, audit"},
      {"mod: audit\n",
       "config.yaml:1: mod: unknown key (known keys: mode, existingViolations, exemptions, "
       "localCluster, members, cluster, audit, rules)"},
      {"existingViolations: allow\n",
       "config.yaml:1: existingViolations: \"allow\" is not one of warn, deny"},
      {"exemptions:\n  namespace: [a]\n",
       "config.yaml:2: exemptions.namespace: unknown key (known keys: namespaces, usernames, "
       "groups)"},
      {"exemptions:\n  namespaces: d8-*\n",
       "config.yaml:2: exemptions.namespaces: expected a list of names"},
      {"exemptions:\n  groups: [admins, \"*\"]\n",
       "config.yaml:2: exemptions.groups[1]: \"*\" alone would exempt every request and switch "
       "the webhook off"},
      {"exemptions:\n  usernames: [\"*-admin\"]\n",
       "config.yaml:2: exemptions.usernames[0]: \"*-admin\": only a trailing * is supported"},
      {"exemptions:\n  namespaces: [\"\"]\n",
       "config.yaml:2: exemptions.namespaces[0]: empty: write a name"},
      {"rules:\n  service-port-names: { acton: deny }\n",
       "config.yaml:2: rules.service-port-names.acton: unknown key (known keys: action, scope)"},
      {"rules:\n  service-port-names: { action: block }\n",
       "config.yaml:2: rules.service-port-names.action: \"block\" is not one of deny, warn, audit, "
       "off"},
      {"rules:\n  subnet-overlap: { unknownSubnets: off }\n",
       "config.yaml:2: rules.subnet-overlap.unknownSubnets: \"off\" is not one of allow, warn, "
       "deny"},
      {"rules:\n  serviceentry-defaults: { action: deny }\n",
       "config.yaml:2: rules.serviceentry-defaults.action: \"deny\" is not one of on, off"},
      {"rules:\n  port-names: { action: deny }\n",
       "config.yaml:2: rules.port-names: unknown rule (known rules: "},
      {"localCluster:\n  clusterDomain: [a, b]\n",
       "config.yaml:2: localCluster.clusterDomain: expected a string"},
      {"localCluster:\n  podSubnetCIDR: 10.01.0.0/16\n",
       "config.yaml:2: localCluster.podSubnetCIDR: \"10.01.0.0/16\" is not a valid CIDR: leading "
       "zero in IPv4 "
       "octet \"01\", did you mean 10.1.0.0/16?"},
      {"localCluster:\n  serviceSubnetCIDR: [10.0.0.0/8, 10.0.0.1/16]\n",
       "config.yaml:2: localCluster.serviceSubnetCIDR[1]: \"10.0.0.1/16\" is not a valid CIDR: "
       "host bits are set"},
      {"members:\n  - kind: IstioFederation\n",
       "config.yaml:2: members[0].name: missing: every member needs a name"},
      {"members:\n  - name: b\n  - name: b\n",
       "config.yaml:3: members[1].name: \"b\" is listed twice for the same kind; merge the "
       "entries"},
      {"members:\n  - name: b\n    kind: Federation\n",
       "config.yaml:3: members[0].kind: \"Federation\" is not one of IstioFederation, "
       "IstioMulticluster"},
      {"cluster:\n  watch: sometimes\n", "config.yaml:2: cluster.watch: expected true or false"},
      {"cluster:\n  clusterConfigurationSecret: d8-cluster-configuration\n",
       "config.yaml:2: cluster.clusterConfigurationSecret: \"d8-cluster-configuration\" is not "
       "NAMESPACE/NAME"},
      {"mode: [\n", "config.yaml:2:1: YAML syntax error: "},
      {"- a\n- b\n", "config.yaml:1: : expected a mapping of keys to values"},
  };
  for (const auto& [yaml, error] : cases) {
    ConfigResult r = parse(yaml);
    EXPECT_FALSE(r.config) << yaml;
    EXPECT_EQ(r.error.substr(0, error.size()), error) << yaml;
  }
}

TEST(Config, ClusterConfigurationFileFillsWhatIsNotInline) {
  test::TempDir dir;
  test::writeFile(dir / "cluster-configuration.yaml", R"(apiVersion: deckhouse.io/v1
kind: ClusterConfiguration
clusterType: Static
clusterDomain: cluster-b.local
podSubnetCIDR: 10.112.0.0/16
serviceSubnetCIDR: 10.221.0.0/16
kubernetesVersion: "1.29"
)");
  test::writeFile(dir / "config.yaml",
                  "localCluster:\n  clusterConfigurationFile: cluster-configuration.yaml\n"
                  "  serviceSubnetCIDR: 10.250.0.0/16\n");
  ConfigResult r = loadConfig(dir / "config.yaml");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->local.domain, "cluster-b.local");
  ASSERT_EQ(r.config->local.subnets.size(), 2u);
  EXPECT_EQ(r.config->local.subnets[0].cidr.str(), "10.250.0.0/16");  // inline wins
  EXPECT_EQ(r.config->local.subnets[1].cidr.str(), "10.112.0.0/16");
  ASSERT_EQ(r.config->sources.size(), 2u);  // both files are watched for reload

  test::writeFile(dir / "cluster-configuration.yaml", "apiVersion: v1\nkind: ConfigMap\n");
  ConfigResult bad = loadConfig(dir / "config.yaml");
  EXPECT_FALSE(bad.config);
  EXPECT_NE(bad.error.find("expected apiVersion: deckhouse.io/v1 and kind: ClusterConfiguration"),
            std::string::npos)
      << bad.error;
  ConfigResult missing = parseConfig(
      "localCluster:\n  clusterConfigurationFile: /nonexistent.yaml\n", "config.yaml", ".");
  EXPECT_EQ(
      missing.error,
      "config.yaml:2: localCluster.clusterConfigurationFile: /nonexistent.yaml: no such file");
}

TEST(Config, TheAuditBlock) {
  ConfigResult r = parse("cluster: {watch: true}\naudit:\n  interval: 30s\n  services: false\n");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.config->audit.present);
  EXPECT_EQ(r.config->audit.interval, std::chrono::seconds(30));
  EXPECT_FALSE(r.config->audit.services);
  EXPECT_EQ(r.config->audit.leaseDuration, std::chrono::seconds(15));

  // Every key is optional: 5m, services, a 15 s Lease.
  r = parse("cluster: {watch: true}\naudit: {leaseDuration: 2s}\n");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->audit.interval, std::chrono::minutes(5));
  EXPECT_TRUE(r.config->audit.services);
  EXPECT_EQ(r.config->audit.leaseDuration, std::chrono::seconds(2));

  // No audit block: off.
  r = parse("cluster: {watch: true}\n");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_FALSE(r.config->audit.present);
}

TEST(Config, AnAuditBlockWithoutTheClusterWatchIsOffAndSaysSo) {
  ConfigResult r = parse(
      "localCluster: {clusterDomain: a.local, podSubnetCIDR: 10.1.0.0/16, serviceSubnetCIDR: "
      "10.2.0.0/16}\naudit: {interval: 1m}\n");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->notes,
            std::vector<std::string>{
                "audit: the background audit is off: it audits what the cluster holds, so it "
                "needs cluster.watch: true"});
}

TEST(Config, AuditBlockErrorsNameTheKeyAndTheFix) {
  const std::pair<const char*, const char*> cases[] = {
      {"audit:\n  interval: 2s\n",
       "config.yaml:2: audit.interval: \"2s\" is shorter than the minimum 5s: give at least 5s"},
      {"audit:\n  interval: often\n",
       "config.yaml:2: audit.interval: \"often\" is not a duration: write it like 30s or 5m"},
      {"audit:\n  interval: 5\n",
       "config.yaml:2: audit.interval: \"5\" is not a duration: write it like 30s or 5m"},
      {"audit:\n  services: sometimes\n", "config.yaml:2: audit.services: expected true or false"},
      {"audit:\n  leaseDuration: 1s\n",
       "config.yaml:2: audit.leaseDuration: \"1s\" is shorter than the minimum 2s: give at "
       "least 2s"},
      {"audit:\n  intervall: 5m\n",
       "config.yaml:2: audit.intervall: unknown key (known keys: interval, services, "
       "leaseDuration)"},
      {"audit: 5m\n", "config.yaml:1: audit: expected a mapping of keys to values"},
  };
  for (const auto& [yaml, error] : cases) {
    ConfigResult r = parse(yaml);
    EXPECT_FALSE(r.config) << yaml;
    EXPECT_EQ(r.error, error) << yaml;
  }
}

TEST(Config, AMissingFileNamesIt) {
  ConfigResult r = loadConfig("/nonexistent/config.yaml");
  EXPECT_EQ(r.error, "/nonexistent/config.yaml: no such file");
}

}  // namespace
}  // namespace aw::webhook

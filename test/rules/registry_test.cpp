// The rule table matches SPEC §5: ids, order, kinds, defaults and options.
#include "rules/registry.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "webhook/state/config.h"

namespace aw::rules {
namespace {

struct Expected {
  std::string_view id;
  std::vector<KindId> kinds;
  std::string_view defaultAction;
  bool mutating;
};

TEST(Registry, RulesOfSpecSection5InOrder) {
  const std::vector<Expected> expected = {
      {"service-port-names", {KindId::Service}, "deny", false},
      {"service-port-protocol", {KindId::Service}, "warn", false},
      {"public-service-label", {KindId::Service}, "warn", false},
      {"federation-trust-domain", {KindId::IstioFederation}, "deny", false},
      {"multicluster-cluster-domain", {KindId::IstioMulticluster}, "deny", false},
      {"subnet-overlap", {KindId::IstioFederation, KindId::IstioMulticluster}, "deny", false},
      {"serviceentry-ports", {KindId::ServiceEntry}, "warn", false},
      {"serviceentry-defaults", {KindId::ServiceEntry}, "on", true},
  };
  ASSERT_EQ(registry().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const RuleInfo& rule = registry()[i];
    SCOPED_TRACE(std::string(rule.id));
    EXPECT_EQ(rule.id, expected[i].id);
    EXPECT_EQ(rule.kinds, expected[i].kinds);
    EXPECT_EQ(rule.mutating, expected[i].mutating);
    ASSERT_FALSE(rule.options.empty());
    EXPECT_EQ(rule.options[0].key, "action");
    EXPECT_EQ(rule.options[0].defaultValue, expected[i].defaultAction);
    EXPECT_FALSE(rule.summary.empty());
    EXPECT_FALSE(rule.reads.empty());
    EXPECT_NE(rule.check, nullptr);
    EXPECT_EQ(findRule(rule.id), &rule);
    for (const OptionSpec& o : rule.options) {
      EXPECT_NE(std::find(o.values.begin(), o.values.end(), o.defaultValue), o.values.end())
          << o.key;
    }
  }
}

std::vector<std::string_view> valuesOf(std::string_view rule, std::string_view key) {
  for (const OptionSpec& o : findRule(rule)->options) {
    if (o.key == key) return o.values;
  }
  return {};
}

TEST(Registry, OptionsOfSpecSection5) {
  using V = std::vector<std::string_view>;
  const V actions = {"deny", "warn", "audit", "off"};
  for (std::string_view id : {"service-port-names", "service-port-protocol", "public-service-label",
                              "federation-trust-domain", "multicluster-cluster-domain",
                              "subnet-overlap", "serviceentry-ports"}) {
    EXPECT_EQ(valuesOf(id, "action"), actions) << id;
  }
  EXPECT_EQ(valuesOf("service-port-protocol", "scope"), (V{"public", "all"}));
  EXPECT_EQ(valuesOf("subnet-overlap", "multiNetworkAction"), actions);
  EXPECT_EQ(valuesOf("subnet-overlap", "unknownSubnets"), (V{"allow", "warn", "deny"}));
  EXPECT_EQ(valuesOf("multicluster-cluster-domain", "unknownDomain"), (V{"allow", "warn", "deny"}));
  EXPECT_EQ(valuesOf("serviceentry-defaults", "action"), (V{"on", "off"}));

  const Settings defaults;
  EXPECT_EQ(defaults.of("service-port-protocol").get("scope"), "public");
  EXPECT_EQ(defaults.of("subnet-overlap").get("multiNetworkAction"), "deny");
  EXPECT_EQ(defaults.of("subnet-overlap").get("unknownSubnets"), "warn");
  EXPECT_EQ(defaults.of("subnet-overlap").action(ActionOption{"unknownSubnets"}), Action::Warn);
  EXPECT_EQ(defaults.of("multicluster-cluster-domain").action(ActionOption{"unknownDomain"}),
            Action::Warn);
  EXPECT_TRUE(defaults.of("serviceentry-defaults").enabled());
}

TEST(Registry, ARuleBlockKeepsTheDefaultsOfTheKeysItDoesNotSet) {
  const webhook::ConfigResult r = webhook::parseConfig(
      "rules:\n  subnet-overlap: {unknownSubnets: allow}\n  serviceentry-defaults: {action: off}\n",
      "test", ".");
  ASSERT_TRUE(r.config) << r.error;
  const RuleOptions& overlap = r.config->settings.of("subnet-overlap");
  EXPECT_EQ(overlap.get("action"), "deny");
  EXPECT_EQ(overlap.get("multiNetworkAction"), "deny");
  EXPECT_EQ(overlap.action(ActionOption{"unknownSubnets"}), Action::Off);
  EXPECT_FALSE(r.config->settings.of("serviceentry-defaults").enabled());
}

TEST(Registry, UnknownOptionValuesAreConfigurationErrors) {
  const webhook::ConfigResult r =
      webhook::parseConfig("rules:\n  subnet-overlap: {unknownSubnets: maybe}\n", "test", ".");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.error.find("rules.subnet-overlap.unknownSubnets"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace aw::rules

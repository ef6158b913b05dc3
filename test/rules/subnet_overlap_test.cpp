// subnet-overlap: every case of fixtures/subnet-overlap.yaml, plus the scale the issue asks for
// (one member checked against 10,000 existing subnets through the alliance's index).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "rules/registry.h"
#include "test/support/rule_fixture.h"

AW_RULE_FIXTURE_TESTS(SubnetOverlap, "subnet-overlap.yaml");

namespace aw::rules {
namespace {

// 10,000 members, each declaring one distinct /24 pod subnet in 10.0.0.0/8.
Alliance bigAlliance() {
  std::vector<Member> members;
  for (int i = 0; i < 10000; ++i) {
    Member m;
    m.kind = KindId::IstioFederation;
    m.name = "m" + std::to_string(i);
    m.origin = "IstioFederation " + m.name;
    const std::string cidr =
        "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    addSubnets(m, cidr, SubnetRole::Pod,
               "metadata.annotations[alliance-webhook.io/pod-subnet-cidr]");
    m.serviceDeclared = true;
    members.push_back(std::move(m));
  }
  return Alliance(LocalCluster{}, std::move(members));
}

nlohmann::json federation(const std::string& pod) {
  return {{"apiVersion", "deckhouse.io/v1alpha1"},
          {"kind", "IstioFederation"},
          {"metadata",
           {{"name", "cluster-b"},
            {"annotations",
             {{"alliance-webhook.io/pod-subnet-cidr", pod},
              {"alliance-webhook.io/service-subnet-cidr", "172.16.0.0/16"}}}}},
          {"spec", {{"trustDomain", "cluster-b.local"}}}};
}

std::vector<Finding> runSubnetOverlap(const Alliance& alliance, const nlohmann::json& object) {
  const Settings settings;
  Request request;
  request.kind = &kindInfo(KindId::IstioFederation);
  request.name = "cluster-b";
  const aw::json::Document document = aw::json::Document::of(object);
  request.object = document.root();
  Outcome out;
  const RuleInfo* rule = findRule("subnet-overlap");
  RuleContext context(*rule, settings.of(rule->id), alliance, out);
  rule->check(request, context);
  return out.findings;
}

TEST(SubnetOverlapScale, OneMemberAgainstTenThousandSubnets) {
  const Alliance alliance = bigAlliance();
  const nlohmann::json clash = federation("10.39.15.128/25");  // inside member 9999's /24
  const nlohmann::json clear = federation("11.0.0.0/16");

  std::vector<Finding> findings = runSubnetOverlap(alliance, clash);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].message,
            "pod subnet 10.39.15.128/25 overlaps pod subnet 10.39.15.0/24 of IstioFederation "
            "m9999: give every cluster its own range");
  EXPECT_TRUE(runSubnetOverlap(alliance, clear).empty());

  constexpr int kRounds = 2000;
  const auto start = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < kRounds; ++i)
    total += runSubnetOverlap(alliance, i % 2 ? clash : clear).size();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const double micros =
      std::chrono::duration<double, std::micro>(elapsed).count() / static_cast<double>(kRounds);
  EXPECT_EQ(total, static_cast<std::size_t>(kRounds / 2));
  std::printf("subnet-overlap: one member against 10,000 subnets: %.1f us per check\n", micros);
  RecordProperty("microsPerCheck", std::to_string(micros));
}

TEST(SubnetOverlapScale, AWideSubnetReportsFiveAndACount) {
  const Alliance alliance = bigAlliance();
  const std::vector<Finding> findings = runSubnetOverlap(alliance, federation("10.0.0.0/8"));
  ASSERT_EQ(findings.size(), 6u);
  EXPECT_EQ(findings[5].message,
            "pod subnet 10.0.0.0/8 also overlaps 9995 more subnets of the local cluster and other "
            "members: give every cluster its own range");
}

// Thousands of repeated ranges in one annotation stay cheap (each pair of distinct ranges is
// visited once, a repeat only against its first occurrence) and the answer stays short.
TEST(SubnetOverlapScale, AHugeAnnotationStaysBounded) {
  std::string pod;
  for (int i = 0; i < 20000; ++i) pod += (pod.empty() ? "" : ",") + std::string("10.112.0.0/16");
  const Alliance alliance;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Finding> findings = runSubnetOverlap(alliance, federation(pod));
  const double millis =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // One per repeat, against the first occurrence, and only the first 25 of those listed.
  ASSERT_EQ(findings.size(), 26u);
  EXPECT_EQ(findings[0].message,
            "pod subnet 10.112.0.0/16 overlaps this member's own pod subnet 10.112.0.0/16: list "
            "each range once, without overlaps");
  EXPECT_EQ(findings[25].path, "metadata.annotations");
  EXPECT_EQ(findings[25].message,
            "and 19974 more subnet problems not listed: fix the ones above first");
  EXPECT_EQ(findings[25].action, Action::Deny);
  std::printf("subnet-overlap: 20,000 repeats of one range in an annotation: %.1f ms\n", millis);
}

// The object's own overlaps are found pair by pair up to 32 subnets and through an index above:
// both must give what the rule says, computed here the plain way, on random lists of 2 to 48
// ranges with many repeats and nestings.
TEST(SubnetOverlapOwn, SmallAndLargeListsFindTheSamePairs) {
  std::mt19937 rng(12);
  const Alliance alliance;
  for (int round = 0; round < 300; ++round) {
    const int n = 2 + static_cast<int>(rng() % 47);
    std::vector<Cidr> cidrs;
    std::string pod;
    for (int i = 0; i < n; ++i) {
      const int prefix = 8 + static_cast<int>(rng() % 7);
      const std::string text =
          "10." + std::to_string(rng() % 4 * 64) + ".0.0/" + std::to_string(prefix);
      const CidrParse parsed = parseCidr(text);
      const Cidr c = parsed.cidr ? *parsed.cidr : *parseCidr(parsed.suggestion).cidr;
      cidrs.push_back(c);
      pod += (pod.empty() ? "" : ", ") + c.str();
    }
    std::vector<std::string> want;
    const auto describe = [&](std::size_t i) { return "pod subnet " + cidrs[i].str(); };
    const auto firstOf = [&](std::size_t j) {
      std::size_t k = 0;
      while (!(cidrs[k] == cidrs[j])) ++k;
      return k;
    };
    for (std::size_t j = 0; j < cidrs.size(); ++j) {
      std::vector<std::size_t> earlier;
      if (firstOf(j) != j) {
        earlier.push_back(firstOf(j));
      } else {
        for (std::size_t k = 0; k < j; ++k) {
          if (firstOf(k) == k && cidrs[k].overlaps(cidrs[j])) earlier.push_back(k);
        }
      }
      for (std::size_t e = 0; e < earlier.size() && e < 5; ++e) {
        want.push_back(describe(j) + " overlaps this member's own " + describe(earlier[e]) +
                       ": list each range once, without overlaps");
      }
      if (earlier.size() > 5) {
        want.push_back(describe(j) + " also overlaps " + std::to_string(earlier.size() - 5) +
                       " more subnets of this member: list each range once, without overlaps");
      }
    }
    const std::vector<Finding> got = runSubnetOverlap(alliance, federation(pod));
    SCOPED_TRACE(pod);
    if (want.size() <= 25) {
      ASSERT_EQ(got.size(), want.size());
    } else {
      ASSERT_EQ(got.size(), 26U);
      EXPECT_EQ(got[25].message, "and " + std::to_string(want.size() - 25) +
                                     " more subnet problems not listed: fix the ones above first");
    }
    for (std::size_t i = 0; i < got.size() && i < 25; ++i) ASSERT_EQ(got[i].message, want[i]);
  }
}

}  // namespace
}  // namespace aw::rules

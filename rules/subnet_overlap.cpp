// subnet-overlap: Istio matches TCP traffic by destination address, so when pod or service
// subnets of two alliance members overlap, requests from one cluster fall under the other's
// rules. Every CIDR the object declares must be well formed and overlap neither its own other
// subnets nor any subnet of the local cluster or another member. Overlaps with other clusters
// of a member reached through the ingress gateway ("acceptable but not recommended") use
// `multiNetworkAction` (between two members: only when both are); everything else uses `action`. A
// member that declares no subnets gets `unknownSubnets`.
#include <algorithm>
#include <map>
#include <tuple>

#include "common/json_view.h"
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/member_object.h"
#include "rules/model/keys.h"

namespace aw::rules {

namespace {

constexpr std::string_view kRule = "subnet-overlap";
// At most this many overlap findings per subnet of the object, then one "and N more".
constexpr std::size_t kMaxOverlapsPerSubnet = 5;
// At most this many findings per object in all (see keepBounded).
constexpr std::size_t kMaxFindings = 25;
constexpr std::string_view kOwnRange = "give every cluster its own range";

using keys::annotationPath;

// "pod subnet 10.0.0.0/16", of the object's subnets (SubnetRef) and the alliance's (Subnet).
template <class S>
std::string describe(const S& s) {
  return std::string(subnetRoleName(s.role)) + " subnet " + s.cidr.str();
}

// An overlap of a multi-network member with another reached through the gateway (see
// reportAllianceOverlaps), and a member declaring no subnets: allow | warn | deny.
constexpr ActionOption kMultiNetworkAction{"multiNetworkAction"};
constexpr ActionOption kUnknownSubnets{"unknownSubnets"};

// The whole annotation value a malformed element came from, when it came from one.
std::optional<std::string_view> annotationValue(json::View object, const std::string& path) {
  for (std::string_view key : {keys::kPodSubnetAnnotation, keys::kServiceSubnetAnnotation}) {
    if (path == annotationPath(key))
      return json::stringAt(object, {"metadata", "annotations", key});
  }
  return std::nullopt;
}

void reportMalformed(const Subject& self, json::View object, RuleContext& rule) {
  for (const BadCidr& bad : self.malformed) {
    std::string message;
    if (bad.text.empty()) {
      const auto whole = annotationValue(object, bad.path);
      const bool blank = !whole || whole->find_first_not_of(" \t") == std::string_view::npos;
      message = blank ? "the value is empty: write a CIDR or a comma-separated list of CIDRs "
                        "(e.g. 10.112.0.0/16), or remove the annotation"
                      : "empty element in the CIDR list " + quoteValue(*whole) +
                            ": remove the stray comma";
    } else {
      message = "invalid CIDR " + quoteValue(bad.text) + ": " + bad.error;
      message += bad.suggestion.empty() ? " (write it like 10.112.0.0/16 or fd00:112::/48)"
                                        : ", did you mean " + bad.suggestion + "?";
    }
    rule.report(bad.path, std::move(message));
  }
}

// One finding for the overlaps of `subnet` beyond the first kMaxOverlapsPerSubnet (of `total`).
void reportRest(const SubnetRef& subnet, std::size_t total, std::string_view whose,
                std::string_view fix, const ActionOption& action, RuleContext& rule) {
  if (total <= kMaxOverlapsPerSubnet) return;
  rule.report(std::string(subnet.path),
              describe(subnet) + " also overlaps " + std::to_string(total - kMaxOverlapsPerSubnet) +
                  " more subnets of " + std::string(whose) + ": " + std::string(fix),
              action);
}

// Up to this many subnets, the object's own overlaps are found by comparing every pair on the
// stack; beyond, through an index. Both find the same pairs in the same order.
constexpr std::size_t kPairwise = 32;

// The pairs of the object's own subnets that overlap: for each j, report(j, forEachEarlier),
// where forEachEarlier(visit) visits, ascending, the first earlier subnet with the same CIDR when
// there is one, else every earlier first occurrence of a CIDR that overlaps subnets[j]. The
// distinct CIDRs of one family are nested or disjoint, so each has at most 129 containers and the
// pairs stay O(n), whatever was written.
template <class Report>
void forEachOwnPairByScan(const SubnetRefs& subnets, Report&& report) {
  const std::size_t n = subnets.size();
  std::array<std::size_t, kPairwise> firstOf{};  // the first subnet with the same CIDR
  for (std::size_t j = 0; j < n; ++j) {
    firstOf[j] = j;
    for (std::size_t k = 0; k < j; ++k) {
      if (subnets[k].cidr == subnets[j].cidr) {
        firstOf[j] = k;
        break;
      }
    }
  }
  for (std::size_t j = 0; j < n; ++j) {
    report(j, [&](auto&& visit) {
      if (firstOf[j] != j) return visit(firstOf[j]);
      for (std::size_t k = 0; k < j; ++k) {
        if (firstOf[k] == k && subnets[k].cidr.overlaps(subnets[j].cidr)) visit(k);
      }
    });
  }
}

template <class Report>
void forEachOwnPairByIndex(const SubnetRefs& subnets, Report&& report) {
  const std::size_t n = subnets.size();
  using Key = std::tuple<bool, std::array<std::uint8_t, 16>, int>;
  std::map<Key, std::size_t> firstSeen;
  std::vector<std::size_t> firstOf(n);
  CidrIndex index;
  for (std::size_t j = 0; j < n; ++j) {
    const Cidr& c = subnets[j].cidr;
    firstOf[j] = firstSeen.try_emplace(Key{c.v6, c.addr, c.prefix}, j).first->second;
    if (firstOf[j] == j) index.add(c, j);
  }
  index.build();
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<std::size_t> earlier;
    if (firstOf[j] != j) {
      earlier.push_back(firstOf[j]);
    } else {
      index.forEachOverlap(subnets[j].cidr, [&](const CidrIndex::Entry& e) {
        if (e.owner < j) earlier.push_back(e.owner);
      });
      std::sort(earlier.begin(), earlier.end());
    }
    report(j, [&](auto&& visit) {
      for (const std::size_t k : earlier) visit(k);
    });
  }
}

// Overlaps among the object's own subnets (pod with service, or within one list). Each pair is
// reported once, on the later-declared subnet; a repeated CIDR against its first occurrence only.
void reportOwnOverlaps(const Subject& self, RuleContext& rule) {
  const SubnetRefs& subnets = self.subnets;
  if (subnets.size() < 2) return;
  // Reports subnets[j] against the earlier subnets forEachEarlier(visit) visits, in order.
  auto report = [&](std::size_t j, auto&& forEachEarlier) {
    const SubnetRef& subnet = subnets[j];
    std::size_t total = 0;
    forEachEarlier([&](std::size_t k) {
      if (total++ >= kMaxOverlapsPerSubnet) return;
      const SubnetRef& other = subnets[k];
      const std::string where =
          other.path == subnet.path ? "" : " (" + std::string(other.path) + ")";
      const std::string_view fix = other.role == subnet.role
                                       ? "list each range once, without overlaps"
                                       : "pods and services need separate ranges";
      rule.report(std::string(subnet.path), describe(subnet) + " overlaps this member's own " +
                                                describe(other) + where + ": " + std::string(fix));
    });
    reportRest(subnet, total, "this member", "list each range once, without overlaps", kAction,
               rule);
  };
  if (subnets.size() <= kPairwise) {
    forEachOwnPairByScan(subnets, report);
  } else {
    forEachOwnPairByIndex(subnets, report);
  }
}

// Overlaps with the local cluster and the other members, found through the alliance's index.
// `multiNetworkAction` applies to an overlap with the local cluster when `self` is reached
// through the ingress gateway, and with another member only when both are; otherwise `action`.
void reportAllianceOverlaps(const Subject& self, RuleContext& rule) {
  const Alliance& alliance = rule.alliance();
  // The action option an overlap with `hit` is reported with.
  auto optionFor = [&](const Alliance::Hit& hit) -> const ActionOption& {
    const bool multiNetwork =
        self.multiNetwork && (hit.member == nullptr || hit.member->multiNetwork);
    return multiNetwork ? kMultiNetworkAction : kAction;
  };
  const Member* firstMember = alliance.members().empty() ? nullptr : &alliance.members().front();
  // Local cluster first, then members in their order, then declaration order within each.
  auto order = [&](const Alliance::Hit& h) {
    const std::ptrdiff_t member = h.member == nullptr ? -1 : h.member - firstMember;
    return std::pair(member, h.subnet);
  };
  for (const SubnetRef& subnet : self.subnets) {
    std::vector<Alliance::Hit> hits = alliance.overlapping(subnet.cidr);
    std::erase_if(hits, [&](const Alliance::Hit& h) {
      return h.member != nullptr && h.member->sameIdentity(self.kind, self.name);
    });
    std::sort(hits.begin(), hits.end(),
              [&](const Alliance::Hit& a, const Alliance::Hit& b) { return order(a) < order(b); });
    for (std::size_t k = 0; k < hits.size() && k < kMaxOverlapsPerSubnet; ++k) {
      const Alliance::Hit& hit = hits[k];
      const std::string other =
          hit.member == nullptr
              ? "the local cluster's " + describe(*hit.subnet) + " (" + hit.subnet->path + ")"
              : describe(*hit.subnet) + " of " + hit.member->origin;
      rule.report(std::string(subnet.path),
                  describe(subnet) + " overlaps " + other + ": " + std::string(kOwnRange),
                  optionFor(hit));
    }
    // The overlaps left unlisted are summed up with the strongest of their actions.
    const ActionOption* rest = &kAction;
    for (std::size_t k = kMaxOverlapsPerSubnet; k < hits.size(); ++k) {
      const ActionOption& option = optionFor(hits[k]);
      if (k == kMaxOverlapsPerSubnet || rule.action(option) > rule.action(*rest)) rest = &option;
    }
    reportRest(subnet, hits.size(), "the local cluster and other members", kOwnRange, *rest, rule);
  }
}

void reportUnknown(const Subject& self, RuleContext& rule) {
  if (self.podDeclared && self.serviceDeclared) return;
  std::string message;
  if (!self.podDeclared && !self.serviceDeclared) {
    message = "no pod or service subnets declared, so overlaps go unchecked: add annotations " +
              std::string(keys::kPodSubnetAnnotation) + " and " +
              std::string(keys::kServiceSubnetAnnotation);
  } else {
    const bool pod = !self.podDeclared;
    message = std::string("no ") + (pod ? "pod" : "service") +
              " subnet declared, so its overlaps go unchecked: add annotation " +
              std::string(pod ? keys::kPodSubnetAnnotation : keys::kServiceSubnetAnnotation);
  }
  rule.report("metadata.annotations", std::move(message), kUnknownSubnets);
}

void check(const Request& request, RuleContext& rule) {
  const Subject& self = subjectMember(request, rule);
  reportMalformed(self, request.object, rule);
  reportOwnOverlaps(self, rule);
  reportAllianceOverlaps(self, rule);
  reportUnknown(self, rule);
  // An annotation listing thousands of ranges must not produce a response of megabytes.
  rule.keepAtMost(kMaxFindings, "metadata.annotations", "subnet problems");
}

}  // namespace

const RuleInfo& subnetOverlapRule() {
  static const RuleInfo kInfo{
      .id = kRule,
      .summary =
          "The pod and service subnets an IstioFederation or IstioMulticluster declares "
          "are valid CIDRs overlapping no other subnet of it, the local cluster or "
          "another member",
      .kinds = {KindId::IstioFederation, KindId::IstioMulticluster},
      .options = {actionOption(kAction, Action::Deny),
                  actionOption(kMultiNetworkAction, Action::Deny),
                  actionOption(kUnknownSubnets, {"allow", "warn", "deny"}, "warn")},
      .reads = kMemberObjectShapes,
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

// federation-trust-domain: an IstioFederation's spec.trustDomain names the remote cluster in
// AuthorizationPolicy principals. `cluster.local` always means the local cluster there, and two
// members with one domain cannot be told apart, so the value must be set, must not be
// cluster.local, the local cluster's domain or another member's domain. A local cluster whose
// own domain is cluster.local cannot federate at all.
#include "common/json_view.h"
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/member_object.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"

namespace aw::rules {

namespace {

constexpr std::string_view kRule = "federation-trust-domain";
constexpr std::string_view kPath = "spec.trustDomain";
constexpr std::string_view kWhatToSet =
    "set it to the remote cluster's own clusterDomain (from its ClusterConfiguration)";

std::string pathNote(const std::string& path) {
  return path.empty() ? "" : " (" + path + ")";
}

// "IstioFederation cluster-d (spec.trustDomain)"; a `members` entry's origin already says where
// it is: "member cluster-c (members[0])".
std::string describeOwner(const Member& m) {
  const std::string entry = "(" + m.domainPath.substr(0, m.domainPath.find('.')) + ")";
  return m.origin.ends_with(entry) ? m.origin : m.origin + pathNote(m.domainPath);
}

// The first other member (never the object itself) whose domain equals `domain`, and how many
// more there are.
struct Clash {
  const Member* first = nullptr;
  std::size_t more = 0;
};

Clash membersWithDomain(const Alliance& alliance, const Subject& self, std::string_view domain) {
  Clash clash;
  for (const std::size_t i : alliance.membersWithDomain(domain)) {
    const Member* m = &alliance.members()[i];
    if (m->sameIdentity(self.kind, self.name)) continue;
    if (clash.first == nullptr) {
      clash.first = m;
    } else {
      ++clash.more;
    }
  }
  return clash;
}

// What is wrong with the value itself. At most one finding: the most fundamental reason wins
// (missing, then cluster.local, then the local domain, then another member's domain), since a
// value that is cluster.local is usually also some other member's and one fix repairs both.
std::string valueProblem(std::optional<std::string_view> written, const Subject& self,
                         const Alliance& alliance) {
  const LocalCluster& local = alliance.local();
  if (!written || NormalizedDomain(*written).view().empty()) {
    const std::string what = !written ? "trust domain is missing"
                             : written->empty()
                                 ? "trust domain is empty"
                                 : "trust domain " + quoteValue(*written) + " is empty";
    return what + ": " + std::string(kWhatToSet) + ", e.g. cluster-b.local";
  }
  // Made only for a message: a trust domain without a problem costs no string.
  const auto value = [&] { return "trust domain " + quoteValue(*written); };
  if (sameDomain(*written, keys::kClusterLocal)) {
    return value() + " is an alias for the local cluster in AuthorizationPolicy principals: " +
           std::string(kWhatToSet) + ", which must not be cluster.local either";
  }
  if (!local.domain.empty() && sameDomain(*written, local.domain)) {
    return value() + " is the local cluster's own domain" + pathNote(local.domainPath) +
           ": every member needs its own, " + std::string(kWhatToSet);
  }
  const Clash clash = membersWithDomain(alliance, self, *written);
  if (clash.first == nullptr) return {};
  std::string owners = describeOwner(*clash.first);
  if (clash.more > 0) {
    owners +=
        " and " + std::to_string(clash.more) + (clash.more == 1 ? " more member" : " more members");
  }
  return value() + " is already the domain of " + owners + ": every member needs its own, " +
         std::string(kWhatToSet);
}

void check(const Request& request, RuleContext& rule) {
  const Subject& self = subjectMember(request, rule);
  const auto written = json::stringAt(request.object, {"spec", "trustDomain"});
  if (std::string problem = valueProblem(written, self, rule.alliance()); !problem.empty()) {
    rule.report(std::string(kPath), std::move(problem));
  }
  const LocalCluster& local = rule.alliance().local();
  if (!local.domain.empty() && sameDomain(local.domain, keys::kClusterLocal)) {
    rule.report(std::string(kPath), "the local cluster's clusterDomain is " +
                                        quoteValue(local.domain) + pathNote(local.domainPath) +
                                        ", an alias no federation member may use: give the local "
                                        "cluster a unique clusterDomain before federating");
  }
}

}  // namespace

const RuleInfo& federationTrustDomainRule() {
  static const RuleInfo kInfo{
      .id = kRule,
      .summary =
          "An IstioFederation's spec.trustDomain is set, is not cluster.local, and differs "
          "from the local cluster's domain and every other member's",
      .kinds = {KindId::IstioFederation},
      .options = {actionOption(kAction, Action::Deny)},
      .reads = kMemberObjectShapes,
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

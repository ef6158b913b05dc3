// multicluster-cluster-domain: the clusters of an Istio multicluster share one clusterDomain
// (Istio addresses remote services by the local domain), so a remote cluster declared with
// another domain cannot work. The declared domain is the object's cluster-domain annotation, or
// the clusterDomain of its `members` entry; a member that declares none gets `unknownDomain`.
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/member_object.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"

namespace aw::rules {

namespace {

// A member declaring no domain: allow | warn | deny.
constexpr ActionOption kUnknownDomain{"unknownDomain"};

void check(const Request& request, RuleContext& rule) {
  const LocalCluster& local = rule.alliance().local();
  const Subject& self = subjectMember(request, rule);
  if (self.domain.empty()) {
    rule.report("metadata.annotations",
                "no cluster domain declared, so it is not compared with the local cluster's: add "
                "annotation " +
                    std::string(keys::kClusterDomainAnnotation),
                kUnknownDomain);
    return;
  }
  if (local.domain.empty() || sameDomain(self.domain, local.domain)) return;
  const std::string localPath = local.domainPath.empty() ? "" : " (" + local.domainPath + ")";
  rule.report(std::string(self.domainPath),
              "cluster domain " + quoteValue(self.domain) + " differs from the local cluster's " +
                  quoteValue(local.domain) + localPath +
                  ": multicluster members must share one clusterDomain, so correct the declared "
                  "domain, or join that cluster with an IstioFederation instead");
}

}  // namespace

const RuleInfo& multiclusterClusterDomainRule() {
  static const RuleInfo kInfo{
      .id = "multicluster-cluster-domain",
      .summary = "An IstioMulticluster's declared cluster domain equals the local cluster's",
      .kinds = {KindId::IstioMulticluster},
      .options = {actionOption(kAction, Action::Deny),
                  actionOption(kUnknownDomain, {"allow", "warn", "deny"}, "warn")},
      .reads = kMemberObjectShapes,
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

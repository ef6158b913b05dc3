// One function per rule file, each returning that rule's metadata and check. Listed, in order,
// by registry.cpp; nothing else includes this header.
#pragma once

#include "rules/registry.h"

namespace aw::rules {

const RuleInfo& servicePortNamesRule();
const RuleInfo& servicePortProtocolRule();
const RuleInfo& publicServiceLabelRule();
const RuleInfo& federationTrustDomainRule();
const RuleInfo& multiclusterClusterDomainRule();
const RuleInfo& subnetOverlapRule();
const RuleInfo& serviceEntryPortsRule();
const RuleInfo& serviceEntryDefaultsRule();

}  // namespace aw::rules

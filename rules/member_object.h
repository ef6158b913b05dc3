// What the alliance rules (federation-trust-domain, multicluster-cluster-domain, subnet-overlap)
// share: the fields of an IstioFederation / IstioMulticluster they read, and the member that the
// object under admission describes.
#pragma once

#include <string>
#include <vector>

#include "rules/engine/shape.h"
#include "rules/model/alliance.h"
#include "rules/registry.h"

namespace aw::rules {

// Everything memberFromObject reads, so a wrong type is an object-shape error, not a silent
// "undeclared".
inline const std::vector<FieldShape> kMemberObjectShapes = {
    {"metadata", kObject},
    {"metadata.name", kString},
    {"metadata.annotations", kObject},
    {"metadata.annotations{}", kString},
    {"spec", kObject},
    {"spec.trustDomain", kString},
    {"spec.enableIngressGateway", kBoolean},
};

// The object's identity: metadata.name, or the request's name when the object has none.
std::string_view subjectName(const Request& request);

// The member the object under admission describes: its annotations and spec, filled in by the
// `members` entry of the same kind and name. The alliance's own entry of that identity (a
// `members` entry, or the object's stored version on UPDATE) is the object itself, never
// something to compare with: rules skip it with Subject::sameIdentity. It views the request's
// object and the alliance, and is read once per request: the rules of one run share it.
const Subject& subjectMember(const Request& request, RuleContext& rule);

}  // namespace aw::rules

#include "rules/alliance.h"

#include <limits>

#include "rules/json_access.h"
#include "rules/keys.h"

namespace aw::rules {

namespace {
constexpr std::size_t kLocal = std::numeric_limits<std::size_t>::max();

using keys::annotationPath;

// The configured subnets of one role, taken over by an object that declares none of its own.
void inherit(Member& m, const Member& configured, SubnetRole role) {
  for (const Subnet& s : configured.subnets) {
    if (s.role == role) m.subnets.push_back(s);
  }
  (role == SubnetRole::Pod ? m.podDeclared : m.serviceDeclared) = true;
}
}  // namespace

std::string_view subnetRoleName(SubnetRole r) {
  return r == SubnetRole::Pod ? "pod" : "service";
}

void addSubnets(Member& member, std::string_view text, SubnetRole role, const std::string& path) {
  for (const std::string& element : splitCidrList(text)) {
    CidrParse p = parseCidr(element);
    if (p.cidr) {
      member.subnets.push_back({*p.cidr, role, path});
    } else {
      member.malformed.push_back({element, path, p.error, p.suggestion});
    }
  }
  (role == SubnetRole::Pod ? member.podDeclared : member.serviceDeclared) = true;
}

Member memberFromObject(KindId kind, const nlohmann::json& object, const Member* configured) {
  Member m;
  m.kind = kind;
  const nlohmann::json* spec = json::child(&object, "spec");
  if (const std::string* name = json::string(json::at(&object, {"metadata", "name"})))
    m.name = *name;
  m.origin = std::string(kindInfo(kind).kind) + " " + m.name;
  const nlohmann::json* annotations = json::at(&object, {"metadata", "annotations"});
  auto annotation = [&](std::string_view key) {
    return json::string(json::child(annotations, key));
  };

  if (const std::string* pod = annotation(keys::kPodSubnetAnnotation)) {
    addSubnets(m, *pod, SubnetRole::Pod, annotationPath(keys::kPodSubnetAnnotation));
  } else if (configured && configured->podDeclared) {
    inherit(m, *configured, SubnetRole::Pod);
  }
  if (const std::string* svc = annotation(keys::kServiceSubnetAnnotation)) {
    addSubnets(m, *svc, SubnetRole::Service, annotationPath(keys::kServiceSubnetAnnotation));
  } else if (configured && configured->serviceDeclared) {
    inherit(m, *configured, SubnetRole::Service);
  }

  if (kind == KindId::IstioFederation) {
    if (const std::string* td = json::string(json::child(spec, "trustDomain"))) {
      m.domain = *td;
      m.domainPath = "spec.trustDomain";
    }
  } else {
    if (const std::string* d = annotation(keys::kClusterDomainAnnotation)) {
      m.domain = *d;
      m.domainPath = annotationPath(keys::kClusterDomainAnnotation);
    }
    const nlohmann::json* ingress = json::child(spec, "enableIngressGateway");
    m.multiNetwork = !(ingress && ingress->is_boolean() && !ingress->get<bool>());
  }
  if (m.domain.empty() && configured && !configured->domain.empty()) {
    m.domain = configured->domain;
    m.domainPath = configured->domainPath;
  }
  return m;
}

std::vector<Member> overlayMembers(std::vector<Member> base, std::vector<Member> overlay) {
  for (Member& o : overlay) {
    bool replaced = false;
    for (Member& b : base) {
      if (b.sameIdentity(o.kind, o.name)) {
        b = std::move(o);
        replaced = true;
        break;
      }
    }
    if (!replaced) base.push_back(std::move(o));
  }
  return base;
}

Alliance::Alliance(LocalCluster local, std::vector<Member> members)
    : local_(std::move(local)), members_(std::move(members)) {
  build();
}

void Alliance::build() {
  for (std::size_t s = 0; s < local_.subnets.size(); ++s) {
    index_.add(local_.subnets[s].cidr, refs_.size());
    refs_.push_back({kLocal, s});
  }
  for (std::size_t m = 0; m < members_.size(); ++m) {
    for (std::size_t s = 0; s < members_[m].subnets.size(); ++s) {
      index_.add(members_[m].subnets[s].cidr, refs_.size());
      refs_.push_back({m, s});
    }
  }
  index_.build();
}

const Member* findMember(const std::vector<Member>& members, KindId kind, std::string_view name) {
  for (const Member& m : members) {
    if (m.sameIdentity(kind, name)) return &m;
  }
  return nullptr;
}

const Member* Alliance::find(KindId kind, std::string_view name) const {
  return findMember(members_, kind, name);
}

std::vector<Alliance::Hit> Alliance::overlapping(const Cidr& cidr) const {
  std::vector<Hit> hits;
  index_.forEachOverlap(cidr, [&](const CidrIndex::Entry& e) {
    const Ref& r = refs_[e.owner];
    if (r.member == kLocal) {
      hits.push_back({&local_.subnets[r.subnet], nullptr});
    } else {
      hits.push_back({&members_[r.member].subnets[r.subnet], &members_[r.member]});
    }
  });
  return hits;
}

}  // namespace aw::rules

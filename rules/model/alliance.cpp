#include "rules/model/alliance.h"

#include <limits>

#include "common/json_view.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"

namespace aw::rules {

namespace {
constexpr std::size_t kLocal = std::numeric_limits<std::size_t>::max();

using keys::annotationPath;

// The configured subnets of one role, taken over by an object that declares none of its own.
// Pod subnets go first, as an object's own annotations list them.
void inherit(Member& m, const Member& configured, SubnetRole role) {
  std::vector<Subnet> taken;
  for (const Subnet& s : configured.subnets) {
    if (s.role == role) taken.push_back(s);
  }
  m.subnets.insert(role == SubnetRole::Pod ? m.subnets.begin() : m.subnets.end(), taken.begin(),
                   taken.end());
  (role == SubnetRole::Pod ? m.podDeclared : m.serviceDeclared) = true;
}

std::string identityKey(KindId kind, std::string_view name) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(kind)));
  key += name;
  return key;
}

// The member of that kind and name, or nullptr.
const Member* findMember(const std::vector<Member>& members, KindId kind, std::string_view name) {
  for (const Member& m : members) {
    if (m.sameIdentity(kind, name)) return &m;
  }
  return nullptr;
}

// `base` with every member of `overlay` replacing the one of the same kind and name (the
// object's annotations win over a configured entry) or appended.
std::vector<Member> overlayMembers(std::vector<Member> base, std::vector<Member> overlay) {
  // By identity, so that thousands of cluster members overlay in linear time.
  std::unordered_map<std::string, std::size_t> at;
  at.reserve(base.size() + overlay.size());
  for (std::size_t i = 0; i < base.size(); ++i)
    at.emplace(identityKey(base[i].kind, base[i].name), i);
  for (Member& o : overlay) {
    const auto [it, added] = at.emplace(identityKey(o.kind, o.name), base.size());
    if (added) {
      base.push_back(std::move(o));
    } else {
      base[it->second] = std::move(o);
    }
  }
  return base;
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

Member memberFromObject(KindId kind, json::View object, const Member* configured) {
  Member m;
  m.kind = kind;
  const json::View spec = json::child(object, "spec");
  if (const auto name = json::stringAt(object, {"metadata", "name"})) m.name = *name;
  m.origin = std::string(kindInfo(kind).kind) + " " + m.name;
  const json::View annotations = json::at(object, {"metadata", "annotations"});
  auto annotation = [&](std::string_view key) {
    return json::string(json::child(annotations, key));
  };

  if (const auto pod = annotation(keys::kPodSubnetAnnotation)) {
    addSubnets(m, *pod, SubnetRole::Pod, annotationPath(keys::kPodSubnetAnnotation));
  }
  if (const auto svc = annotation(keys::kServiceSubnetAnnotation)) {
    addSubnets(m, *svc, SubnetRole::Service, annotationPath(keys::kServiceSubnetAnnotation));
  }
  if (kind == KindId::IstioFederation) {
    if (const auto td = json::string(json::child(spec, "trustDomain"))) {
      m.domain = *td;
      m.domainPath = "spec.trustDomain";
    }
  } else {
    if (const auto d = annotation(keys::kClusterDomainAnnotation)) {
      m.domain = *d;
      m.domainPath = annotationPath(keys::kClusterDomainAnnotation);
    }
    const std::optional<bool> ingress = json::child(spec, "enableIngressGateway").boolean();
    m.multiNetwork = !(ingress && !*ingress);
  }
  return withConfigured(std::move(m), configured);
}

Member withConfigured(Member m, const Member* configured) {
  if (configured == nullptr) return m;
  if (!m.podDeclared && configured->podDeclared) inherit(m, *configured, SubnetRole::Pod);
  if (!m.serviceDeclared && configured->serviceDeclared) {
    inherit(m, *configured, SubnetRole::Service);
  }
  if (m.domain.empty() && !configured->domain.empty()) {
    m.domain = configured->domain;
    m.domainPath = configured->domainPath;
  }
  return m;
}

Alliance::Alliance(LocalCluster local, std::vector<Member> configured, std::vector<Member> observed)
    : local_(std::move(local)), configured_(std::move(configured)) {
  for (Member& o : observed) {
    const Member* entry = findMember(configured_, o.kind, o.name);
    o = withConfigured(std::move(o), entry);
  }
  members_ = overlayMembers(configured_, std::move(observed));
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
  byIdentity_.reserve(members_.size());
  for (std::size_t m = 0; m < members_.size(); ++m) {
    byIdentity_.emplace(identityKey(members_[m].kind, members_[m].name), m);
    std::string domain = normalizeDomain(members_[m].domain);
    if (!domain.empty()) byDomain_[std::move(domain)].push_back(m);
  }
  localDomain_ = normalizeDomain(local_.domain);
}

const Member* Alliance::find(KindId kind, std::string_view name) const {
  const auto it = byIdentity_.find(identityKey(kind, name));
  return it == byIdentity_.end() ? nullptr : &members_[it->second];
}

const Member* Alliance::findConfigured(KindId kind, std::string_view name) const {
  return findMember(configured_, kind, name);
}

std::vector<const Member*> Alliance::membersWithDomain(const std::string& normalized) const {
  std::vector<const Member*> out;
  if (const auto it = byDomain_.find(normalized); it != byDomain_.end()) {
    for (std::size_t m : it->second) out.push_back(&members_[m]);
  }
  return out;
}

bool Alliance::knowsDomain(const std::string& normalized) const {
  return !normalized.empty() && (normalized == localDomain_ || byDomain_.contains(normalized));
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

#include "rules/model/alliance.h"

#include <limits>

#include "common/json_view.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"

namespace aw::rules {

namespace {
constexpr std::size_t kLocal = std::numeric_limits<std::size_t>::max();

using keys::annotationPath;

// The field paths of the annotations a member is read from, made once: Subject views them.
struct AnnotationPaths {
  std::string pod = annotationPath(keys::kPodSubnetAnnotation);
  std::string service = annotationPath(keys::kServiceSubnetAnnotation);
  std::string clusterDomain = annotationPath(keys::kClusterDomainAnnotation);
};
const AnnotationPaths& annotationPaths() {
  static const AnnotationPaths kPaths;
  return kPaths;
}

constexpr std::string_view kTrustDomainPath = "spec.trustDomain";

// Both forms of addSubnets: Member's subnets own their path, Subject's view it.
template <class M, class Path>
void parseSubnets(M& m, std::string_view text, SubnetRole role, const Path& path) {
  forEachCidrListElement(text, [&](std::string_view element) {
    CidrParse p = parseCidr(element);
    if (p.cidr) {
      m.subnets.push_back({*p.cidr, role, path});
    } else {
      m.malformed.push_back(
          {std::string(element), std::string(path), std::move(p.error), std::move(p.suggestion)});
    }
  });
  (role == SubnetRole::Pod ? m.podDeclared : m.serviceDeclared) = true;
}

// What `observed` leaves undeclared (the subnets of a role, the domain), from `configured`. A
// role's configured subnets are taken whole; pod subnets go first, as an object's own
// annotations list them.
void fillIn(Subject& s, const Member* configured) {
  if (configured == nullptr) return;
  const bool pod = !s.podDeclared && configured->podDeclared;
  const bool service = !s.serviceDeclared && configured->serviceDeclared;
  if (pod || service) {
    SubnetRefs merged;
    auto take = [&](SubnetRole role) {
      for (const Subnet& c : configured->subnets) {
        if (c.role == role) merged.push_back({c.cidr, c.role, c.path});
      }
    };
    if (pod) take(SubnetRole::Pod);
    for (const SubnetRef& own : s.subnets) merged.push_back(own);
    if (service) take(SubnetRole::Service);
    s.subnets = std::move(merged);
    s.podDeclared = s.podDeclared || pod;
    s.serviceDeclared = s.serviceDeclared || service;
  }
  if (s.domain.empty() && !configured->domain.empty()) {
    s.domain = configured->domain;
    s.domainPath = configured->domainPath;
  }
}

// `m` borrowed, and back: the owned form.
Subject view(const Member& m) {
  Subject s;
  s.kind = m.kind;
  s.name = m.name;
  s.domain = m.domain;
  s.domainPath = m.domainPath;
  for (const Subnet& subnet : m.subnets)
    s.subnets.push_back({subnet.cidr, subnet.role, subnet.path});
  s.malformed = m.malformed;
  s.podDeclared = m.podDeclared;
  s.serviceDeclared = m.serviceDeclared;
  s.multiNetwork = m.multiNetwork;
  return s;
}

Member own(const Subject& s) {
  Member m;
  m.kind = s.kind;
  m.name = s.name;
  m.domain = s.domain;
  m.domainPath = s.domainPath;
  for (const SubnetRef& subnet : s.subnets) {
    m.subnets.push_back({subnet.cidr, subnet.role, std::string(subnet.path)});
  }
  m.malformed = s.malformed;
  m.podDeclared = s.podDeclared;
  m.serviceDeclared = s.serviceDeclared;
  m.multiNetwork = s.multiNetwork;
  m.origin = std::string(kindInfo(s.kind).kind) + " " + m.name;
  return m;
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

void SubnetRefs::push_back(const SubnetRef& s) {
  if (spilled_.empty() && size_ < kInline) {
    inline_[size_++] = s;
    return;
  }
  if (spilled_.empty()) spilled_.assign(inline_.begin(), inline_.end());
  spilled_.push_back(s);
}

void addSubnets(Subject& s, std::string_view text, SubnetRole role, std::string_view path) {
  parseSubnets(s, text, role, path);
}

void addSubnets(Member& member, std::string_view text, SubnetRole role, const std::string& path) {
  parseSubnets(member, text, role, path);
}

Subject readSubject(KindId kind, json::View object, const Member* configured) {
  Subject s;
  s.kind = kind;
  if (const auto name = json::stringAt(object, {"metadata", "name"})) s.name = *name;
  const json::View annotations = json::at(object, {"metadata", "annotations"});
  auto annotation = [&](std::string_view key) {
    return json::string(json::child(annotations, key));
  };
  const AnnotationPaths& paths = annotationPaths();
  if (const auto pod = annotation(keys::kPodSubnetAnnotation)) {
    addSubnets(s, *pod, SubnetRole::Pod, paths.pod);
  }
  if (const auto svc = annotation(keys::kServiceSubnetAnnotation)) {
    addSubnets(s, *svc, SubnetRole::Service, paths.service);
  }
  const json::View spec = json::child(object, "spec");
  if (kind == KindId::IstioFederation) {
    if (const auto td = json::string(json::child(spec, "trustDomain"))) {
      s.domain = *td;
      s.domainPath = kTrustDomainPath;
    }
  } else {
    if (const auto d = annotation(keys::kClusterDomainAnnotation)) {
      s.domain = *d;
      s.domainPath = paths.clusterDomain;
    }
    const std::optional<bool> ingress = json::child(spec, "enableIngressGateway").boolean();
    s.multiNetwork = !(ingress && !*ingress);
  }
  fillIn(s, configured);
  return s;
}

Member memberFromObject(KindId kind, json::View object, const Member* configured) {
  return own(readSubject(kind, object, configured));
}

Member withConfigured(Member observed, const Member* configured) {
  if (configured == nullptr) return observed;
  Subject s = view(observed);
  fillIn(s, configured);
  Member m = own(s);
  m.origin = std::move(observed.origin);
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

std::span<const std::size_t> Alliance::membersWithDomain(std::string_view domain) const {
  const auto it = byDomain_.find(NormalizedDomain(domain).view());
  if (it == byDomain_.end()) return {};
  return it->second;
}

bool Alliance::knowsDomain(std::string_view normalized) const {
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

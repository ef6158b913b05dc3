// The members of an alliance (federation or multicluster) and the local cluster, with an index
// of every declared subnet. Built once per configuration / cluster-state snapshot, read by many
// admission threads at once (immutable after construction).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/json_view.h"
#include "rules/model/cidr.h"
#include "rules/model/kinds.h"

namespace aw::rules {

enum class SubnetRole { Pod, Service };
std::string_view subnetRoleName(SubnetRole r);  // "pod", "service"

struct Subnet {
  Cidr cidr;
  SubnetRole role = SubnetRole::Pod;
  std::string
      path;  // where it was declared: localCluster.podSubnetCIDR, members[1]..., annotations
};

struct BadCidr {
  std::string text;        // the value as written
  std::string path;        // where it was written
  std::string error;       // what is wrong
  std::string suggestion;  // what was probably meant, may be empty
};

struct LocalCluster {
  std::string domain;      // empty when unknown
  std::string domainPath;  // e.g. localCluster.clusterDomain
  std::vector<Subnet> subnets;
};

struct Member {
  KindId kind = KindId::IstioFederation;
  std::string name;
  std::string domain;  // trust domain (federation) or cluster domain (multicluster); "" unknown
  std::string domainPath;
  std::vector<Subnet> subnets;
  std::vector<BadCidr> malformed;
  bool podDeclared = false;
  bool serviceDeclared = false;
  // Reached through the ingress gateway (every IstioFederation; an IstioMulticluster unless
  // spec.enableIngressGateway is false): overlaps are "acceptable but not recommended".
  bool multiNetwork = true;
  // How a message names this member: "IstioFederation cluster-b", "members[0] (cluster-c)".
  std::string origin;

  bool sameIdentity(KindId k, std::string_view n) const { return kind == k && name == n; }
};

// A subnet of the object under admission. `path` views a constant or a configured member's path.
struct SubnetRef {
  Cidr cidr;
  SubnetRole role = SubnetRole::Pod;
  std::string_view path;
};

// The subnets of one object, in declaration order: the first kInline without touching the heap.
class SubnetRefs {
 public:
  static constexpr std::size_t kInline = 8;
  void push_back(const SubnetRef& s);
  std::size_t size() const { return spilled_.empty() ? size_ : spilled_.size(); }
  bool empty() const { return size() == 0; }
  const SubnetRef* begin() const { return spilled_.empty() ? inline_.data() : spilled_.data(); }
  const SubnetRef* end() const { return begin() + size(); }
  const SubnetRef& operator[](std::size_t i) const { return begin()[i]; }

 private:
  std::array<SubnetRef, kInline> inline_{};
  std::size_t size_ = 0;
  std::vector<SubnetRef> spilled_;  // all of them, once there are more than kInline
};

// The member an IstioFederation / IstioMulticluster object describes, as the alliance rules read
// it on every admission: it borrows every string from the object's parse and from the configured
// member filling it in, so it is valid while both are, and allocates nothing unless a CIDR is
// malformed or the object lists more than SubnetRefs::kInline subnets. Member is the owning
// form the alliance keeps.
struct Subject {
  KindId kind = KindId::IstioFederation;
  std::string_view name;
  std::string_view domain;  // trust domain (federation) or cluster domain (multicluster)
  std::string_view domainPath;
  SubnetRefs subnets;
  std::vector<BadCidr> malformed;
  bool podDeclared = false;
  bool serviceDeclared = false;
  bool multiNetwork = true;  // as Member::multiNetwork

  bool sameIdentity(KindId k, std::string_view n) const { return kind == k && name == n; }
};

// What an object declares itself (annotations and spec; wrong types count as undeclared), and
// then what it leaves undeclared (the subnets of a role, the domain) filled in from `configured`,
// the `members` entry of the same kind and name (may be null).
Subject readSubject(KindId kind, json::View object, const Member* configured = nullptr);

// Parses a CIDR list ("a, b") into subnets / malformed, each element with the list's `path`
// (annotation values are one string), and marks the role declared. `path` must outlive `s`.
void addSubnets(Subject& s, std::string_view text, SubnetRole role, std::string_view path);
// The same for an owned member (configuration, tests).
void addSubnets(Member& member, std::string_view text, SubnetRole role, const std::string& path);

// A member read from an IstioFederation / IstioMulticluster object (readSubject), owned.
Member memberFromObject(KindId kind, json::View object, const Member* configured = nullptr);
// `observed` (read from an object alone) with what it leaves undeclared (subnets of a role,
// domain) taken from `configured`, the `members` entry of the same kind and name (may be null).
Member withConfigured(Member observed, const Member* configured);

class Alliance {
 public:
  Alliance() { build(); }
  // `configured`: the `members` entries of the configuration. `observed`: members read from
  // objects alone (memberFromObject without a configured entry): the cluster's IstioFederations
  // and IstioMulticlusters, or the objects of a `check` run. An observed member replaces the
  // configured one of the same kind and name, which fills in what the object leaves undeclared.
  Alliance(LocalCluster local, std::vector<Member> configured, std::vector<Member> observed = {});

  const LocalCluster& local() const { return local_; }
  const std::vector<Member>& members() const { return members_; }
  const Member* find(KindId kind, std::string_view name) const;
  // The `members` entry of the configuration of that kind and name, or nullptr: what fills in
  // an admitted object's undeclared fields (never an earlier version of the object itself).
  const Member* findConfigured(KindId kind, std::string_view name) const;
  // The indexes into members() of every member whose domain is `domain` (sameDomain).
  std::span<const std::size_t> membersWithDomain(std::string_view domain) const;
  // True when `normalized` is the local cluster's domain or some member's.
  bool knowsDomain(std::string_view normalized) const;

  struct Hit {
    const Subnet* subnet;
    const Member* member;  // nullptr: the local cluster
  };
  // Every declared subnet (local cluster and members) that overlaps `cidr`.
  std::vector<Hit> overlapping(const Cidr& cidr) const;

 private:
  void build();
  LocalCluster local_;
  std::vector<Member> configured_;
  std::vector<Member> members_;
  // Indexes into members_ (never pointers, so a copied Alliance stays whole).
  std::unordered_map<std::string, std::size_t> byIdentity_;  // identityKey(kind, name)
  struct Hash {  // looks up string_views without making a string
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  // By normalized domain.
  std::unordered_map<std::string, std::vector<std::size_t>, Hash, std::equal_to<>> byDomain_;
  std::string localDomain_;  // normalized
  struct Ref {
    std::size_t member;  // npos: local cluster
    std::size_t subnet;
  };
  std::vector<Ref> refs_;
  CidrIndex index_;
};

}  // namespace aw::rules

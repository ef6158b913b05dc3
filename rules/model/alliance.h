// The members of an alliance (federation or multicluster) and the local cluster, with an index
// of every declared subnet. Built once per configuration / cluster-state snapshot, read by many
// admission threads at once (immutable after construction).
#pragma once

#include <cstddef>
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

// Parses a CIDR list ("a, b") into member.subnets / member.malformed. Single values get `path`;
// list elements get `path` too (annotation values are one string), config lists get path[i].
void addSubnets(Member& member, std::string_view text, SubnetRole role, const std::string& path);

// A member read from an IstioFederation / IstioMulticluster object: annotations and spec.
// Where the object declares nothing, `configured` (the `members` entry of the same kind and name,
// may be null) fills in. Tolerates any JSON shape (wrong types count as undeclared).
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
  // Every member whose domain, normalized (normalizeDomain), is `normalized`.
  std::vector<const Member*> membersWithDomain(const std::string& normalized) const;
  // True when `normalized` is the local cluster's domain or some member's.
  bool knowsDomain(const std::string& normalized) const;

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
  std::unordered_map<std::string, std::size_t> byIdentity_;             // identityKey(kind, name)
  std::unordered_map<std::string, std::vector<std::size_t>> byDomain_;  // normalized domain
  std::string localDomain_;                                             // normalized
  struct Ref {
    std::size_t member;  // npos: local cluster
    std::size_t subnet;
  };
  std::vector<Ref> refs_;
  CidrIndex index_;
};

}  // namespace aw::rules

// serviceentry-defaults (mutating, SPEC §6): makes Istio's implicit ServiceEntry behaviour
// explicit and repairs combinations the ServiceEntry CRD would reject. It only adds fields that
// are absent (a null value counts as absent: the API server prunes it), never changes or removes
// one, and records what it set in the alliance-webhook.io/defaulted annotation. The patch holds
// one operation per field it sets, so its cost follows what changed, not the object's size.
//
// What Istio does with each field when it is absent, and why each default equals it:
// - ports[].protocol: Istio reads a ServiceEntry port's protocol from this field alone (never
//   from the name); empty means "detect the protocol". So it is only filled in when the port's
//   name already declares it by a known prefix (http-web: HTTP), which is what the name says the
//   author meant; otherwise it stays unset, since TCP would switch detection off.
// - ports[].name: the CRD requires a name (ports are a list-map keyed by it), so an object
//   without one is rejected: `<protocol>-<number>` when the protocol is written, else
//   `port-<number>` (a name with no protocol prefix, so no later default reads one into it).
// - resolution: absent is NONE, which the CRD rejects together with endpoints; STATIC or DNS
//   repairs that, by what the endpoint addresses are.
// - location: absent is MESH_EXTERNAL. Hosts under the local or a member cluster's domain are
//   services of the alliance's own mesh, so they get MESH_INTERNAL (SPEC §6).
//
// Where SPEC §6 leaves room, these choices keep the patched object acceptable to the CRD:
// - A generated port name that another port already uses gets `-2`, `-3`, ... appended. The
//   protocol part is lower-cased with any character outside [a-z0-9-] turned into '-', cut at 64
//   characters. A port without an integer number gets no name (there is nothing to build it
//   from).
// - resolution is NONE only when `endpoints` is absent: the CRD says "NONE mode cannot set
//   endpoints" (has(self.endpoints)), so an empty list, or endpoints that only name a network,
//   get STATIC. An empty address counts like no address.
// - DNS is not set while spec.addresses holds a CIDR ("CIDR addresses are allowed only for
//   NONE/STATIC"): resolution stays unset and the user decides.
#include <algorithm>
#include <set>

#include "common/json_text.h"
#include "common/json_view.h"
#include "common/text.h"
#include "rules/all_rules.h"
#include "rules/model/cidr.h"
#include "rules/model/domain.h"
#include "rules/model/keys.h"
#include "rules/model/protocols.h"

namespace aw::rules {

namespace {

// RFC 6901: '~' is written "~0" and '/' is written "~1".
std::string pointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

struct Change {
  Patch ops;
  std::vector<std::string> paths;  // field paths for the defaulted annotation, in order

  void add(std::string_view pointer, std::string_view value, std::string fieldPath) {
    ops.addString("add", pointer, value);
    paths.push_back(std::move(fieldPath));
  }
};

// ---------------------------------------------------------------------------------------------
// ports[i].protocol and ports[i].name

// "" for an empty protocol.
std::string nameStem(std::string_view protocol) {
  constexpr std::size_t kMaxStem = 64;  // keeps the name far below the CRD's maxLength 256
  std::string out;
  for (char c : protocol.substr(0, kMaxStem)) {
    const char lower = asciiLower(c);
    out += (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ? lower : '-';
  }
  return out;
}

void defaultPorts(json::View spec, Change& change) {
  const json::View ports = json::child(spec, "ports");
  std::set<std::string, std::less<>> taken;
  for (const json::View port : ports.elements()) {
    if (const auto name = json::string(json::child(port, "name"))) taken.emplace(*name);
  }
  std::size_t i = 0;
  for (const json::View port : ports.elements()) {
    const std::string index = std::to_string(i++);
    if (!port.isObject()) continue;
    const auto name = json::string(json::child(port, "name"));
    std::string protocol;
    if (const json::View written = json::child(port, "protocol")) {
      protocol = written.string().value_or("");
    } else if (const Protocol* known = name ? protocolOfPortName(*name) : nullptr) {
      protocol = std::string(known->canonical);
      change.add("/spec/ports/" + index + "/protocol", protocol,
                 "spec.ports[" + index + "].protocol");
    }
    if (json::child(port, "name")) continue;
    const json::View number = json::child(port, "number");
    if (!number.isInteger()) continue;
    const std::string protocolStem = nameStem(protocol);
    const std::string stem =
        (protocolStem.empty() ? "port" : protocolStem) + "-" + json::scalarText(number);
    std::string candidate = stem;
    for (int n = 2; taken.contains(candidate); ++n) candidate = stem + "-" + std::to_string(n);
    taken.insert(candidate);
    change.add("/spec/ports/" + index + "/name", candidate, "spec.ports[" + index + "].name");
  }
}

// ---------------------------------------------------------------------------------------------
// resolution

// True when some endpoint address is a host name (neither an IP nor a unix:// socket).
bool hasHostNameEndpoint(json::View endpoints) {
  for (const json::View endpoint : endpoints.elements()) {
    const auto address = json::string(json::child(endpoint, "address"));
    if (!address || address->empty()) continue;  // network-only: counts neither way
    if (address->starts_with("unix://") || isIpAddress(*address)) continue;
    return true;
  }
  return false;
}

bool hasCidrAddress(json::View spec) {
  for (const json::View a : json::child(spec, "addresses").elements()) {
    const auto text = a.string();
    if (text && text->find('/') != std::string_view::npos) return true;
  }
  return false;
}

// "" when resolution should stay unset.
std::string_view defaultResolution(json::View spec) {
  const json::View endpoints = json::child(spec, "endpoints");
  if (!endpoints) return "NONE";
  if (!endpoints.isArray()) return {};
  if (!hasHostNameEndpoint(endpoints)) return "STATIC";
  return hasCidrAddress(spec) ? std::string_view() : "DNS";
}

// ---------------------------------------------------------------------------------------------
// location

// hostUnderDomain(host, d) for the local cluster's or some member's domain d, by looking up
// each of the host's label suffixes (the whole host included) instead of scanning every domain.
bool underSomeDomain(std::string_view host, const Alliance& alliance) {
  const NormalizedDomain normalized(host);
  const std::string_view h = normalized.view();
  if (h.empty()) return false;
  if (alliance.knowsDomain(h)) return true;
  for (std::size_t dot = h.find('.'); dot != std::string_view::npos; dot = h.find('.', dot + 1)) {
    if (alliance.knowsDomain(h.substr(dot + 1))) return true;
  }
  return false;
}

// "" when location should stay unset (no hosts).
std::string_view defaultLocation(json::View spec, const Alliance& alliance) {
  const json::View hosts = json::array(json::child(spec, "hosts"));
  if (hosts.size() == 0) return {};
  for (const json::View host : hosts.elements()) {
    const auto h = host.string();
    if (!h || !underSomeDomain(*h, alliance)) return "MESH_EXTERNAL";
  }
  return "MESH_INTERNAL";
}

// ---------------------------------------------------------------------------------------------
// the defaulted annotation

void recordPaths(json::View object, const std::vector<std::string>& paths, Patch& ops) {
  const json::View metadata = json::child(object, "metadata");
  const json::View annotations = json::child(metadata, "annotations");
  const auto existing = json::string(json::child(annotations, keys::kDefaultedAnnotation));

  std::set<std::string, std::less<>> listed;
  std::string value = existing ? std::string(*existing) : std::string();
  for (std::size_t pos = 0; pos <= value.size();) {
    const std::size_t comma = std::min(value.find(',', pos), value.size());
    listed.emplace(value.substr(pos, comma - pos));
    pos = comma + 1;
  }
  bool appended = false;
  for (const std::string& p : paths) {
    if (!listed.insert(p).second) continue;
    value += (value.empty() ? "" : ",") + p;
    appended = true;
  }
  if (!appended) return;

  const std::string_view key = keys::kDefaultedAnnotation;
  if (metadata && annotations) {
    ops.addString(existing ? "replace" : "add", "/metadata/annotations/" + pointerToken(key),
                  value);
    return;
  }
  // {KEY: VALUE}, inside {"annotations": ...} when metadata itself is missing.
  std::string added = metadata ? "{" : R"({"annotations":{)";
  aw::json::appendString(added, key);
  added += ':';
  aw::json::appendString(added, value);
  added += metadata ? "}" : "}}";
  ops.addJson("add", metadata ? "/metadata/annotations" : "/metadata", added);
}

// ---------------------------------------------------------------------------------------------

void check(const Request& request, RuleContext& rule) {
  const json::View spec = json::object(json::child(request.object, "spec"));
  if (!spec) return;
  Change change;
  defaultPorts(spec, change);
  if (!json::child(spec, "resolution")) {
    if (std::string_view r = defaultResolution(spec); !r.empty()) {
      change.add("/spec/resolution", r, "spec.resolution");
    }
  }
  if (!json::child(spec, "location")) {
    if (std::string_view l = defaultLocation(spec, rule.alliance()); !l.empty()) {
      change.add("/spec/location", l, "spec.location");
    }
  }
  if (change.paths.empty()) return;
  recordPaths(request.object, change.paths, change.ops);
  rule.patch(change.ops);
}

}  // namespace

const RuleInfo& serviceEntryDefaultsRule() {
  static const RuleInfo kInfo{
      .id = "serviceentry-defaults",
      .summary =
          "Fills in a ServiceEntry's missing port protocols and names, resolution and "
          "location, and lists them in the alliance-webhook.io/defaulted annotation",
      .kinds = {KindId::ServiceEntry},
      .options = {switchOption(true)},
      .mutating = true,
      .reads = {{"metadata", kObject},
                {"metadata.annotations", kObject},
                {"metadata.annotations{}", kString},
                {"spec", kObject},
                {"spec.ports", kArray},
                {"spec.ports[]", kObject},
                {"spec.ports[].name", kString},
                {"spec.ports[].number", kInteger},
                {"spec.ports[].protocol", kString},
                {"spec.ports[].targetPort", kInteger},
                {"spec.endpoints", kArray},
                {"spec.endpoints[]", kObject},
                {"spec.endpoints[].address", kString},
                {"spec.endpoints[].network", kString},
                {"spec.hosts", kArray},
                {"spec.hosts[]", kString},
                {"spec.resolution", kString},
                {"spec.location", kString},
                {"spec.addresses", kArray},
                {"spec.addresses[]", kString}},
      .check = check,
  };
  return kInfo;
}

}  // namespace aw::rules

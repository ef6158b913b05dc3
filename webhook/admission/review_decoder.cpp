#include "webhook/admission/review_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rules/registry.h"

// Why simdjson's DOM parser (measured with callgrind, instructions per request, bench payloads):
//   public Service, 3 KB:  simdjson DOM 26k, simdjson On-Demand 19k (stage 1 and one lookup
//                          only), RapidJSON SAX 152k (UTF-8 checked; 89k without), nlohmann 425k;
//   ServiceEntry, 1 MiB:   simdjson DOM 12.6M, On-Demand 7.3M.
// On-Demand is cheaper because it leaves what it skips unchecked: `{"a": tru}` inside an
// annotation would pass, where the reference answers 400. The DOM parser checks every byte (UTF-8,
// literals, numbers, nesting) and writes a tape the thread keeps: no allocation per request once
// warm. The rules then read that tape through json::View, which costs little next to parsing it.

namespace aw::webhook {

namespace {

namespace dom = simdjson::dom;

// Any reason to let the reference decoder answer instead.
struct Fallback {};

// ---- the fields the rules read, as a tree per kind ------------------------------------------

// One step of a `reads` path: a node without children is read as a whole; below a node with
// children the rules read only those (an object's named keys, a list's every element, a map's
// every value).
struct FieldNode {
  std::vector<std::pair<std::string_view, std::unique_ptr<FieldNode>>> keys;  // "spec", "ports"
  std::unique_ptr<FieldNode> element;                                         // "ports[]"
  std::unique_ptr<FieldNode> value;                                           // "labels{}"
  bool maps = false;               // some map ("{}") is read at or below this node
  json::KeyLengths mapKeyLengths;  // of the keys with maps below them

  const FieldNode* key(std::string_view k) const {
    for (const auto& [name, node] : keys) {
      if (json::sameKey(name, k)) return node.get();
    }
    return nullptr;
  }
  FieldNode& addKey(std::string_view k) {
    for (auto& [name, node] : keys) {
      if (name == k) return *node;
    }
    keys.emplace_back(k, std::make_unique<FieldNode>());
    return *keys.back().second;
  }
};

FieldNode& make(std::unique_ptr<FieldNode>& slot) {
  if (!slot) slot = std::make_unique<FieldNode>();
  return *slot;
}

void addPath(FieldNode& root, std::string_view path) {
  FieldNode* node = &root;
  while (!path.empty()) {
    const auto dot = path.find('.');
    std::string_view seg = path.substr(0, dot);
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (seg.ends_with("[]")) {
      seg.remove_suffix(2);
      node = &make(node->addKey(seg).element);
    } else if (seg.ends_with("{}")) {
      seg.remove_suffix(2);
      node = &make(node->addKey(seg).value);
    } else {
      node = &node->addKey(seg);
    }
  }
}

// Marks the nodes with a map at or below them; returns the root's mark.
bool markMaps(FieldNode& node) {
  node.maps = node.value != nullptr;
  for (auto& [name, below] : node.keys) {
    if (markMaps(*below)) {
      node.maps = true;
      node.mapKeyLengths.add(name.size());
    }
  }
  if (node.element) node.maps |= markMaps(*node.element);
  if (node.value) markMaps(*node.value);
  return node.maps;
}

// Per kind of the table: every path any rule of that kind reads, and the engine's own.
const FieldNode* fieldsRead(const rules::KindInfo* kind) {
  static const auto kTrees = [] {
    std::vector<std::pair<rules::KindId, FieldNode>> trees;
    for (const rules::KindInfo& k : rules::kinds()) {
      FieldNode& tree = trees.emplace_back(k.id, FieldNode{}).second;
      for (const rules::FieldShape& s : rules::lifecycleReads()) addPath(tree, s.path);
      for (const rules::RuleInfo& rule : rules::registry()) {
        if (std::find(rule.kinds.begin(), rule.kinds.end(), k.id) == rule.kinds.end()) continue;
        for (const rules::FieldShape& s : rule.reads) addPath(tree, s.path);
      }
      markMaps(tree);
    }
    return trees;
  }();
  if (kind == nullptr) return nullptr;
  for (const auto& [id, tree] : kTrees) {
    if (id == kind->id) return &tree;
  }
  return nullptr;
}

// ---- checking the maps the rules iterate -------------------------------------------------

// The rules read the tape as it is, but walk a map ("labels{}") in the reference's order: a
// nlohmann object's, keys ascending and each once. The API server writes maps that way; any
// other order, or a repeated key, goes to the reference. Named keys need no check: a view reads
// the last of repeated keys, as the reference's parser keeps it.
void checkMaps(json::View v, const FieldNode& node) {
  if (!node.maps) return;
  if (v.isArray()) {
    if (node.element) {
      for (const json::View item : v.elements()) checkMaps(item, *node.element);
    }
    return;
  }
  if (!v.isObject()) return;
  if (node.value) {
    std::string_view previous;
    bool first = true;
    for (const json::Member m : v.members()) {
      if (!first && !(previous < m.key)) throw Fallback{};
      previous = m.key;
      first = false;
      checkMaps(m.value, *node.value);
    }
  }
  if (node.keys.empty()) return;
  for (const json::Member m : v.members()) {
    if (!node.mapKeyLengths.mayMatch(m.key.size())) continue;
    if (const FieldNode* below = node.key(m.key); below != nullptr && below->maps) {
      checkMaps(m.value, *below);
    }
  }
}

// ---- the envelope ---------------------------------------------------------------------------

// The envelope's readers. A view reads the last of repeated keys, and absent and null alike as
// none; a missing or mistyped field sends the body to the reference decoder, which answers it.
std::string_view requiredString(json::View v) {
  const auto s = v.string();
  if (!s) throw Fallback{};
  return *s;
}

std::string_view optionalString(json::View v) {
  if (!v) return {};
  return requiredString(v);
}

json::View requiredObject(json::View v) {
  if (!v.isObject()) throw Fallback{};
  return v;
}

// The request's fields, each the last of its name, in one pass.
struct RequestFields {
  json::View uid, kind, operation, name, namespace_, userInfo, dryRun, object, oldObject;

  explicit RequestFields(json::View request) {
    const auto f = json::fields<9>(request, {"uid", "kind", "operation", "name", "namespace",
                                             "userInfo", "dryRun", "object", "oldObject"});
    uid = f[0];
    kind = f[1];
    operation = f[2];
    name = f[3];
    namespace_ = f[4];
    userInfo = f[5];
    dryRun = f[6];
    object = f[7];
    oldObject = f[8];
  }
};

rules::Operation operationOf(std::string_view op) {
  for (const rules::Operation o : {rules::Operation::Create, rules::Operation::Update,
                                   rules::Operation::Delete, rules::Operation::Connect}) {
    if (rules::operationName(o) == op) return o;
  }
  throw Fallback{};
}

// The user's groups, as views into the tape; the thread keeps the list.
thread_local std::vector<std::string_view> tGroups;

void readUser(const RequestFields& fields, AdmissionRequest& req) {
  if (!fields.userInfo) return;
  const json::View user = requiredObject(fields.userInfo);
  req.username = optionalString(user["username"]);
  if (const json::View groups = user["groups"]) {
    if (!groups.isArray()) throw Fallback{};
    tGroups.clear();
    for (const json::View g : groups.elements()) tGroups.push_back(requiredString(g));
    req.groups = tGroups;
  }
}

void readRequest(json::View request, AdmissionRequest& req) {
  const RequestFields fields(request);
  req.uid = requiredString(fields.uid);
  if (req.uid.empty()) throw Fallback{};
  const json::View kind = requiredObject(fields.kind);
  req.group = optionalString(kind["group"]);
  req.version = requiredString(kind["version"]);
  req.kind = requiredString(kind["kind"]);
  req.operation = operationOf(requiredString(fields.operation));
  req.name = optionalString(fields.name);
  req.namespace_ = optionalString(fields.namespace_);
  readUser(fields, req);
  if (fields.dryRun) {
    const auto dryRun = fields.dryRun.boolean();
    if (!dryRun) throw Fallback{};
    req.dryRun = *dryRun;
  }
  // Kinds the webhook does not check need no object: no rule runs for them.
  const FieldNode* reads = fieldsRead(rules::findKind(req.group, req.kind));
  if (reads == nullptr) return;
  if (fields.object) {
    checkMaps(fields.object, *reads);
    req.object = fields.object;
  }
  if (fields.oldObject) {
    checkMaps(fields.oldObject, *reads);
    req.oldObject = fields.oldObject;
  }
}

void readReview(json::View review, AdmissionRequest& req) {
  if (!review.isObject()) throw Fallback{};
  req.apiVersion = requiredString(review["apiVersion"]);
  if (req.apiVersion != "admission.k8s.io/v1" && req.apiVersion != "admission.k8s.io/v1beta1") {
    throw Fallback{};
  }
  if (requiredString(review["kind"]) != "AdmissionReview") throw Fallback{};
  readRequest(requiredObject(review["request"]), req);
}

// ---- limits and the per-thread parser -------------------------------------------------------

// Whether `body` may hold more than kMaxReviewValues values. Every value but the first follows
// a '[', a '{' or a ','; counting those bytes (inside strings too) bounds the count from above.
// A body under 2 * kMaxReviewValues bytes cannot hold more: each value after the first takes at
// least two bytes, itself and what separates it. Checked before parsing: simdjson's tape takes
// 8 to 16 bytes per value, 150 MiB for 8 MiB of "[0,0,...]", which the reference refuses early.
bool mayExceedValueLimit(std::string_view body) {
  if (body.size() < 2 * kMaxReviewValues) return false;
  // Counted in runs of 255 bytes into a byte, which the compiler turns into vector compares.
  std::size_t bound = 1;
  for (std::size_t i = 0; i < body.size();) {
    const std::size_t end = std::min(body.size(), i + 255);
    std::uint8_t run = 0;
    for (; i < end; ++i) {
      const char c = body[i];
      run = static_cast<std::uint8_t>(run + ((c == '[') | (c == '{') | (c == ',')));
    }
    bound += run;
  }
  return bound > kMaxReviewValues;
}

// The tape and a padded copy of the body stay with the thread, so a warm thread parses without
// allocating. After a body of more than kKeepBytes, releaseLargeDecodeBuffers gives them back.
constexpr std::size_t kKeepBytes = 256 * 1024;

struct ThreadParser {
  std::unique_ptr<dom::parser> parser;
  // The body and SIMDJSON_PADDING bytes (simdjson reads past the end); never cleared, as only
  // the copied body is read.
  std::unique_ptr<char[]> padded;
  std::size_t capacity = 0;

  char* copy(std::string_view body) {
    const std::size_t size = body.size() + simdjson::SIMDJSON_PADDING;
    if (size > capacity) {
      padded = std::make_unique_for_overwrite<char[]>(size);
      capacity = size;
    }
    std::memcpy(padded.get(), body.data(), body.size());
    std::memset(padded.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    return padded.get();
  }

  dom::parser& get() {
    if (!parser) {
      parser = std::make_unique<dom::parser>();
      if (parser->allocate(4096, kMaxReviewDepth) != simdjson::SUCCESS) throw Fallback{};
    }
    return *parser;
  }
  void trim() {
    if (parser && parser->capacity() > kKeepBytes) parser.reset();
    if (capacity > kKeepBytes) {
      padded.reset();
      capacity = 0;
    }
    if (tGroups.capacity() > kKeepBytes / sizeof(std::string_view)) {
      std::vector<std::string_view>().swap(tGroups);
    }
  }
};

thread_local ThreadParser tParser;
thread_local bool tFellBack = false;

}  // namespace

bool lastDecodeFellBack() {
  return tFellBack;
}

static_assert(kBodyPadding >= simdjson::SIMDJSON_PADDING);

namespace {

DecodeResult decode(std::string_view body, bool padded) {
  tFellBack = false;
  tParser.trim();  // the last caller may not have
  DecodeResult result;
  try {
    if (mayExceedValueLimit(body)) throw Fallback{};
    dom::parser& parser = tParser.get();
    const char* bytes = padded ? body.data() : tParser.copy(body);
    if (parser.parse(bytes, body.size(), false).error() != simdjson::SUCCESS) throw Fallback{};
    AdmissionRequest req;
    readReview(json::View::root(parser.doc), req);
    result.request = std::move(req);
  } catch (const Fallback&) {
    tFellBack = true;
    result = decodeAdmissionReview(body);
  }
  return result;
}

}  // namespace

DecodeResult decodeForRules(std::string_view body) {
  return decode(body, false);
}

DecodeResult decodeForRulesInPlace(std::string_view paddedBody) {
  return decode(paddedBody, true);
}

void releaseLargeDecodeBuffers() {
  tParser.trim();
}

}  // namespace aw::webhook

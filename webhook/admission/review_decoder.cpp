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
  bool maps = false;  // some map ("{}") is read at or below this node

  const FieldNode* key(std::string_view k) const {
    for (const auto& [name, node] : keys) {
      if (name == k) return node.get();
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
  for (auto& [name, below] : node.keys) node.maps |= markMaps(*below);
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

// The element as `T`, copied out of simdjson's result wrapper (which a range-for would
// outlive). Callers have checked the type, so the fallback is never taken.
template <class T>
T as(dom::element e) {
  T v{};
  if (e.get(v) != simdjson::SUCCESS) throw Fallback{};
  return v;
}

// The rules read the tape as it is, but walk a map ("labels{}") in the reference's order: a
// nlohmann object's, keys ascending and each once. The API server writes maps that way; any
// other order, or a repeated key, goes to the reference. Named keys need no check: a view reads
// the last of repeated keys, as the reference's parser keeps it.
void checkMaps(dom::element e, const FieldNode& node) {
  if (!node.maps) return;
  const dom::element_type type = e.type();
  if (type == dom::element_type::ARRAY) {
    if (node.element) {
      for (dom::element item : as<dom::array>(e)) checkMaps(item, *node.element);
    }
    return;
  }
  if (type != dom::element_type::OBJECT) return;
  if (node.value) {
    std::string_view previous;
    bool first = true;
    for (dom::key_value_pair field : as<dom::object>(e)) {
      if (!first && !(previous < field.key)) throw Fallback{};
      previous = field.key;
      first = false;
      checkMaps(field.value, *node.value);
    }
  }
  if (node.keys.empty()) return;
  for (dom::key_value_pair field : as<dom::object>(e)) {
    if (const FieldNode* below = node.key(field.key); below != nullptr && below->maps) {
      checkMaps(field.value, *below);
    }
  }
}

// ---- the envelope ---------------------------------------------------------------------------

// The value of `key` in `object`, the last one when repeated; absent and null alike give none.
std::optional<dom::element> field(dom::object object, std::string_view key) {
  std::optional<dom::element> found;
  for (dom::key_value_pair f : object) {
    if (f.key == key) found = f.value;
  }
  if (found && found->is_null()) return std::nullopt;
  return found;
}

std::string_view requiredString(dom::object object, std::string_view key) {
  const auto v = field(object, key);
  if (!v || !v->is_string()) throw Fallback{};
  return as<std::string_view>(*v);
}

std::string_view optionalString(dom::object object, std::string_view key) {
  const auto v = field(object, key);
  if (!v) return {};
  if (!v->is_string()) throw Fallback{};
  return as<std::string_view>(*v);
}

dom::object requiredObject(std::optional<dom::element> v) {
  if (!v || !v->is_object()) throw Fallback{};
  return as<dom::object>(*v);
}

// The request's fields, each the last of its name, in one pass.
struct RequestFields {
  std::optional<dom::element> uid, kind, operation, name, namespace_, userInfo, dryRun, object,
      oldObject;

  explicit RequestFields(dom::object request) {
    const std::array<std::pair<std::string_view, std::optional<dom::element>*>, 9> slots = {{
        {"uid", &uid},
        {"kind", &kind},
        {"operation", &operation},
        {"name", &name},
        {"namespace", &namespace_},
        {"userInfo", &userInfo},
        {"dryRun", &dryRun},
        {"object", &object},
        {"oldObject", &oldObject},
    }};
    for (dom::key_value_pair f : request) {
      for (const auto& [key, slot] : slots) {
        if (f.key == key) *slot = f.value;
      }
    }
    for (const auto& [key, slot] : slots) {
      if (*slot && (*slot)->is_null()) slot->reset();
    }
  }
};

std::string_view stringOf(const std::optional<dom::element>& v, bool required) {
  if (!v) {
    if (required) throw Fallback{};
    return {};
  }
  if (!v->is_string()) throw Fallback{};
  return as<std::string_view>(*v);
}

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
  const dom::object user = requiredObject(fields.userInfo);
  req.username = optionalString(user, "username");
  if (const auto groups = field(user, "groups")) {
    if (!groups->is_array()) throw Fallback{};
    tGroups.clear();
    for (dom::element g : as<dom::array>(*groups)) {
      if (!g.is_string()) throw Fallback{};
      tGroups.push_back(as<std::string_view>(g));
    }
    req.groups = tGroups;
  }
}

void readRequest(dom::object request, AdmissionRequest& req) {
  const RequestFields fields(request);
  req.uid = stringOf(fields.uid, true);
  if (req.uid.empty()) throw Fallback{};
  const dom::object kind = requiredObject(fields.kind);
  req.group = optionalString(kind, "group");
  req.version = requiredString(kind, "version");
  req.kind = requiredString(kind, "kind");
  req.operation = operationOf(stringOf(fields.operation, true));
  req.name = stringOf(fields.name, false);
  req.namespace_ = stringOf(fields.namespace_, false);
  readUser(fields, req);
  if (fields.dryRun) {
    if (!fields.dryRun->is_bool()) throw Fallback{};
    req.dryRun = as<bool>(*fields.dryRun);
  }
  // Kinds the webhook does not check need no object: no rule runs for them.
  const FieldNode* reads = fieldsRead(rules::findKind(req.group, req.kind));
  if (reads == nullptr) return;
  if (fields.object) {
    checkMaps(*fields.object, *reads);
    req.object = json::View(*fields.object);
  }
  if (fields.oldObject) {
    checkMaps(*fields.oldObject, *reads);
    req.oldObject = json::View(*fields.oldObject);
  }
}

void readReview(dom::element root, AdmissionRequest& req) {
  if (!root.is_object()) throw Fallback{};
  const dom::object review = as<dom::object>(root);
  req.apiVersion = requiredString(review, "apiVersion");
  if (req.apiVersion != "admission.k8s.io/v1" && req.apiVersion != "admission.k8s.io/v1beta1") {
    throw Fallback{};
  }
  if (requiredString(review, "kind") != "AdmissionReview") throw Fallback{};
  readRequest(requiredObject(field(review, "request")), req);
}

// ---- limits and the per-thread parser -------------------------------------------------------

// Whether `body` may hold more than kMaxReviewValues values. Every value but the first follows
// a '[', a '{' or a ','; counting those bytes (inside strings too) bounds the count from above.
// A body under 2 * kMaxReviewValues bytes cannot hold more: each value after the first takes at
// least two bytes, itself and what separates it.
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
  std::string padded;  // the body and SIMDJSON_PADDING bytes (simdjson reads past the end)

  dom::parser& get() {
    if (!parser) {
      parser = std::make_unique<dom::parser>();
      if (parser->allocate(4096, kMaxReviewDepth) != simdjson::SUCCESS) throw Fallback{};
    }
    return *parser;
  }
  void trim() {
    if (parser && parser->capacity() > kKeepBytes) parser.reset();
    if (padded.capacity() > kKeepBytes) std::string().swap(padded);
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

DecodeResult decodeForRules(std::string_view body) {
  tFellBack = false;
  tParser.trim();  // the last caller may not have
  DecodeResult result;
  try {
    if (mayExceedValueLimit(body)) throw Fallback{};
    dom::parser& parser = tParser.get();
    tParser.padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(tParser.padded.data(), body.data(), body.size());
    dom::element root;
    if (parser.parse(tParser.padded.data(), body.size(), false).get(root) != simdjson::SUCCESS) {
      throw Fallback{};
    }
    AdmissionRequest req;
    readReview(root, req);
    result.request = std::move(req);
  } catch (const Fallback&) {
    tFellBack = true;
    result = decodeAdmissionReview(body);
  }
  return result;
}

void releaseLargeDecodeBuffers() {
  tParser.trim();
}

}  // namespace aw::webhook

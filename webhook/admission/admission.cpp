#include "webhook/admission/admission.h"

#include <charconv>

#include "common/json_path.h"
#include "common/json_text.h"
#include "webhook/base/base64.h"

namespace aw::webhook {

namespace {

using nlohmann::json;

constexpr std::string_view kV1 = "admission.k8s.io/v1";
constexpr std::string_view kV1beta1 = "admission.k8s.io/v1beta1";

struct Bad {
  std::string message;
};

using aw::json::child;

std::string stringField(const json& obj, std::string_view key, std::string_view path,
                        bool required) {
  const json* v = child(obj, key);
  if (v == nullptr) {
    if (required) throw Bad{std::string(path) + " is missing"};
    return {};
  }
  if (!v->is_string()) throw Bad{std::string(path) + " must be a string"};
  return v->get<std::string>();
}

// Builds the document like json::parse, but drops metadata.managedFields of the object and the
// old object (key depth 4: review > request > object > metadata > key). No rule reads it and it
// is often most of a request's bytes. A SAX filter in front of nlohmann's own DOM builder keeps
// parsing linear (the parser-callback variant rescans containers and is quadratic on big lists).
class SkipManagedFields {
 public:
  explicit SkipManagedFields(json& out) : dom_(out, /*allow_exceptions=*/false) {}
  bool errored() const { return dom_.is_errored(); }
  // Stopped at kMaxReviewValues values or kMaxReviewDepth open containers.
  bool tooComplex() const { return tooComplex_; }

  bool null() {
    return scalar([&] { return dom_.null(); });
  }
  bool boolean(bool v) {
    return scalar([&] { return dom_.boolean(v); });
  }
  bool number_integer(json::number_integer_t v) {
    return scalar([&] { return dom_.number_integer(v); });
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return scalar([&] { return dom_.number_unsigned(v); });
  }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return scalar([&] { return dom_.number_float(v, s); });
  }
  bool string(json::string_t& v) {
    return scalar([&] { return dom_.string(v); });
  }
  bool binary(json::binary_t& v) {
    return scalar([&] { return dom_.binary(v); });
  }
  bool start_object(std::size_t n) {
    return open([&] { return dom_.start_object(n); });
  }
  bool end_object() {
    return close([&] { return dom_.end_object(); });
  }
  bool start_array(std::size_t n) {
    return open([&] { return dom_.start_array(n); });
  }
  bool end_array() {
    return close([&] { return dom_.end_array(); });
  }
  bool key(json::string_t& k) {
    if (skipping_ > 0) return true;
    if (depth_ == 4 && k == "managedFields") {
      skipNext_ = true;
      return true;
    }
    return dom_.key(k);
  }
  bool parse_error(std::size_t pos, const std::string& token,
                   const nlohmann::detail::exception& e) {
    return dom_.parse_error(pos, token, e);
  }

 private:
  bool within(bool ok) {
    if (!ok) tooComplex_ = true;
    return ok;
  }
  template <class F>
  bool scalar(F&& forward) {
    if (!within(++values_ <= kMaxReviewValues)) return false;
    if (skipNext_) {
      skipNext_ = false;
      return true;
    }
    return skipping_ > 0 ? true : forward();
  }
  template <class F>
  bool open(F&& forward) {
    if (!within(++values_ <= kMaxReviewValues && depth_ < kMaxReviewDepth)) return false;
    ++depth_;
    if (skipNext_) {
      skipNext_ = false;
      skipping_ = 1;
      return true;
    }
    if (skipping_ > 0) {
      ++skipping_;
      return true;
    }
    return forward();
  }
  template <class F>
  bool close(F&& forward) {
    --depth_;
    if (skipping_ > 0) {
      --skipping_;
      return true;
    }
    return forward();
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int depth_ = 0;           // containers open
  int skipping_ = 0;        // > 0: inside the dropped value, counting its open containers
  bool skipNext_ = false;   // the next value is the dropped one
  std::size_t values_ = 0;  // values seen, dropped ones included
  bool tooComplex_ = false;
};

// Empty when `body` parsed into `out`; otherwise why not.
std::string parseSkippingManagedFields(std::string_view body, json& out) {
  SkipManagedFields sax(out);
  bool ok = false;
  try {
    ok = json::sax_parse(body.begin(), body.end(), &sax);
  } catch (const json::exception&) {
    ok = false;
  }
  if (sax.tooComplex()) {
    return "request body holds more than " + std::to_string(kMaxReviewValues) +
           " JSON values or nests deeper than " + std::to_string(kMaxReviewDepth) +
           "; expected an AdmissionReview";
  }
  if (!ok || sax.errored()) return "request body is not valid JSON; expected an AdmissionReview";
  return "";
}

}  // namespace

struct AdmissionRequest::Owned {
  std::string apiVersion, uid, group, version, kind, name, namespace_, username;
  std::vector<std::string> groupNames;
  std::vector<std::string_view> groups;  // views of groupNames
  std::optional<aw::json::Document> document;
};

rules::Request AdmissionRequest::toRulesRequest() const {
  rules::Request r;
  r.kind = rules::findKind(group, kind);
  r.version = version;
  r.operation = operation;
  r.name = name;
  r.namespace_ = namespace_;
  r.object = object;
  r.oldObject = oldObject;
  return r;
}

namespace {

// apiVersion, kind and the request object of the review; throws Bad.
const json& readEnvelope(const json& doc, AdmissionRequest::Owned& own) {
  if (!doc.is_object()) throw Bad{"request body is not a JSON object; expected an AdmissionReview"};
  own.apiVersion = stringField(doc, "apiVersion", "apiVersion", true);
  if (own.apiVersion != kV1 && own.apiVersion != kV1beta1) {
    throw Bad{"apiVersion \"" + own.apiVersion +
              "\" is not supported; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1"};
  }
  const std::string kind = stringField(doc, "kind", "kind", true);
  if (kind != "AdmissionReview") throw Bad{"kind \"" + kind + "\" is not AdmissionReview"};
  const json* request = child(doc, "request");
  if (request == nullptr) throw Bad{"request is missing"};
  if (!request->is_object()) throw Bad{"request must be an object"};
  return *request;
}

void readKindAndOperation(const json& request, AdmissionRequest& req,
                          AdmissionRequest::Owned& own) {
  const json* kindObj = child(request, "kind");
  if (kindObj == nullptr) throw Bad{"request.kind is missing"};
  if (!kindObj->is_object()) throw Bad{"request.kind must be an object"};
  own.group = stringField(*kindObj, "group", "request.kind.group", false);
  own.version = stringField(*kindObj, "version", "request.kind.version", true);
  own.kind = stringField(*kindObj, "kind", "request.kind.kind", true);

  const std::string op = stringField(request, "operation", "request.operation", true);
  if (op == "CREATE") {
    req.operation = rules::Operation::Create;
  } else if (op == "UPDATE") {
    req.operation = rules::Operation::Update;
  } else if (op == "DELETE") {
    req.operation = rules::Operation::Delete;
  } else if (op == "CONNECT") {
    req.operation = rules::Operation::Connect;
  } else {
    throw Bad{"request.operation \"" + op + "\" is not CREATE, UPDATE, DELETE or CONNECT"};
  }
}

void readUserAndDryRun(const json& request, AdmissionRequest& req, AdmissionRequest::Owned& own) {
  if (const json* user = child(request, "userInfo")) {
    if (!user->is_object()) throw Bad{"request.userInfo must be an object"};
    own.username = stringField(*user, "username", "request.userInfo.username", false);
    if (const json* groups = child(*user, "groups")) {
      if (!groups->is_array()) throw Bad{"request.userInfo.groups must be a list of strings"};
      for (const json& g : *groups) {
        if (!g.is_string()) throw Bad{"request.userInfo.groups must be a list of strings"};
        own.groupNames.push_back(g.get<std::string>());
      }
    }
  }
  if (const json* dry = child(request, "dryRun")) {
    if (!dry->is_boolean()) throw Bad{"request.dryRun must be true or false"};
    req.dryRun = dry->get<bool>();
  }
}

}  // namespace

DecodeResult decodeAdmissionReview(std::string_view body) {
  DecodeResult result;
  json doc;
  result.error = parseSkippingManagedFields(body, doc);
  if (!result.error.empty()) return result;
  try {
    AdmissionRequest req;
    auto owned = std::make_shared<AdmissionRequest::Owned>();
    AdmissionRequest::Owned& own = *owned;
    const json& request = readEnvelope(doc, own);
    own.uid = stringField(request, "uid", "request.uid", true);
    if (own.uid.empty()) throw Bad{"request.uid is empty"};
    readKindAndOperation(request, req, own);
    own.name = stringField(request, "name", "request.name", false);
    own.namespace_ = stringField(request, "namespace", "request.namespace", false);
    readUserAndDryRun(request, req, own);
    own.groups.assign(own.groupNames.begin(), own.groupNames.end());
    req.apiVersion = own.apiVersion;
    req.uid = own.uid;
    req.group = own.group;
    req.version = own.version;
    req.kind = own.kind;
    req.name = own.name;
    req.namespace_ = own.namespace_;
    req.username = own.username;
    req.groups = own.groups;
    if (rules::findKind(req.group, req.kind) != nullptr) {
      // The rules read a simdjson view: the objects are written out and parsed again, one
      // document for both. A missing object reads like a null one.
      json& mutableRequest = doc["request"];
      json objects = json::array();
      for (const char* key : {"object", "oldObject"}) {
        objects.push_back(mutableRequest.contains(key) ? std::move(mutableRequest[key]) : json());
      }
      auto element =
          own.document.emplace(aw::json::Document::of(objects)).root().elements().begin();
      req.object = *element;
      req.oldObject = *++element;
    }
    req.owned = std::move(owned);
    result.request = std::move(req);
  } catch (const Bad& bad) {
    result.error = bad.message;
  }
  return result;
}

namespace {

// The answer's size when no byte needs escaping, so that it is allocated once.
std::size_t encodedSize(std::string_view apiVersion, std::string_view uid,
                        const AdmissionResponse& r) {
  std::size_t n = 160 + apiVersion.size() + uid.size() + r.reason.size() + r.message.size();
  for (const std::string& w : r.warnings) n += w.size() + 3;
  for (const auto& [key, value] : r.auditAnnotations) n += key.size() + value.size() + 6;
  return n + 4 * ((r.patch.size() + 2) / 3);
}

void appendStatus(std::string& out, const AdmissionResponse& r) {
  char code[16];
  const auto [end, ec] = std::to_chars(code, code + sizeof code, r.code);
  out += R"(,"status":{"code":)";
  out.append(code, static_cast<std::size_t>(end - code));
  out += R"(,"message":)";
  aw::json::appendString(out, r.message);
  out += R"(,"reason":)";
  aw::json::appendString(out, r.reason);
  out += '}';
}

}  // namespace

// What dump(-1, ' ', false, error_handler_t::replace) gave of the nlohmann object: keys in
// alphabetical order at every level (auditAnnotations is a std::map, sorted the same way).
std::string encodeAdmissionReview(std::string_view apiVersion, std::string_view uid,
                                  const AdmissionResponse& r) {
  std::string out;
  out.reserve(encodedSize(apiVersion, uid, r));
  out += R"({"apiVersion":)";
  aw::json::appendString(out, apiVersion);
  out += R"(,"kind":"AdmissionReview","response":{"allowed":)";
  out += r.allowed ? "true" : "false";
  if (!r.auditAnnotations.empty()) {
    out += R"(,"auditAnnotations":{)";
    bool first = true;
    for (const auto& [key, value] : r.auditAnnotations) {
      if (!first) out += ',';
      first = false;
      aw::json::appendString(out, key);
      out += ':';
      aw::json::appendString(out, value);
    }
    out += '}';
  }
  if (!r.patch.empty()) {
    out += R"(,"patch":")";
    appendBase64(out, r.patch);
    out += R"(","patchType":"JSONPatch")";
  }
  if (!r.allowed) appendStatus(out, r);
  out += R"(,"uid":)";
  aw::json::appendString(out, uid);
  if (!r.warnings.empty()) {
    out += R"(,"warnings":[)";
    for (std::size_t i = 0; i < r.warnings.size(); ++i) {
      if (i > 0) out += ',';
      aw::json::appendString(out, r.warnings[i]);
    }
    out += ']';
  }
  out += "}}";
  return out;
}

}  // namespace aw::webhook

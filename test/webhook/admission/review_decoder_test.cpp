// The request path's decoder against the reference: the same bytes must get the same HTTP answer
// (status and body, byte for byte) from a handler with decodeForRules as from one with
// decodeAdmissionReview, on /validate and /mutate, and the fast path must really be the one
// taken for the bodies the API server sends.
#include "webhook/admission/review_decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "fuzz/common.h"
#include "test/support/review.h"
#include "webhook/admission/handler.h"

namespace aw::webhook {
namespace {

using nlohmann::json;

enum class Path { Fast, Fallback, Either };

class ReviewDecoder : public ::testing::Test {
 protected:
  ReviewDecoder() {
    Config config = fuzz::fuzzConfig();
    config.existingViolations = ExistingViolations::Warn;
    state_.replace(makeSnapshot(std::move(config)));
  }

  // Both endpoints answer alike; `path` says which way the fast decoder must have gone. The fast
  // one gets the body as the server hands it over, followed by padding, and parses it in place.
  void expectSame(const std::string& body, Path path, const std::string& what) {
    const AdmissionHandler fast(state_, metrics_);
    const AdmissionHandler reference(state_, metrics_, decodeAdmissionReview);
    const std::string padded = body + std::string(kBodyPadding, '\0');
    for (const Endpoint e : {Endpoint::Validate, Endpoint::Mutate}) {
      const HttpResult a = fast.handle(e, std::string_view(padded).substr(0, body.size()), true);
      const bool fellBack = lastDecodeFellBack();
      const HttpResult b = reference.handle(e, body);
      EXPECT_EQ(a.status, b.status) << what << " on " << endpointPath(e);
      EXPECT_EQ(a.body, b.body) << what << " on " << endpointPath(e);
      if (path != Path::Either) {
        EXPECT_EQ(fellBack, path == Path::Fallback) << what << " on " << endpointPath(e);
      }
    }
  }

  State state_;
  Metrics metrics_;
};

json service() {
  return test::service("web", json::array({{{"name", "http"}, {"port", 80}},
                                           {{"port", 9090}, {"protocol", "UDP"}},
                                           {{"port", "grpc"}, {"appProtocol", "grpc"}}}));
}

json serviceEntry() {
  return {{"apiVersion", "networking.istio.io/v1beta1"},
          {"kind", "ServiceEntry"},
          {"metadata", {{"name", "ext"}, {"namespace", "default"}}},
          {"spec",
           {{"hosts", {"api.example.com", "*.example.org"}},
            {"ports", json::array({{{"number", 443}, {"protocol", "TLS"}}, {{"number", 80}}})},
            {"endpoints", json::array({{{"address", "10.0.0.1"}, {"labels", {{"a", "b"}}}},
                                       {{"address", "api.example.com"}}})}}}};
}

// The objects of every kind the webhook checks, good and bad.
std::vector<json> objects() {
  std::vector<json> out = {
      service(),
      test::service("web", json::array({{{"port", 80}}}), false),
      test::federation("a", "cluster.local", "10.111.0.0/16", "10.0.0.0/8"),
      test::federation("b", "b.local", "10.9.0.0/16,,bad", "10.223.0.0/16"),
      serviceEntry(),
  };
  json multicluster = test::federation("cluster-m", "x.local");
  multicluster["kind"] = "IstioMulticluster";
  out.push_back(multicluster);
  json noPorts = serviceEntry();
  noPorts["spec"].erase("ports");
  out.push_back(noPorts);
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}};
  out.push_back(pod);
  return out;
}

std::string withManagedFields(json object) {
  if (object.is_object() && object.contains("metadata")) {
    object["metadata"]["managedFields"] = json::array(
        {{{"manager", "kubectl"}, {"fieldsV1", {{"f:spec", {{"f:ports", json::object()}}}}}}});
    object["status"] = {{"loadBalancer", json::object()}, {"note", "x,y[z]{w}"}};
  }
  return object.dump();
}

TEST_F(ReviewDecoder, AnswersLikeTheReferenceForEveryKindAndOperation) {
  for (const json& object : objects()) {
    for (const std::string op : {"CREATE", "UPDATE", "DELETE", "CONNECT"}) {
      test::ReviewOptions o;
      o.operation = op;
      if (op != "CREATE") o.oldObject = objects()[1];
      if (op == "UPDATE" && object.value("kind", "") == "Service") o.oldObject = object;
      const json review = test::review(object, o);
      expectSame(review.dump(), Path::Fast, op + " " + object.dump());
      expectSame(review.dump(2), Path::Fast, "indented " + op);
      // What no rule reads is dropped by both, whatever it holds.
      json bulky = review;
      bulky["request"]["object"] = json::parse(withManagedFields(object));
      expectSame(bulky.dump(), Path::Fast, "with managedFields and status: " + op);
    }
  }
}

TEST_F(ReviewDecoder, ADeletingObjectAndExemptionsAnswerAlike) {
  json object = service();
  object["spec"]["ports"][0]["port"] = "x y";
  object["metadata"]["deletionTimestamp"] = "2024-05-14T09:21:07Z";
  test::ReviewOptions o;
  o.operation = "UPDATE";
  o.oldObject = object;
  expectSame(test::review(object, o).dump(), Path::Fast, "deleting");
  object["metadata"]["deletionTimestamp"] = 7;
  expectSame(test::review(object, o).dump(), Path::Fast, "deletionTimestamp of the wrong type");
  o.groups = {"system:masters"};
  o.username = "system:serviceaccount:kube-system:generic-garbage-collector";
  expectSame(test::review(service(), o).dump(), Path::Fast, "garbage collector");
}

// Wrong types where the rules read: shape errors, decided alike.
TEST_F(ReviewDecoder, WrongTypesGiveTheSameShapeErrors) {
  const std::vector<std::pair<std::string, json>> edits = {
      {"/spec/ports/0/port", json::object()},
      {"/spec/ports/0/name", 5},
      {"/spec/ports", "none"},
      {"/spec/ports/1", json::array()},
      {"/spec", json::array({1, 2})},
      {"/metadata", "m"},
      {"/metadata/labels", json::array()},
      {"/metadata/labels/x", json::object()},
      {"/spec/ports/0/port", -1},
      {"/spec/ports/0/port", 18446744073709551615ULL},
      {"/spec/ports/0/port", 9223372036854775807LL},
      {"/spec/ports/0/protocol", nullptr},
      {"/metadata/labels", nullptr},
      {"/spec/ports/0/port", true},
  };
  for (const auto& [pointer, value] : edits) {
    json review = test::review(service());
    review[json::json_pointer("/request/object" + pointer)] = value;
    expectSame(review.dump(), Path::Fast, pointer + " = " + value.dump());
  }
  json fed = test::federation("a", "a.local", "10.1.0.0/16");
  fed["metadata"]["annotations"]["x"] = json::array();
  expectSame(test::review(fed).dump(), Path::Fast, "annotation list");
  fed["spec"] = {{"trustDomain", 5}, {"enableIngressGateway", "yes"}};
  expectSame(test::review(fed).dump(), Path::Fast, "federation spec types");
  json se = serviceEntry();
  se["spec"]["endpoints"] = {{"a", 1}};
  expectSame(test::review(se).dump(), Path::Fast, "endpoints map");
}

std::string serviceReview() {
  return test::review(service()).dump();
}

// Replaces the first `from` in `body` with `to`.
std::string edit(std::string body, const std::string& from, const std::string& to) {
  const auto at = body.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? body : body.replace(at, from.size(), to);
}

// A number with a fraction or an exponent is a float to both parsers, and the rules read no
// float's value; integers beyond 64 bits go to the reference.
TEST_F(ReviewDecoder, NumbersReadAlike) {
  const std::string body = serviceReview();
  expectSame(edit(body, "\"port\":80", "\"port\":80.0"), Path::Fast, "80.0");
  expectSame(edit(body, "\"port\":80", "\"port\":8e1"), Path::Fast, "8e1");
  expectSame(edit(body, "\"port\":80", "\"port\":-0"), Path::Fast, "-0");
  expectSame(edit(body, "\"port\":80", "\"port\":18446744073709551616"), Path::Fallback,
             "past uint64");
  expectSame(edit(body, "\"port\":80", "\"port\":-9223372036854775809"), Path::Fallback,
             "past int64");
  // Out of range where no rule reads: the reference answers 400 all the same.
  expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":1e400"), Path::Fallback,
             "1e400");
  expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":1.5"), Path::Fast,
             "an unread fraction");
}

TEST_F(ReviewDecoder, DuplicateKeysTakeTheLastValue) {
  const std::string body = serviceReview();
  expectSame(edit(body, "\"uid\":", "\"uid\":\"first\",\"uid\":"), Path::Fast, "uid twice");
  expectSame(edit(body, "\"uid\":", "\"uid\":\"\",\"uid\":"), Path::Fast, "empty uid first");
  expectSame(edit(body, "\"ports\":", "\"ports\":[{\"port\":1}],\"ports\":"), Path::Fast,
             "ports twice");
  expectSame(edit(body, "\"ports\":", "\"ports\":5,\"ports\":"), Path::Fast, "bad ports first");
  // A map the rules walk is read in the reference's order, each key once: a repeated key goes
  // to the reference.
  expectSame(edit(body, "\"labels\":{", "\"labels\":{\"a\":{},\"a\":\"b\","), Path::Fallback,
             "label twice");
  expectSame(edit(body, "\"object\":", "\"object\":{\"kind\":\"x\"},\"object\":"), Path::Fast,
             "object twice");
  expectSame(edit(body, "\"request\":", "\"request\":5,\"request\":"), Path::Fast, "request twice");
  expectSame(
      edit(body, "\"kind\":\"AdmissionReview\"", "\"kind\":\"Other\",\"kind\":\"AdmissionReview\""),
      Path::Fast, "kind twice");
  expectSame(edit(body, "\"name\":\"http\"", "\"name\":\"http\",\"name\":null"), Path::Fast,
             "name then null");
}

// The shape check names each wrong value of a map in the order of its keys. The API server
// writes maps with their keys ascending, which the fast path reads as they are; any other order
// goes to the reference, which sorts them.
TEST_F(ReviewDecoder, MapsAreWalkedInTheReferencesOrder) {
  const std::string body = serviceReview();
  // The service's labels start at "app": keys before it keep the order ascending.
  expectSame(edit(body, "\"labels\":{", "\"labels\":{\"A\":1,\"a0\":2,"), Path::Fast, "ascending");
  expectSame(edit(body, "\"labels\":{", "\"labels\":{\"a0\":1,\"A\":2,"), Path::Fallback,
             "descending");
  // Keys compare by their bytes once unescaped: U+00E9 is 0xC3 0xA9, after "app".
  expectSame(edit(body, "\"labels\":{", "\"labels\":{\"\\u00e9\":1,"), Path::Fallback,
             "an escaped key first");
  // Maps the rules do not walk keep any order.
  expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":{\"b\":1,\"a\":2}"),
             Path::Fast, "unread map");
}

TEST_F(ReviewDecoder, MalformedBodiesGetTheReferenceMessage) {
  const std::string body = serviceReview();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"null", "null"},
      {"list", "[]"},
      {"truncated", body.substr(0, body.size() / 2)},
      {"trailing", body + "x"},
      {"trailing space", body + " \n"},
      {"bom", "\xEF\xBB\xBF" + body},
      {"bad literal", edit(body, "\"dryRun\":false", "\"dryRun\":fals")},
      {"unread bad literal", edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":tru")},
      {"invalid UTF-8",
       edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":\"\xC3\x28\"")},
      {"lone surrogate",
       edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":\"\\ud800\"")},
      {"escaped name", edit(body, "\"name\":\"http\"", "\"name\":\"h\\u00e9\\ud83d\\ude00\\n\"")},
      {"control byte", edit(body, "\"name\":\"http\"", "\"name\":\"h\x01\"")},
      {"apiVersion", edit(body, "admission.k8s.io/v1", "admission.k8s.io/v2")},
      {"kind", edit(body, "\"kind\":\"AdmissionReview\"", "\"kind\":\"Review\"")},
      {"no uid", edit(body, "\"uid\":", "\"uidx\":")},
      {"empty uid", edit(body, "\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\"", "\"uid\":\"\"")},
      {"uid number", edit(body, "\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\"", "\"uid\":5")},
      {"operation", edit(body, "\"operation\":\"CREATE\"", "\"operation\":\"PATCH\"")},
      {"groups", edit(body, "\"groups\":[", "\"groups\":[5,")},
      {"groups null", edit(body, "\"groups\":[", "\"groups\":[null,")},
      {"userInfo", edit(body, "\"userInfo\":{", "\"userInfo\":5,\"u\":{")},
      {"dryRun", edit(body, "\"dryRun\":false", "\"dryRun\":\"no\"")},
      {"kind version", edit(body, "\"version\":\"v1\"", "\"version\":1")},
      {"request.kind", edit(body, "\"kind\":{", "\"kind\":[],\"k\":{")},
      {"request null", edit(body, "\"request\":", "\"request\":null,\"r\":")},
  };
  for (const auto& [what, text] : cases) expectSame(text, Path::Either, what);
}

// Nesting at the limit passes, one deeper is refused; both where no rule reads.
TEST_F(ReviewDecoder, DepthLimitIsTheReferences) {
  const std::string body = serviceReview();
  // review > request > object, then "x": the object's value is at depth 3.
  for (const int depth : {kMaxReviewDepth - 3, kMaxReviewDepth - 2}) {
    const std::string nested = std::string(depth, '[') + std::string(depth, ']');
    expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":" + nested),
               Path::Either, "depth " + std::to_string(depth + 3));
  }
}

TEST_F(ReviewDecoder, ValueLimitIsTheReferences) {
  const std::string body = serviceReview();
  // A megabyte in one string: few values, still the fast path.
  const std::string big(1200000, 'a');
  expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":\"" + big + "\""),
             Path::Fast, "long string");
  // Over the limit, and just under it (the review itself holds some 50 values).
  for (const std::size_t zeros : {std::size_t{600000}, kMaxReviewValues - 100}) {
    std::string list = "[0";
    for (std::size_t i = 1; i < zeros; ++i) list += ",0";
    list += "]";
    expectSame(edit(body, "\"kind\":\"Service\"", "\"kind\":\"Service\",\"x\":" + list),
               Path::Either, std::to_string(zeros) + " zeros");
  }
}

// Random single-byte edits of valid reviews: whatever they break, the answers stay alike.
TEST_F(ReviewDecoder, RandomEditsAnswerAlike) {
  std::mt19937 random(12);
  const std::string alphabet = "{}[]:,\"\\ 0123456789-+.eEtrufalsn\x80\xC3";
  for (const json& object : objects()) {
    test::ReviewOptions o;
    o.operation = "UPDATE";
    o.oldObject = object;
    const std::string body = test::review(object, o).dump();
    for (int i = 0; i < 300; ++i) {
      std::string mutated = body;
      const std::size_t at = random() % mutated.size();
      switch (random() % 3) {
        case 0:
          mutated.erase(at, 1);
          break;
        case 1:
          mutated.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
        default:
          mutated[at] = alphabet[random() % alphabet.size()];
      }
      expectSame(mutated, Path::Either, "edit at " + std::to_string(at) + ": " + mutated);
    }
  }
}

}  // namespace
}  // namespace aw::webhook

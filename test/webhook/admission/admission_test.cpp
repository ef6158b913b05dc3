// The AdmissionReview codec, byte for byte what the API server reads.
#include "webhook/admission/admission.h"

#include <gtest/gtest.h>

#include "test/support/review.h"
#include "webhook/base/base64.h"

namespace aw::webhook {
namespace {

using nlohmann::json;

TEST(Admission, DecodesAFullApiServerRequest) {
  for (const std::string apiVersion : {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"}) {
    test::ReviewOptions o;
    o.apiVersion = apiVersion;
    o.operation = "UPDATE";
    o.dryRun = true;
    o.oldObject = test::service("web", json::array({{{"port", 80}}}));
    const json body =
        test::review(test::service("web", json::array({{{"name", "http"}, {"port", 80}}})), o);
    DecodeResult d = decodeAdmissionReview(body.dump());
    ASSERT_TRUE(d.request) << d.error;
    const AdmissionRequest& r = *d.request;
    EXPECT_EQ(r.apiVersion, apiVersion);
    EXPECT_EQ(r.uid, o.uid);
    EXPECT_EQ(r.group, "");
    EXPECT_EQ(r.version, "v1");
    EXPECT_EQ(r.kind, "Service");
    EXPECT_EQ(r.operation, rules::Operation::Update);
    EXPECT_EQ(r.name, "web");
    EXPECT_EQ(r.namespace_, "default");
    EXPECT_EQ(r.username, "admin");
    EXPECT_TRUE(r.dryRun);
    EXPECT_EQ(aw::json::toNlohmann(r.object)["spec"]["ports"][0]["name"], "http");
    EXPECT_EQ(aw::json::toNlohmann(r.oldObject)["spec"]["ports"][0], (json{{"port", 80}}));
    const rules::Request rr = r.toRulesRequest();
    ASSERT_NE(rr.kind, nullptr);
    EXPECT_EQ(rr.kind->kind, "Service");
    EXPECT_TRUE(rr.oldObject.isObject());
  }
}

TEST(Admission, ManagedFieldsAreNotKept) {
  json svc = test::service("web", json::array({{{"name", "http"}, {"port", 80}}}));
  svc["metadata"]["managedFields"] =
      json::array({{{"manager", "kubectl"}, {"fieldsV1", {{"f:spec", json::object()}}}}});
  test::ReviewOptions o;
  o.operation = "UPDATE";
  o.oldObject = svc;
  DecodeResult d = decodeAdmissionReview(test::review(svc, o).dump());
  ASSERT_TRUE(d.request) << d.error;
  const json object = aw::json::toNlohmann(d.request->object);
  const json oldObject = aw::json::toNlohmann(d.request->oldObject);
  EXPECT_FALSE(object["metadata"].contains("managedFields"));
  EXPECT_FALSE(oldObject["metadata"].contains("managedFields"));
  EXPECT_EQ(object["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(object["spec"]["ports"][0]["name"], "http");
}

TEST(Admission, KindsAreMatchedByGroupAndKind) {
  json svc = test::service("web", json::array());
  svc["apiVersion"] = "example.com/v1";  // a Service of another group is not ours
  DecodeResult d = decodeAdmissionReview(test::review(svc).dump());
  ASSERT_TRUE(d.request);
  EXPECT_EQ(d.request->toRulesRequest().kind, nullptr);
}

TEST(Admission, RejectsWhatIsNotAnAdmissionReview) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "request body is not valid JSON; expected an AdmissionReview"},
      {"null", "request body is not a JSON object; expected an AdmissionReview"},
      {R"({"kind":"AdmissionReview","request":{"uid":"1"}})", "apiVersion is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"1"}})",
       "kind \"Pod\" is not AdmissionReview"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null})",
       "request is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":[]})",
       "request must be an object"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}})",
       "request.uid must be a string"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1"}})",
       "request.kind is missing"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"","version":"v1","kind":"Service"},"operation":"PATCH"}})",
       "request.operation \"PATCH\" is not CREATE, UPDATE, DELETE or CONNECT"},
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"","version":"v1","kind":"Service"},"operation":"CREATE","dryRun":"yes"}})",
       "request.dryRun must be true or false"},
  };
  for (const auto& [body, error] : cases) {
    DecodeResult d = decodeAdmissionReview(body);
    EXPECT_FALSE(d.request) << body;
    EXPECT_EQ(d.error, error) << body;
  }
}

TEST(Admission, EncodesExactlyTheFieldsTheApiServerReads) {
  AdmissionResponse allow;
  EXPECT_EQ(
      encodeAdmissionReview("admission.k8s.io/v1beta1", "u-1", allow),
      R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"allowed":true,"uid":"u-1"}})");
  AdmissionResponse deny;
  deny.allowed = false;
  deny.code = 403;
  deny.reason = "Forbidden";
  deny.message = "a: b: c";
  deny.warnings = {"w1"};
  deny.auditAnnotations = {{"rule-x", "spec: y"}};
  EXPECT_EQ(json::parse(encodeAdmissionReview("admission.k8s.io/v1", "u-2", deny)),
            json::parse(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{
              "uid":"u-2","allowed":false,"status":{"code":403,"reason":"Forbidden","message":"a: b: c"},
              "warnings":["w1"],"auditAnnotations":{"rule-x":"spec: y"}}})"));
  AdmissionResponse patch;
  patch.patch = R"([{"op":"add","path":"/spec/resolution","value":"DNS"}])";
  const json out = json::parse(encodeAdmissionReview("admission.k8s.io/v1", "u-3", patch));
  EXPECT_EQ(out["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(out["response"]["patch"],
            "W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMvcmVzb2x1dGlvbiIsInZhbHVlIjoiRE5TIn1d");
}

TEST(Admission, Base64) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
}

}  // namespace
}  // namespace aw::webhook

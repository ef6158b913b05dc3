// encodeAdmissionReview appends the answer to one string: byte for byte what the nlohmann tree
// it replaced dumped, over responses with every part and every kind of byte.
#include <gtest/gtest.h>

#include <random>

#include "webhook/admission/admission.h"
#include "webhook/base/base64.h"

namespace aw::webhook {
namespace {

using nlohmann::json;

// The encoder as it was: a nlohmann tree (keys sorted), dumped.
std::string treeEncode(std::string_view apiVersion, std::string_view uid,
                       const AdmissionResponse& r) {
  json response = {{"uid", uid}, {"allowed", r.allowed}};
  if (!r.allowed) {
    response["status"] = {{"code", r.code}, {"reason", r.reason}, {"message", r.message}};
  }
  if (!r.warnings.empty()) response["warnings"] = r.warnings;
  if (!r.auditAnnotations.empty()) response["auditAnnotations"] = r.auditAnnotations;
  if (!r.patch.empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = base64Encode(r.patch);
  }
  json review = {{"apiVersion", apiVersion}, {"kind", "AdmissionReview"}, {"response", response}};
  return review.dump(-1, ' ', false, json::error_handler_t::replace);
}

class Texts {
 public:
  explicit Texts(unsigned seed) : rng_(seed) {}
  std::string text() {
    // The literal's own bytes, its terminating NUL included (one NUL inside the text).
    static constexpr char kPlain[] = "abz09 -_.:/;\"\\\n\t\r\b\f\x01\x1f\x7f";
    static const std::string kBytes = std::string(kPlain, sizeof kPlain) +
                                      "\xc3\xa9\xe2\x82\xac\xf0" +
                                      "\x9f\x98\x80\x80\xff\xc0\xed\xa0";
    std::string s(rng_() % 40, ' ');
    for (char& c : s) c = kBytes[rng_() % kBytes.size()];
    return s;
  }
  std::size_t below(std::size_t n) { return rng_() % n; }

 private:
  std::mt19937 rng_;
};

AdmissionResponse randomResponse(Texts& t) {
  AdmissionResponse r;
  r.allowed = t.below(2) == 0;
  if (!r.allowed) {
    static constexpr int kCodes[] = {400, 403, 0, -1, 2147483647};
    r.code = kCodes[t.below(5)];
    r.reason = t.text();
    r.message = t.text();
  }
  for (std::size_t i = t.below(4); i > 0; --i) r.warnings.push_back(t.text());
  for (std::size_t i = t.below(4); i > 0; --i) r.auditAnnotations[t.text()] = t.text();
  if (t.below(2) == 0) r.patch = t.text();
  return r;
}

TEST(Encode, SameBytesAsTheNlohmannTree) {
  Texts t(7);
  for (int i = 0; i < 20000; ++i) {
    const AdmissionResponse r = randomResponse(t);
    const std::string apiVersion = t.below(2) == 0 ? "admission.k8s.io/v1" : t.text();
    const std::string uid = t.text();
    ASSERT_EQ(encodeAdmissionReview(apiVersion, uid, r), treeEncode(apiVersion, uid, r))
        << "round " << i;
  }
}

TEST(Encode, TypicalAnswers) {
  AdmissionResponse allowed;
  EXPECT_EQ(encodeAdmissionReview("admission.k8s.io/v1", "u-1", allowed),
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
            R"("response":{"allowed":true,"uid":"u-1"}})");
  AdmissionResponse denied;
  denied.allowed = false;
  denied.code = 403;
  denied.reason = "Forbidden";
  denied.message = "r: spec.ports[0]: port 80/TCP has no name";
  denied.warnings = {"w1", "w\"2"};
  denied.auditAnnotations = {{"b", "2"}, {"a", "1"}};
  denied.patch = R"([{"op":"add","path":"/spec/x","value":1}])";
  EXPECT_EQ(encodeAdmissionReview("admission.k8s.io/v1beta1", "u-2", denied),
            treeEncode("admission.k8s.io/v1beta1", "u-2", denied));
}

}  // namespace
}  // namespace aw::webhook

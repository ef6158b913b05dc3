// AdmissionReview codec for admission.k8s.io/v1 and v1beta1.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_view.h"
#include "rules/engine/request.h"

namespace aw::webhook {

// The request's fields, as views. They point into `owned` (decodeAdmissionReview), or, when that
// is empty, into the thread's tape and buffers in decodeForRules, valid until the thread's next
// decode: the request path copies nothing out of a review.
struct AdmissionRequest {
  std::string_view apiVersion;  // admission.k8s.io/v1 or admission.k8s.io/v1beta1, echoed back
  std::string_view uid;
  std::string_view group, version, kind;  // request.kind
  rules::Operation operation = rules::Operation::Create;
  std::string_view name, namespace_;
  std::string_view username;
  std::span<const std::string_view> groups;  // request.userInfo.groups
  bool dryRun = false;
  // request.object and request.oldObject, absent when the review has none; only for the kinds
  // the webhook checks (no rule reads any other).
  json::View object;
  json::View oldObject;

  struct Owned;  // what the views point into, when the request owns it
  std::shared_ptr<const Owned> owned;

  // The rules' view of this request (points where this request does).
  rules::Request toRulesRequest() const;
};

struct DecodeResult {
  std::optional<AdmissionRequest> request;
  std::string error;  // why the body is not an AdmissionReview we accept
};

// The most JSON values (containers included) and the deepest nesting a request body may have.
// Parsed, a JSON value takes 16 to 110 bytes: 8 MiB of "[[[..." took 320 MiB, of "[0,0,..." 179
// MiB, over the pod's 128 MiB. The objects checked here are far below both limits (a 1 MiB
// ServiceEntry with its old version holds ~150,000 values and nests ~10 deep).
inline constexpr std::size_t kMaxReviewValues = 500000;
inline constexpr int kMaxReviewDepth = 1000;

// The reference decoder: builds the whole document (but metadata.managedFields) as nlohmann/json
// and hands the rules a Document of the objects made from it. The tests and the request path's
// fallback use it; the request path decodes with decodeForRules (review_decoder.h), which answers
// the same.
DecodeResult decodeAdmissionReview(std::string_view body);

// What the webhook answers; built by the decision, encoded by encodeAdmissionReview.
struct AdmissionResponse {
  bool allowed = true;
  int code = 0;  // status.code when not allowed (403, 400)
  std::string reason;
  std::string message;
  std::vector<std::string> warnings;
  std::map<std::string, std::string> auditAnnotations;
  std::string patch;  // JSONPatch document (JSON text, not yet base64); empty: no patch
};

std::string encodeAdmissionReview(std::string_view apiVersion, std::string_view uid,
                                  const AdmissionResponse& response);

}  // namespace aw::webhook

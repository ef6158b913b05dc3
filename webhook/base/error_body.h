// The body of every HTTP error the webhook answers itself (not an AdmissionReview).
#pragma once

#include <string>
#include <string_view>

namespace aw::webhook {

// {"error": "..."}; invalid UTF-8 in `message` is replaced, never a reason to fail.
std::string errorBody(std::string_view message);

}  // namespace aw::webhook

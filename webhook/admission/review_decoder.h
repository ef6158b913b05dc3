// The request path's AdmissionReview decoder. It parses the body once with simdjson (into a tape
// that each thread reuses) and builds nothing but the envelope fields: the rules read the object
// and the old object as views into that tape (json::View), so what they do not read is
// validated and never copied.
//
// It answers exactly like decodeAdmissionReview (admission.h), which stays the reference: any
// body the fast path does not take as a plain valid review (a JSON error, a limit, an envelope
// error, a map the rules walk whose keys are not ascending and unique) is decoded again by
// decodeAdmissionReview, whose answer is returned. Errors therefore always carry the reference's
// message, and test/webhook/admission/review_decoder_test.cpp and fuzz/fuzz_decoder.cpp hold the
// two decoders to the same answers.
#pragma once

#include <cstddef>
#include <string_view>

#include "webhook/admission/admission.h"

namespace aw::webhook {

// The request's object views point into the thread's tape: they stay valid until the thread's
// next decodeForRules or releaseLargeDecodeBuffers.
DecodeResult decodeForRules(std::string_view body);

// Readable bytes a caller may promise after a body: simdjson reads up to this far past the end
// (what they hold does not matter).
inline constexpr std::size_t kBodyPadding = 64;
// decodeForRules on a body followed by kBodyPadding readable bytes: parsed where it lies, without
// the copy into the thread's padded buffer.
DecodeResult decodeForRulesInPlace(std::string_view paddedBody);

// Gives back the thread's tape and body copy when the last body was large (over 256 KiB), so a
// thread keeps no more than that between requests. Call it when done with the last decode.
void releaseLargeDecodeBuffers();

// Whether the last decodeForRules on this thread handed the body to decodeAdmissionReview
// (for tests and the benchmark).
bool lastDecodeFellBack();

}  // namespace aw::webhook

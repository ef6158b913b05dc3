// The request path's AdmissionReview decoder. It parses the body once with simdjson (into a tape
// that each thread reuses) and builds only what is read afterwards: the envelope fields, and of
// the object and the old object exactly the fields the rules of the request's kind declare in
// their `reads` (plus what the engine reads of every object). Everything else is validated and
// skipped, never built.
//
// It answers exactly like decodeAdmissionReview (admission.h), which stays the reference: any
// body the fast path does not take as a plain valid review (a JSON error, a limit, an envelope
// error, a number with a fraction where the rules look) is decoded again by
// decodeAdmissionReview, whose answer is returned. Errors therefore always carry the reference's
// message, and test/webhook/admission/review_decoder_test.cpp and fuzz/fuzz_decoder.cpp hold the
// two decoders to the same answers.
#pragma once

#include <string_view>

#include "webhook/admission/admission.h"

namespace aw::webhook {

DecodeResult decodeForRules(std::string_view body);

// Whether the last decodeForRules on this thread handed the body to decodeAdmissionReview
// (for tests and the benchmark).
bool lastDecodeFellBack();

}  // namespace aw::webhook

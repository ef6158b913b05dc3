// JSON text written by appending to a string, byte for byte what nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes, without building a json value.
#pragma once

#include <string>
#include <string_view>

namespace aw::json {

// `s` as a JSON string literal: quotes, backslash, and control bytes escaped as nlohmann does
// ("\n", "\u001f"), other bytes copied; each invalid UTF-8 sequence becomes U+FFFD exactly where
// nlohmann's replace error handler puts one.
void appendString(std::string& out, std::string_view s);

}  // namespace aw::json

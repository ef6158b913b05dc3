// Standard base64 (RFC 4648 with padding), as Kubernetes writes Secret data and kubeconfig
// *-data keys. Whitespace and line breaks are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aw::webhook {

// The decoded bytes; nullopt when `text` is empty or not valid base64, with `error` saying what
// is wrong and where ("not valid base64: unexpected '-' at offset 12 (URL-safe base64? ...)").
std::optional<std::string> decodeBase64(std::string_view text, std::string& error);

// `data` in standard base64 with padding (an AdmissionResponse's patch).
std::string base64Encode(std::string_view data);
// The same appended to `out`.
void appendBase64(std::string& out, std::string_view data);

// A byte as a message shows it: 'x' when printable, else its code ("byte 0x0a").
std::string describeByte(char c);

}  // namespace aw::webhook

// OpenSSL's error queue as text, for messages.
#pragma once

#include <string>

namespace aw::webhook {

// The OpenSSL error queue as one line (and cleared); "unknown OpenSSL error" when it is empty.
std::string opensslErrors();

}  // namespace aw::webhook

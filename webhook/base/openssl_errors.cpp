#include "webhook/base/openssl_errors.h"

#include <openssl/err.h>

namespace aw::webhook {

std::string opensslErrors() {
  std::string out;
  unsigned long e = 0;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += ", ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace aw::webhook

#include "webhook/base/base64.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <cctype>

#include "common/text.h"

namespace aw::webhook {

std::string describeByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f) return aw::quote(std::string_view(&c, 1), {'\'', 0});
  static const char* hex = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

std::optional<std::string> decodeBase64(std::string_view text, std::string& error) {
  std::string compact;
  compact.reserve(text.size());
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') continue;
    if (c == '=') {
      ++pad;
      compact.push_back(c);
      continue;
    }
    const bool alphabet = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/';
    if (!alphabet || pad > 0) {
      error = "not valid base64: ";
      if (alphabet) {
        error += "data after the '=' padding at offset " + std::to_string(i);
      } else {
        error += "unexpected " + describeByte(c) + " at offset " + std::to_string(i);
        if (c == '-' || c == '_') error += " (URL-safe base64? use the standard alphabet, + and /)";
      }
      return std::nullopt;
    }
    compact.push_back(c);
  }
  if (compact.empty()) {
    error = "is empty";
    return std::nullopt;
  }
  if (pad > 2 || compact.size() % 4 != 0) {
    error = "not valid base64: " + std::to_string(compact.size()) +
            " characters, not a multiple of 4 (cut short, or the '=' padding is missing?)";
    return std::nullopt;
  }
  std::string out(compact.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(compact.data()),
                                static_cast<int>(compact.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) {
    ERR_clear_error();
    error = "not valid base64";
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the bytes the padding stands for as zeros.
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64Encode(std::string_view data) {
  std::string out;
  appendBase64(out, data);
  return out;
}

void appendBase64(std::string& out, std::string_view data) {
  const std::size_t at = out.size();
  // EVP_EncodeBlock ends with a NUL, which lands on the string's own terminator.
  out.resize(at + 4 * ((data.size() + 2) / 3));
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

}  // namespace aw::webhook

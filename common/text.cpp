#include "common/text.h"

namespace aw::rules {

std::string quoteValue(std::string_view value) {
  constexpr std::size_t kMax = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMax; ++i) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    const bool afterSemicolon = i > 0 && value[i - 1] == ';';
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F || (c == ' ' && afterSemicolon)) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  if (value.size() > kMax) out += "...";
  out += '"';
  return out;
}

}  // namespace aw::rules

#include "common/text.h"

namespace aw {

std::string quote(std::string_view value, const QuoteStyle& style) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char other = style.delimiter == '"' ? '\'' : '"';
  const std::size_t shown =
      style.maxBytes == 0 || value.size() <= style.maxBytes ? value.size() : style.maxBytes;
  std::string out(1, style.delimiter);
  for (std::size_t i = 0; i < shown; ++i) {
    const char c = value[i];
    const auto u = static_cast<unsigned char>(c);
    const bool hexSpace = c == ' ' && (style.spaceAsHex ||
                                       (style.semicolonSpaceAsHex && i > 0 && value[i - 1] == ';'));
    if (c == '\\' || c == style.delimiter || (c == other && style.escapeBothQuotes)) {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F || hexSpace) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  if (shown < value.size()) out += "...";
  out += style.delimiter;
  return out;
}

std::string quoteValue(std::string_view value) {
  return quote(value, kFindingValue);
}

}  // namespace aw

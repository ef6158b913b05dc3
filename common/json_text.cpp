#include "common/json_text.h"

#include <cstdint>
#include <cstring>

namespace aw::json {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// What a byte may start, as Unicode's table of well-formed UTF-8 sequences has it: the number of
// continuation bytes and the range the first of them must fall in (the others: 0x80..0xBF).
// `more` is -1 for a byte that starts nothing (0x80..0xC1, 0xF5..0xFF).
struct Lead {
  int more;
  std::uint8_t low, high;
};

Lead lead(std::uint8_t b) {
  if (b < 0x80) return {0, 0, 0};
  if (b < 0xC2) return {-1, 0, 0};
  if (b < 0xE0) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};
  if (b == 0xED) return {2, 0x80, 0x9F};
  if (b < 0xF0) return {2, 0x80, 0xBF};
  if (b == 0xF0) return {3, 0x90, 0xBF};
  if (b < 0xF4) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};
  return {-1, 0, 0};
}

// Appends the escape of an ASCII byte that needs one; false when it needs none.
bool appendEscape(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return true;
    case '\\':
      out += "\\\\";
      return true;
    case '\b':
      out += "\\b";
      return true;
    case '\t':
      out += "\\t";
      return true;
    case '\n':
      out += "\\n";
      return true;
    case '\f':
      out += "\\f";
      return true;
    case '\r':
      out += "\\r";
      return true;
    default:
      break;
  }
  const auto u = static_cast<std::uint8_t>(c);
  if (u >= 0x20) return false;
  const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xF]};
  out.append(escaped, sizeof escaped);
  return true;
}

// The length of the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80), or, when it is not
// one, the bytes nlohmann's replace handler drops for it (negative): the lead byte alone when it
// starts nothing, else the lead and the continuation bytes that fitted, the offending byte being
// read again as the start of the next sequence.
int sequence(std::string_view s, std::size_t i) {
  const Lead l = lead(static_cast<std::uint8_t>(s[i]));
  if (l.more < 0) return -1;
  for (int k = 1; k <= l.more; ++k) {
    if (i + k >= s.size()) return -static_cast<int>(s.size() - i);  // cut short at the end
    const auto b = static_cast<std::uint8_t>(s[i + k]);
    const std::uint8_t low = k == 1 ? l.low : 0x80;
    const std::uint8_t high = k == 1 ? l.high : 0xBF;
    if (b < low || b > high) return -k;
  }
  return l.more + 1;
}

// Whether the eight bytes at `p` are all ASCII that needs no escape (none >= 0x80, < 0x20, '"'
// or '\\'), tested on a word at once.
bool plainWord(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::uint64_t x = 0;
  std::memcpy(&x, p, sizeof x);
  const auto zeroByte = [](std::uint64_t y) { return (y - kOnes) & ~y & kHigh; };
  const std::uint64_t below20 = (x - 0x20 * kOnes) & ~x & kHigh;
  return ((x & kHigh) | below20 | zeroByte(x ^ ('"' * kOnes)) | zeroByte(x ^ ('\\' * kOnes))) == 0;
}

}  // namespace

void appendString(std::string& out, std::string_view s) {
  out += '"';
  std::size_t plain = 0;  // start of the bytes copied as they are, not yet appended
  std::size_t i = 0;
  while (i < s.size()) {
    while (i + 8 <= s.size() && plainWord(s.data() + i)) i += 8;
    if (i == s.size()) break;
    const auto u = static_cast<std::uint8_t>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\' && u < 0x80) {
      ++i;
      continue;
    }
    if (u < 0x80) {
      out.append(s.data() + plain, i - plain);
      appendEscape(out, s[i]);
      plain = ++i;
      continue;
    }
    const int n = sequence(s, i);
    if (n > 0) {
      i += static_cast<std::size_t>(n);
      continue;
    }
    out.append(s.data() + plain, i - plain);
    out += kReplacement;
    i += static_cast<std::size_t>(-n);
    plain = i;
  }
  out.append(s.data() + plain, i - plain);
  out += '"';
}

}  // namespace aw::json

// Quoting user-written text into messages: the one quoting function of the code base. A quoted
// value stays one readable line whatever the user wrote (quotes and backslashes escaped, control
// and non-ASCII bytes as \xNN); the styles differ only in what each kind of message needs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace aw {

struct QuoteStyle {
  char delimiter = '"';              // '"' or '\''; the other quote is escaped only when asked
  std::size_t maxBytes = 0;          // longer values are cut there and end in "..."; 0: no limit
  bool escapeBothQuotes = false;     // \' inside "..." (and \" inside '...') as well
  bool spaceAsHex = false;           // every space as \x20
  bool semicolonSpaceAsHex = false;  // a space after ';' as \x20: "; " never appears
};

// `value` between the style's delimiters, backslashes and the delimiter escaped, control
// (below 0x20, 0x7F) and non-ASCII bytes as \xNN.
std::string quote(std::string_view value, const QuoteStyle& style = {});

// The style of finding messages: "value" in double quotes, a space after ';' as \x20 (a finding
// message never contains "; ", the separator of joined findings), cut after 64 bytes with "...".
inline constexpr QuoteStyle kFindingValue{'"', 64, false, false, true};

// quote(value, kFindingValue).
std::string quoteValue(std::string_view value);

// ASCII case, independent of the locale (names and protocols in Kubernetes objects are ASCII).
inline char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// a == b, ASCII letters compared without case.
inline bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace aw

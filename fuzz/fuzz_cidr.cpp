// bytes -> parseCidr and splitCidrList. Invariants: a parsed CIDR round-trips through its
// canonical text; a failure has a non-empty error without "; "; a suggestion parses; the list
// splitter keeps every comma-separated element.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/common.h"
#include "rules/model/cidr.h"

namespace {

using aw::fuzz::fail;

void checkOne(std::string_view text) {
  const aw::rules::CidrParse p = aw::rules::parseCidr(text);
  if (p.cidr) {
    const aw::rules::Cidr& c = *p.cidr;
    if (!p.error.empty()) fail("parsed with an error: " + p.error);
    if (c.prefix < 0 || c.prefix > c.bits())
      fail("prefix out of range: " + std::to_string(c.prefix));
    const std::string canonical = c.str();
    const aw::rules::CidrParse again = aw::rules::parseCidr(canonical);
    if (!again.cidr) fail("canonical text does not parse: " + canonical + ": " + again.error);
    if (!(*again.cidr == c)) fail("canonical text does not round-trip: " + canonical);
    if (again.cidr->str() != canonical) fail("canonical text is not stable: " + canonical);
    if (!c.contains(c) || !c.overlaps(c)) fail("a CIDR does not contain itself: " + canonical);
    return;
  }
  if (p.error.empty()) fail("failure without an error for: " + std::string(text));
  if (p.error.find("; ") != std::string::npos) fail("error contains \"; \": " + p.error);
  if (!p.suggestion.empty()) {
    const aw::rules::CidrParse s = aw::rules::parseCidr(p.suggestion);
    if (!s.cidr) fail("suggestion does not parse: " + p.suggestion + ": " + s.error);
    if (s.cidr->str() != p.suggestion) fail("suggestion is not canonical: " + p.suggestion);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  checkOne(text);
  const std::vector<std::string> parts = aw::rules::splitCidrList(text);
  std::size_t commas = 0;
  for (char c : text) commas += c == ',';
  if (parts.size() != commas + 1)
    fail("splitCidrList kept " + std::to_string(parts.size()) + " elements of " +
         std::to_string(commas + 1));
  for (const std::string& part : parts) {
    if (part.find(',') != std::string::npos) fail("an element holds a comma: " + part);
    checkOne(part);
  }
  return 0;
}

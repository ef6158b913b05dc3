#include "rules/model/domain.h"

#include <cctype>

namespace aw::rules {

std::string normalizeDomain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string out(domain);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool sameDomain(std::string_view a, std::string_view b) {
  return normalizeDomain(a) == normalizeDomain(b);
}

bool hostUnderDomain(std::string_view host, std::string_view domain) {
  const std::string h = normalizeDomain(host);
  const std::string d = normalizeDomain(domain);
  if (d.empty() || h.empty()) return false;
  if (h == d) return true;
  return h.size() > d.size() && h.compare(h.size() - d.size(), d.size(), d) == 0 &&
         h[h.size() - d.size() - 1] == '.';
}

}  // namespace aw::rules

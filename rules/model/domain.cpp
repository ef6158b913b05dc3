#include "rules/model/domain.h"

#include <algorithm>

#include "common/text.h"

namespace aw::rules {

namespace {

std::string_view withoutTrailingDot(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return domain;
}

}  // namespace

std::string normalizeDomain(std::string_view domain) {
  return std::string(NormalizedDomain(domain).view());
}

NormalizedDomain::NormalizedDomain(std::string_view domain) {
  domain = withoutTrailingDot(domain);
  if (domain.size() > kInline) {
    long_.assign(domain);
    std::transform(long_.begin(), long_.end(), long_.begin(), asciiLower);
    return;
  }
  size_ = domain.size();
  std::transform(domain.begin(), domain.end(), short_.begin(), asciiLower);
}

bool sameDomain(std::string_view a, std::string_view b) {
  a = withoutTrailingDot(a);
  b = withoutTrailingDot(b);
  return equalsIgnoreAsciiCase(a, b);
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

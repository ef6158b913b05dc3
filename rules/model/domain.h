// Domain comparison: case-insensitive, one trailing dot ignored (SPEC §5 "Domains").
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace aw::rules {

// Lower-cased (ASCII), one trailing dot removed, surrounding whitespace kept (it is a different
// domain).
std::string normalizeDomain(std::string_view domain);
bool sameDomain(std::string_view a, std::string_view b);
// True when `host` equals `domain` or lies under it (`bar.ns.svc.cluster-b.local` under
// `cluster-b.local`); a leading `*.` on the host is treated as a label.
bool hostUnderDomain(std::string_view host, std::string_view domain);

// normalizeDomain on the stack: a domain up to kInline characters long costs no allocation (DNS
// names have at most 253).
class NormalizedDomain {
 public:
  static constexpr std::size_t kInline = 256;
  explicit NormalizedDomain(std::string_view domain);
  std::string_view view() const {
    return long_.empty() ? std::string_view(short_.data(), size_) : long_;
  }

 private:
  std::array<char, kInline> short_;
  std::size_t size_ = 0;
  std::string long_;
};

}  // namespace aw::rules

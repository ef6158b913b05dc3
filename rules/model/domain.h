// Domain comparison: case-insensitive, one trailing dot ignored (SPEC §5 "Domains").
#pragma once

#include <string>
#include <string_view>

namespace aw::rules {

// Lower-cased, one trailing dot removed, surrounding whitespace kept (it is a different domain).
std::string normalizeDomain(std::string_view domain);
bool sameDomain(std::string_view a, std::string_view b);
// True when `host` equals `domain` or lies under it (`bar.ns.svc.cluster-b.local` under
// `cluster-b.local`); a leading `*.` on the host is treated as a label.
bool hostUnderDomain(std::string_view host, std::string_view domain);

}  // namespace aw::rules

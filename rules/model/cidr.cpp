#include "rules/model/cidr.h"

#include <algorithm>
#include <cstring>

#include "common/text.h"

namespace aw::rules {

namespace {

using Bytes = std::array<std::uint8_t, 16>;
constexpr std::size_t npos = std::string_view::npos;

// ---------------------------------------------------------------------------------------------
// Bit helpers. An address occupies the whole 16 bytes (IPv6) or the last 4 (IPv4); bit 0 of a
// family is the most significant bit of its first byte.

int familyOffset(bool v6) {
  return v6 ? 0 : 12;
}
int familyBits(bool v6) {
  return v6 ? 128 : 32;
}
int clampPrefix(bool v6, int prefix) {
  return std::clamp(prefix, 0, familyBits(v6));
}

// Zeroes every bit after the first `prefix` bits of the family (and, for IPv4, the unused
// leading 12 bytes).
void maskTo(Bytes& a, bool v6, int prefix) {
  const int start = familyOffset(v6);
  for (int i = 0; i < 16; ++i) {
    const int before = (i - start) * 8;  // family bits preceding byte i
    if (i < start || before >= prefix) {
      a[i] = 0;
    } else if (before + 8 > prefix) {
      a[i] = static_cast<std::uint8_t>(a[i] & (0xFF << (8 - (prefix - before))));
    }
  }
}

// Sets every bit after the first `prefix` bits of the family.
void fillHostBits(Bytes& a, bool v6, int prefix) {
  const int start = familyOffset(v6);
  for (int i = start; i < 16; ++i) {
    const int before = (i - start) * 8;
    if (before >= prefix) {
      a[i] = 0xFF;
    } else if (before + 8 > prefix) {
      a[i] = static_cast<std::uint8_t>(a[i] | (0xFF >> (prefix - before)));
    }
  }
}

// True when the first `prefix` bits of the family are equal in both addresses.
bool samePrefix(const Bytes& a, const Bytes& b, bool v6, int prefix) {
  const int start = familyOffset(v6);
  const int whole = prefix / 8;
  if (std::memcmp(a.data() + start, b.data() + start, static_cast<std::size_t>(whole)) != 0) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto m = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return ((a[start + whole] ^ b[start + whole]) & m) == 0;
}

Cidr normalized(const Cidr& c) {
  Cidr n = c;
  n.prefix = clampPrefix(c.v6, c.prefix);
  maskTo(n.addr, n.v6, n.prefix);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Error text helpers. Pieces of the input are quoted, escaped and shortened so that an error
// stays readable whatever was fed in.

// Pieces of the input: every space and both quotes escaped, cut after 24 bytes.
constexpr QuoteStyle kPiece{'"', 24, true, true, false};
// One character: 'x'.
constexpr QuoteStyle kCharacter{'\'', 0, true, true, false};

// Lambdas, not functions: as predicates of std::any_of they inline (a function pointer did not).
constexpr auto isSpace = [](char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
};
constexpr auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
// Digits and dots only: what an IPv4 address is written with. (find_first_not_of would look each
// character up in the set with its own memchr.)
bool digitsAndDots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return isDigit(c) || c == '.'; });
}
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Address parsing. `err` receives a fatal problem (return false); `fixable` receives the first
// problem whose intended value is still clear (a leading zero), parsing goes on.

bool parseV4(std::string_view s, std::uint8_t* out, std::string& err, std::string& fixable) {
  int count = 0;
  std::size_t pos = 0;
  while (true) {
    const std::size_t dot = s.find('.', pos);
    const std::string_view part = s.substr(pos, dot == npos ? npos : dot - pos);
    if (part.empty()) {
      err = "empty octet in IPv4 address (stray or doubled \".\")";
      return false;
    }
    if (count == 4) {
      err = "IPv4 address has more than 4 octets";
      return false;
    }
    unsigned value = 0;
    for (char c : part) {
      if (!isDigit(c)) {
        err =
            "invalid character " + quote(std::string_view(&c, 1), kCharacter) + " in IPv4 address";
        return false;
      }
      if (value <= 255) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255) {
      err = "IPv4 octet " + quote(part, kPiece) + " is out of range 0-255";
      return false;
    }
    if (part.size() > 1 && part[0] == '0' && fixable.empty()) {
      fixable = "leading zero in IPv4 octet " + quote(part, kPiece);
    }
    out[count++] = static_cast<std::uint8_t>(value);
    if (dot == npos) break;
    pos = dot + 1;
  }
  if (count != 4) {
    err = "IPv4 address needs 4 octets, found " + std::to_string(count);
    return false;
  }
  return true;
}

struct Groups {
  std::array<std::uint16_t, 8> g{};
  int n = 0;
};

// Parses colon-separated hex groups; an embedded dotted IPv4 address may close `part` when
// `allowV4` is set and counts as two groups.
bool parseGroups(std::string_view part, bool allowV4, Groups& out, std::string& err,
                 std::string& fixable) {
  if (part.empty()) return true;
  std::size_t pos = 0;
  while (true) {
    const std::size_t colon = part.find(':', pos);
    const std::string_view piece = part.substr(pos, colon == npos ? npos : colon - pos);
    const bool last = colon == npos;
    if (piece.empty()) {
      err = "empty group in IPv6 address";
      return false;
    }
    if (piece.find('.') != npos) {
      if (!last || !allowV4) {
        err = "an embedded IPv4 address must be the last part of an IPv6 address";
        return false;
      }
      std::uint8_t v4[4];
      if (!parseV4(piece, v4, err, fixable)) return false;
      if (out.n + 2 > 8) {
        err = "IPv6 address has more than 8 groups";
        return false;
      }
      out.g[out.n++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      out.g[out.n++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
    } else {
      if (piece.size() > 4) {
        err = "IPv6 group " + quote(piece, kPiece) + " has more than 4 hex digits";
        return false;
      }
      if (out.n >= 8) {
        err = "IPv6 address has more than 8 groups";
        return false;
      }
      unsigned value = 0;
      for (char c : piece) value = value * 16 + static_cast<unsigned>(hexValue(c));
      out.g[out.n++] = static_cast<std::uint16_t>(value);
    }
    if (last) break;
    pos = colon + 1;
  }
  return true;
}

bool parseV6(std::string_view s, Bytes& out, std::string& err, std::string& fixable) {
  for (char c : s) {
    if (hexValue(c) < 0 && c != ':' && c != '.') {
      err = "invalid character " + quote(std::string_view(&c, 1), kCharacter) + " in IPv6 address";
      return false;
    }
  }
  if (s.find(":::") != npos) {
    err = "\":::\" in IPv6 address";
    return false;
  }
  const std::size_t dbl = s.find("::");
  if (dbl != npos && s.find("::", dbl + 2) != npos) {
    err = "more than one \"::\" in IPv6 address";
    return false;
  }
  if (s.front() == ':' && dbl != 0) {
    err = "IPv6 address starts with a single \":\"";
    return false;
  }
  if (s.back() == ':' && (dbl == npos || dbl + 2 != s.size())) {
    err = "IPv6 address ends with a single \":\"";
    return false;
  }
  Groups head, tail;
  if (dbl == npos) {
    if (!parseGroups(s, true, head, err, fixable)) return false;
    if (head.n != 8) {
      err = "IPv6 address has " + std::to_string(head.n) +
            " groups, expected 8 (or \"::\" for a run of zero groups)";
      return false;
    }
  } else {
    if (!parseGroups(s.substr(0, dbl), false, head, err, fixable)) return false;
    if (!parseGroups(s.substr(dbl + 2), true, tail, err, fixable)) return false;
    if (head.n + tail.n > 7) {
      err = "IPv6 address has too many groups to use \"::\"";
      return false;
    }
  }
  std::array<std::uint16_t, 8> groups{};
  std::copy_n(head.g.begin(), head.n, groups.begin());
  std::copy_n(tail.g.begin(), tail.n, groups.end() - tail.n);
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xFF);
  }
  return true;
}

struct AddressParse {
  bool ok = false;
  bool v6 = false;
  Bytes addr{};
  std::string error;    // fatal when !ok
  std::string fixable;  // first fixable problem when ok
};

AddressParse parseAddress(std::string_view s) {
  AddressParse a;
  if (s.empty()) {
    a.error = "missing address before \"/\"";
  } else if (s.find(':') != npos) {
    a.v6 = true;
    a.ok = parseV6(s, a.addr, a.error, a.fixable);
  } else if (digitsAndDots(s)) {
    a.ok = parseV4(s, a.addr.data() + 12, a.error, a.fixable);
  } else {
    a.error = quote(s, kPiece) + " is not an IPv4 or IPv6 address";
  }
  return a;
}

CidrParse failure(std::string error, std::string suggestion = {}) {
  CidrParse r;
  r.error = std::move(error);
  r.suggestion = std::move(suggestion);
  return r;
}

std::string v4Text(const Bytes& a) {
  std::string out;
  for (int i = 12; i < 16; ++i) {
    if (i > 12) out += '.';
    out += std::to_string(a[static_cast<std::size_t>(i)]);
  }
  return out;
}

// RFC 5952: lower case, no leading zeros, the longest run (first on ties) of two or more zero
// groups replaced by "::".
std::string v6Text(const Bytes& a) {
  std::array<unsigned, 8> g{};
  for (std::size_t i = 0; i < 8; ++i) g[i] = static_cast<unsigned>(a[2 * i] << 8 | a[2 * i + 1]);
  int bestStart = -1, bestLen = 0;
  for (int i = 0; i < 8;) {
    if (g[static_cast<std::size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i >= 2 && j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const unsigned v = g[static_cast<std::size_t>(i)];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (v >> shift) & 0xF;
      if (d != 0 || started || shift == 0) {
        out += kHex[d];
        started = true;
      }
    }
  }
  return out;
}

// Index ordering: (family, address, prefix). memcmp orders big-endian bytes numerically.
int compareKey(const Cidr& a, const Cidr& b) {
  if (a.v6 != b.v6) return a.v6 ? 1 : -1;
  if (int c = std::memcmp(a.addr.data(), b.addr.data(), 16); c != 0) return c;
  return a.prefix < b.prefix ? -1 : (a.prefix > b.prefix ? 1 : 0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string Cidr::str() const {
  return (v6 ? v6Text(addr) : v4Text(addr)) + "/" + std::to_string(prefix);
}

bool Cidr::contains(const Cidr& other) const {
  if (v6 != other.v6) return false;
  const int p = clampPrefix(v6, prefix);
  return p <= clampPrefix(v6, other.prefix) && samePrefix(addr, other.addr, v6, p);
}

bool Cidr::overlaps(const Cidr& other) const {
  if (v6 != other.v6) return false;
  const int p = std::min(clampPrefix(v6, prefix), clampPrefix(v6, other.prefix));
  return samePrefix(addr, other.addr, v6, p);
}

namespace {

// What parseV4 accepts without a problem, decided without writing one: exactly four octets of
// one to three digits, each at most 255 and without a leading zero. `s` holds digits and dots.
// The octets go to `out` (4 bytes) when given.
bool plainV4(std::string_view s, std::uint8_t* out = nullptr) {
  int octets = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    unsigned value = 0;
    for (; i < s.size() && s[i] != '.'; ++i) {
      if (i - start == 3) return false;
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
    }
    const std::size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && s[start] == '0')) return false;
    if (out != nullptr) out[octets] = static_cast<std::uint8_t>(value);
    if (++octets == 4) return i == s.size();
    if (i == s.size()) return false;
    ++i;  // the dot
  }
}

// parseCidr's answer for an IPv4 CIDR written the plain way ("10.112.0.0/16": no leading zero,
// no host bit set), found without building any message; none for everything else, which
// parseCidr's full parser then judges.
std::optional<Cidr> plainV4Cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == npos) return std::nullopt;
  const std::string_view address = text.substr(0, slash);
  const std::string_view p = text.substr(slash + 1);
  Cidr c;
  if (!digitsAndDots(address) || !plainV4(address, c.addr.data() + 12)) return std::nullopt;
  if (p.empty() || p.size() > 2 || !std::all_of(p.begin(), p.end(), isDigit) ||
      (p.size() > 1 && p[0] == '0')) {
    return std::nullopt;
  }
  c.prefix = p.size() == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');
  if (c.prefix > 32 || normalized(c) != c) return std::nullopt;
  return c;
}

}  // namespace

bool isIpAddress(std::string_view text) {
  if (text.empty()) return false;
  // Digits and dots only: an IPv4 address or nothing, in one more pass.
  if (digitsAndDots(text)) return plainV4(text);
  // Anything else without a ':', a space or a '/': parseCidr refuses it, so it is refused here
  // before a message about it is written.
  if (text.find(':') == npos || std::any_of(text.begin(), text.end(), isSpace) ||
      text.find('/') != npos) {
    return false;
  }
  const AddressParse a = parseAddress(text);
  return a.ok && a.fixable.empty();  // a full-length prefix sets no host bit
}

CidrParse parseCidr(std::string_view text) {
  if (text.empty()) return failure("empty CIDR");
  if (std::optional<Cidr> plain = plainV4Cidr(text)) {
    CidrParse r;
    r.cidr = *plain;
    return r;
  }

  if (std::any_of(text.begin(), text.end(), isSpace)) {
    std::string stripped;
    for (char c : text) {
      if (!isSpace(c)) stripped += c;
    }
    if (stripped.empty()) return failure("empty CIDR (only whitespace)");
    CidrParse inner = parseCidr(stripped);
    return failure("contains whitespace", inner.cidr ? inner.cidr->str() : inner.suggestion);
  }

  const std::size_t slash = text.find('/');
  AddressParse a = parseAddress(text.substr(0, slash));
  if (slash == npos) {
    if (!a.ok) return failure(a.error + ", and the prefix length is missing");
    return failure(std::string("missing prefix length, add /NN after the address (") +
                   (a.v6 ? "/128" : "/32") + " for a single address)");
  }
  if (!a.ok) return failure(a.error);

  const std::string_view p = text.substr(slash + 1);
  const int bits = familyBits(a.v6);
  if (p.empty()) return failure("missing prefix length after \"/\"");
  if (!std::all_of(p.begin(), p.end(), isDigit)) {
    return failure("prefix length " + quote(p, kPiece) + " is not a decimal number");
  }
  int prefix = 0;
  for (char c : p) {
    if (prefix <= bits) prefix = prefix * 10 + (c - '0');
  }
  if (prefix > bits) {
    const std::string shown = p.size() > 24 ? std::string(p.substr(0, 24)) + "..." : std::string(p);
    return failure("prefix length " + shown + " is out of range 0-" + std::to_string(bits));
  }
  std::string fixable = a.fixable;
  if (fixable.empty() && p.size() > 1 && p[0] == '0') {
    fixable = "leading zero in prefix length " + quote(p, kPiece);
  }

  Cidr c;
  c.v6 = a.v6;
  c.addr = a.addr;
  c.prefix = prefix;
  const Cidr network = normalized(c);
  if (!fixable.empty()) return failure(fixable, network.str());
  if (network != c) {
    return failure("host bits are set beyond prefix length /" + std::to_string(prefix),
                   network.str());
  }
  CidrParse r;
  r.cidr = c;
  return r;
}

std::vector<std::string> splitCidrList(std::string_view text) {
  std::vector<std::string> out;
  forEachCidrListElement(text, [&](std::string_view element) { out.emplace_back(element); });
  return out;
}

// ---------------------------------------------------------------------------------------------

void CidrIndex::add(const Cidr& cidr, std::size_t owner) {
  // Entries must be normalized for the ordering below to mean anything; parseCidr's output
  // already is, so this only guards hand-built values.
  entries_.push_back({normalized(cidr), owner});
}

void CidrIndex::build() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return compareKey(a.cidr, b.cidr) < 0; });
}

// Two CIDRs of one family are either nested or disjoint, so the stored entries overlapping q
// are exactly:
//  (a) the entries containing q (q itself included): for every p in 0..q.prefix, those equal to
//      (q.addr masked to p, p). These keys increase strictly with p, so they are looked up in
//      order, each search starting where the previous one ended; the entry found by a search
//      also lets the loop skip every p whose key sorts below it without another search.
//  (b) the entries strictly inside q: a contiguous run starting at lower_bound(q.addr,
//      q.prefix + 1) and ending at the first entry whose address is beyond q's last address
//      (any entry of that run has a longer prefix than q, see below), so no entry is reported
//      twice.
// Cost: at most q.prefix + 1 binary searches, O(bits * log n + matches); in practice a
// handful of searches since most prefix lengths are skipped. Indices come out ascending.
std::vector<std::size_t> CidrIndex::scan(const Cidr& q) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].cidr.overlaps(q)) out.push_back(i);
  }
  return out;
}

std::vector<std::size_t> CidrIndex::overlapping(const Cidr& query) const {
  const Cidr q = normalized(query);
  if (entries_.size() <= kScanned) return scan(q);
  std::vector<std::size_t> out;
  const auto less = [](const Entry& e, const Cidr& key) { return compareKey(e.cidr, key) < 0; };
  const auto begin = entries_.begin();
  const auto end = entries_.end();

  // (a) containers. probe = (q.addr masked to p, p); extending p copies one more bit of q.addr.
  Cidr probe;
  probe.v6 = q.v6;
  probe.prefix = 0;
  const int start = familyOffset(q.v6);
  const auto extendProbe = [&] {
    const int bit = probe.prefix;
    const auto byte = static_cast<std::size_t>(start) + static_cast<std::size_t>(bit / 8);
    probe.addr[byte] =
        static_cast<std::uint8_t>(probe.addr[byte] | (q.addr[byte] & (0x80 >> (bit % 8))));
    ++probe.prefix;
  };
  // Invariant: no entry before `it` equals the current probe or any later one.
  auto it = std::lower_bound(begin, end, probe, less);
  while (it != end && it->cidr.v6 == q.v6) {
    int cmp = compareKey(probe, it->cidr);
    // No entry lies between the previous probe and *it: skip probes sorting below *it.
    while (cmp < 0 && probe.prefix < q.prefix) {
      extendProbe();
      cmp = compareKey(probe, it->cidr);
    }
    if (cmp < 0) break;  // even q itself sorts below every remaining entry
    if (cmp > 0) {       // *it is stale: search again for the current probe
      it = std::lower_bound(it, end, probe, less);
      continue;
    }
    for (; it != end && compareKey(it->cidr, probe) == 0; ++it) {
      out.push_back(static_cast<std::size_t>(it - begin));
    }
    if (probe.prefix == q.prefix) break;
    extendProbe();
  }

  // (b) strictly inside q. An entry e whose address lies within q and whose prefix is at most
  // q.prefix has no bits set beyond its prefix, so e.addr == q.addr: it sorts before
  // (q.addr, q.prefix + 1). Hence everything in the run below has a longer prefix than q.
  if (q.prefix < q.bits()) {
    Cidr first = q;
    first.prefix = q.prefix + 1;
    Bytes last = q.addr;
    fillHostBits(last, q.v6, q.prefix);
    for (auto i = std::lower_bound(begin, end, first, less);
         i != end && i->cidr.v6 == q.v6 && std::memcmp(i->cidr.addr.data(), last.data(), 16) <= 0;
         ++i) {
      out.push_back(static_cast<std::size_t>(i - begin));
    }
  }
  return out;
}

}  // namespace aw::rules

#include "rules/model/cidr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace aw::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// Independent helpers. Addresses are handled here as explicit bit strings (most significant bit
// first), which is deliberately unlike the byte masking in rules/cidr.cpp.

// A fixed-capacity bit string (no allocation, so that the brute-force scans stay cheap).
struct Bits {
  std::array<int, 128> bit{};
  std::size_t n = 0;
  int& operator[](std::size_t i) { return bit[i]; }
  int operator[](std::size_t i) const { return bit[i]; }
  std::size_t size() const { return n; }
  friend bool operator<=(const Bits& a, const Bits& b) {
    for (std::size_t i = 0; i < a.n; ++i) {
      if (a.bit[i] != b.bit[i]) return a.bit[i] < b.bit[i];
    }
    return true;
  }
};

Bits zeroBits(int n) {
  Bits b;
  b.n = static_cast<std::size_t>(n);
  return b;
}

Bits toBits(const Cidr& c) {
  Bits out;
  const int firstByte = c.v6 ? 0 : 12;
  for (int i = firstByte; i < 16; ++i) {
    for (int b = 7; b >= 0; --b) out.bit[out.n++] = (c.addr[static_cast<std::size_t>(i)] >> b) & 1;
  }
  return out;
}

Cidr fromBits(const Bits& bits, bool v6, int prefix) {
  Cidr c;
  c.v6 = v6;
  c.prefix = prefix;
  const int firstByte = v6 ? 0 : 12;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) c.addr[firstByte + i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
  }
  return c;
}

// Lowest and highest address of a network, as bit strings; lexicographic order on equal-length
// bit strings is numeric order.
struct Range {
  Bits first, last;
};

Range rangeOf(const Cidr& c) {
  Range r{toBits(c), toBits(c)};
  for (std::size_t i = static_cast<std::size_t>(c.prefix); i < r.first.size(); ++i) {
    r.first[i] = 0;
    r.last[i] = 1;
  }
  return r;
}

bool oracleOverlaps(const Cidr& a, const Cidr& b) {
  if (a.v6 != b.v6) return false;
  const Range ra = rangeOf(a), rb = rangeOf(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

bool oracleContains(const Cidr& a, const Cidr& b) {
  if (a.v6 != b.v6) return false;
  const Range ra = rangeOf(a), rb = rangeOf(b);
  return ra.first <= rb.first && rb.last <= ra.last;
}

Cidr masked(const Cidr& c) {
  Bits b = toBits(c);
  for (std::size_t i = static_cast<std::size_t>(c.prefix); i < b.size(); ++i) b[i] = 0;
  return fromBits(b, c.v6, c.prefix);
}

// Text in the most verbose form: IPv4 dotted quad, IPv6 eight groups without "::", with random
// upper case and random zero padding, so that parsing is exercised on non-canonical input.
std::string verboseText(const Cidr& c, std::mt19937_64& rng) {
  char buf[16];
  std::string out;
  if (!c.v6) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) out += '.';
      out += std::to_string(c.addr[static_cast<std::size_t>(i)]);
    }
  } else {
    for (int g = 0; g < 8; ++g) {
      if (g > 0) out += ':';
      const unsigned v = static_cast<unsigned>(c.addr[2 * g] << 8 | c.addr[2 * g + 1]);
      const bool upper = rng() % 2 == 0;
      const bool pad = rng() % 2 == 0;
      std::snprintf(buf, sizeof buf, pad ? (upper ? "%04X" : "%04x") : (upper ? "%X" : "%x"), v);
      out += buf;
    }
  }
  return out + "/" + std::to_string(c.prefix);
}

// ---------------------------------------------------------------------------------------------
// Random CIDRs biased toward boundaries.

int pick(std::mt19937_64& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

int randomPrefix(std::mt19937_64& rng, int bits) {
  switch (pick(rng, 0, 7)) {
    case 0:
      return 0;
    case 1:
      return bits;
    case 2:
      return bits - 1;
    case 3:
      return 1;
    case 4:
      return 8 * pick(rng, 0, bits / 8);
    default:
      return pick(rng, 0, bits);
  }
}

Cidr randomCidr(std::mt19937_64& rng, bool v6) {
  Cidr c;
  c.v6 = v6;
  for (int i = v6 ? 0 : 12; i < 16; ++i) {
    // Mostly random bytes, sometimes all-zero or all-one bytes to hit edges.
    const int kind = pick(rng, 0, 9);
    c.addr[static_cast<std::size_t>(i)] =
        static_cast<std::uint8_t>(kind == 0   ? 0
                                  : kind == 1 ? 0xFF
                                              : pick(rng, 0, 255));
  }
  c.prefix = randomPrefix(rng, c.bits());
  return masked(c);
}

// A CIDR near `a`: same network with a nearby prefix, a sibling, an adjacent network, a network
// sharing a prefix of `a`, /0, a host route, or something unrelated.
Cidr relatedCidr(std::mt19937_64& rng, const Cidr& a) {
  const int bits = a.bits();
  Bits b = toBits(a);
  switch (pick(rng, 0, 8)) {
    case 0:
      return a;
    case 1: {  // same address, prefix nearby
      const int p = std::clamp(a.prefix + pick(rng, -3, 3), 0, bits);
      return masked(fromBits(b, a.v6, p));
    }
    case 2: {  // sibling: flip the last network bit
      if (a.prefix == 0) return a;
      b[static_cast<std::size_t>(a.prefix - 1)] ^= 1;
      return fromBits(b, a.v6, a.prefix);
    }
    case 3:
    case 4: {  // adjacent network (next or previous) at a nearby prefix length
      const int p = std::clamp(a.prefix + pick(rng, -1, 1), 0, bits);
      if (p == 0) return fromBits(zeroBits(bits), a.v6, 0);
      Cidr base = masked(fromBits(b, a.v6, p));
      Bits x = toBits(base);
      const int delta = pick(rng, 0, 1) == 0 ? 1 : -1;
      // add or subtract 1 at bit p-1 with carry/borrow (wrapping around)
      for (int i = p - 1; i >= 0; --i) {
        int& bit = x[static_cast<std::size_t>(i)];
        bit ^= 1;
        if (bit == (delta > 0 ? 1 : 0)) break;  // no further carry / borrow
      }
      return fromBits(x, a.v6, p);
    }
    case 5: {  // shares the first k bits with a, random after, prefix near a's
      const int k = std::clamp(a.prefix + pick(rng, -4, 2), 0, bits);
      for (std::size_t i = static_cast<std::size_t>(k); i < b.size(); ++i) b[i] = pick(rng, 0, 1);
      const int p = std::clamp(a.prefix + pick(rng, -4, 6), 0, bits);
      return masked(fromBits(b, a.v6, p));
    }
    case 6:
      return fromBits(zeroBits(bits), a.v6, 0);
    case 7: {  // a host route inside or just outside a
      for (std::size_t i = static_cast<std::size_t>(a.prefix); i < b.size(); ++i) {
        b[i] = pick(rng, 0, 1);
      }
      if (pick(rng, 0, 3) == 0 && a.prefix > 0) b[static_cast<std::size_t>(a.prefix - 1)] ^= 1;
      return fromBits(b, a.v6, bits);
    }
    default:
      return randomCidr(rng, pick(rng, 0, 3) == 0 ? !a.v6 : a.v6);
  }
}

// Checks that hold for every parse result, whatever the input.
void expectWellFormed(std::string_view input, const CidrParse& r) {
  SCOPED_TRACE("input: \"" + std::string(input) + "\"");
  if (r.cidr) {
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.suggestion.empty()) << r.suggestion;
    const std::string canonical = r.cidr->str();
    const CidrParse again = parseCidr(canonical);
    ASSERT_TRUE(again.cidr.has_value()) << canonical << ": " << again.error;
    EXPECT_EQ(*again.cidr, *r.cidr) << canonical;
    EXPECT_EQ(again.cidr->str(), canonical);
    EXPECT_EQ(masked(*r.cidr), *r.cidr) << "host bits must be zero";
  } else {
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.error.find("; "), std::string::npos) << r.error;
    if (!r.suggestion.empty()) {
      // A suggestion is always canonical and valid.
      const CidrParse s = parseCidr(r.suggestion);
      ASSERT_TRUE(s.cidr.has_value()) << r.suggestion << ": " << s.error;
      EXPECT_EQ(s.cidr->str(), r.suggestion);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Valid input and canonical text.

struct ValidCase {
  const char* input;
  const char* canonical;
  bool v6;
  int prefix;
};

TEST(ParseCidr, ValidAndCanonical) {
  const ValidCase cases[] = {
      {"0.0.0.0/0", "0.0.0.0/0", false, 0},
      {"10.0.0.0/8", "10.0.0.0/8", false, 8},
      {"172.16.0.0/12", "172.16.0.0/12", false, 12},
      {"100.64.0.0/10", "100.64.0.0/10", false, 10},
      {"192.168.0.0/16", "192.168.0.0/16", false, 16},
      {"10.1.2.3/32", "10.1.2.3/32", false, 32},
      {"0.0.0.0/32", "0.0.0.0/32", false, 32},
      {"255.255.255.255/32", "255.255.255.255/32", false, 32},
      {"::/0", "::/0", true, 0},
      {"0:0:0:0:0:0:0:0/0", "::/0", true, 0},
      {"::1/128", "::1/128", true, 128},
      {"::/128", "::/128", true, 128},
      {"fd00::/8", "fd00::/8", true, 8},
      {"FD00::/8", "fd00::/8", true, 8},
      {"fe80::/10", "fe80::/10", true, 10},
      {"2001:db8::/32", "2001:db8::/32", true, 32},
      {"2001:DB8:0:0:0:0:0:0/32", "2001:db8::/32", true, 32},
      {"2001:0db8:0000::/48", "2001:db8::/48", true, 48},
      {"2001:Db8:aBcD::/48", "2001:db8:abcd::/48", true, 48},
      {"1::/16", "1::/16", true, 16},
      // RFC 5952: the longest run is compressed, the first one on ties, never a single group.
      {"2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128", true, 128},
      {"2001:db8:0:1:1:1:1:1/128", "2001:db8:0:1:1:1:1:1/128", true, 128},
      {"1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128", true, 128},
      {"1:2:3:4:5:6:7::/128", "1:2:3:4:5:6:7:0/128", true, 128},
      {"::2:3:4:5:6:7:8/128", "0:2:3:4:5:6:7:8/128", true, 128},
      {"1::8/128", "1::8/128", true, 128},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
       true, 128},
      // Embedded IPv4: accepted on input, printed in hex.
      {"::ffff:10.0.0.0/104", "::ffff:a00:0/104", true, 104},
      {"::ffff:0.0.0.0/96", "::ffff:0:0/96", true, 96},
      {"::FFFF:1.2.3.4/128", "::ffff:102:304/128", true, 128},
      {"::10.0.0.0/104", "::a00:0/104", true, 104},
      {"1:2:3:4:5:6:1.2.3.4/128", "1:2:3:4:5:6:102:304/128", true, 128},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.input);
    const CidrParse r = parseCidr(c.input);
    ASSERT_TRUE(r.cidr.has_value()) << r.error;
    EXPECT_EQ(r.cidr->str(), c.canonical);
    EXPECT_EQ(r.cidr->v6, c.v6);
    EXPECT_EQ(r.cidr->prefix, c.prefix);
    expectWellFormed(c.input, r);
  }
}

TEST(ParseCidr, AddressLayout) {
  const CidrParse v4 = parseCidr("10.20.30.0/24");
  ASSERT_TRUE(v4.cidr.has_value());
  const std::array<std::uint8_t, 16> want4{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 30, 0};
  EXPECT_EQ(v4.cidr->addr, want4);
  EXPECT_FALSE(v4.cidr->v6);
  EXPECT_EQ(v4.cidr->bits(), 32);

  const CidrParse mapped = parseCidr("::ffff:10.20.0.0/112");
  ASSERT_TRUE(mapped.cidr.has_value());
  const std::array<std::uint8_t, 16> want6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 0, 0};
  EXPECT_EQ(mapped.cidr->addr, want6);
  EXPECT_TRUE(mapped.cidr->v6);
  EXPECT_EQ(mapped.cidr->bits(), 128);
  // Same low bytes, different family: not equal.
  EXPECT_NE(*parseCidr("::a14:0/112").cidr, *parseCidr("10.20.0.0/16").cidr);
}

TEST(ParseCidr, RandomVerboseInputRoundTrips) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const Cidr want = randomCidr(rng, i % 2 == 1);
    const std::string text = verboseText(want, rng);
    const CidrParse r = parseCidr(text);
    ASSERT_TRUE(r.cidr.has_value()) << text << ": " << r.error;
    EXPECT_EQ(*r.cidr, want) << text;
    expectWellFormed(text, r);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors.

struct ErrorCase {
  const char* input;
  const char* errorPart;   // must appear in the error
  const char* suggestion;  // exact
};

TEST(ParseCidr, Errors) {
  const ErrorCase cases[] = {
      // empty
      {"", "empty CIDR", ""},
      {"   ", "empty CIDR", ""},
      // whitespace anywhere; suggestion when the value without it is (or suggests) a CIDR
      {" 10.0.0.0/8", "contains whitespace", "10.0.0.0/8"},
      {"10.0.0.0/8 ", "contains whitespace", "10.0.0.0/8"},
      {"10.0.0.0/8\t", "contains whitespace", "10.0.0.0/8"},
      {"10.0.0.0 /8", "contains whitespace", "10.0.0.0/8"},
      {"10.0.0.0/ 8", "contains whitespace", "10.0.0.0/8"},
      {"10.0. 0.0/8\n", "contains whitespace", "10.0.0.0/8"},
      {" FD00::/8", "contains whitespace", "fd00::/8"},
      {"10.0.0.1/16 ", "contains whitespace", "10.0.0.0/16"},
      {" bogus ", "contains whitespace", ""},
      {"10.0.0.0 ", "contains whitespace", ""},
      // missing prefix
      {"10.0.0.0", "missing prefix length", ""},
      {"10.0.0.0", "/32", ""},
      {"fd00::", "missing prefix length", ""},
      {"fd00::", "/128", ""},
      {"10.0.0.0/", "missing prefix length", ""},
      {"hello", "prefix length is missing", ""},
      {"/8", "missing address", ""},
      {"/", "missing address", ""},
      // prefix not a number, out of range, leading zeros
      {"10.0.0.0/33", "prefix length 33 is out of range 0-32", ""},
      {"10.0.0.0/100", "prefix length 100 is out of range 0-32", ""},
      {"fd00::/129", "prefix length 129 is out of range 0-128", ""},
      {"10.0.0.0/99999999999999999999999", "out of range 0-32", ""},
      {"10.0.0.0/-1", "is not a decimal number", ""},
      {"10.0.0.0/+8", "is not a decimal number", ""},
      {"10.0.0.0/8a", "is not a decimal number", ""},
      {"10.0.0.0/0x8", "is not a decimal number", ""},
      {"10.0.0.0/8/8", "is not a decimal number", ""},
      {"10.0.0.0//8", "is not a decimal number", ""},
      {"10.0.0.0/8,", "is not a decimal number", ""},
      {"10.0.0.0/016", "leading zero in prefix length \"016\"", "10.0.0.0/16"},
      {"2001:db8::/032", "leading zero in prefix length", "2001:db8::/32"},
      {"0.0.0.0/00", "leading zero in prefix length", "0.0.0.0/0"},
      {"10.0.0.0/033", "out of range 0-32", ""},
      // IPv4 octets
      {"10.01.0.0/16", "leading zero in IPv4 octet \"01\"", "10.1.0.0/16"},
      {"010.0.0.0/8", "leading zero in IPv4 octet \"010\"", "10.0.0.0/8"},
      {"10.00.0.0/16", "leading zero in IPv4 octet \"00\"", "10.0.0.0/16"},
      {"10.01.0.1/16", "leading zero in IPv4 octet", "10.1.0.0/16"},
      {"10.01.0.0/016", "leading zero in IPv4 octet", "10.1.0.0/16"},
      {"10.01.0.0/33", "out of range 0-32", ""},
      {"10.256.0.0/16", "IPv4 octet \"256\" is out of range 0-255", ""},
      {"10.0256.0.0/16", "out of range 0-255", ""},
      {"10.99999999999999999999.0.0/16", "out of range 0-255", ""},
      {"10.0.0/16", "needs 4 octets, found 3", ""},
      {"10/8", "needs 4 octets, found 1", ""},
      {"10.0.0.0.0/16", "more than 4 octets", ""},
      {"10..0.0/16", "empty octet", ""},
      {".10.0.0/16", "empty octet", ""},
      {"10.0.0.0./8", "empty octet", ""},
      // host bits
      {"10.0.0.1/16", "host bits are set", "10.0.0.0/16"},
      {"10.0.0.1/16", "/16", "10.0.0.0/16"},
      {"192.168.1.1/24", "host bits are set", "192.168.1.0/24"},
      {"10.0.0.0/0", "host bits are set", "0.0.0.0/0"},
      {"10.0.0.1/31", "host bits are set", "10.0.0.0/31"},
      {"fd00::1/8", "host bits are set", "fd00::/8"},
      {"FD12:3456::/8", "host bits are set", "fd00::/8"},
      {"2001:db8::1/32", "/32", "2001:db8::/32"},
      {"::1/0", "host bits are set", "::/0"},
      {"::1/127", "host bits are set", "::/127"},
      {"::ffff:10.0.0.1/104", "host bits are set", "::ffff:a00:0/104"},
      {"::ffff:10.01.0.0/112", "leading zero in IPv4 octet", "::ffff:a01:0/112"},
      // IPv6 syntax
      {"fd00::g/8", "invalid character 'g'", ""},
      {"fe80::1%eth0/64", "invalid character '%'", ""},
      {"1:2:3:4:5:6:7:8:9/128", "more than 8 groups", ""},
      {"1:2:3:4:5:6:7/112", "7 groups, expected 8", ""},
      {"1:2:3:4:5:6:7:8::/128", "too many groups", ""},
      {"::1:2:3:4:5:6:7:8/128", "too many groups", ""},
      {"1:2:3:4::5:6:7:8/128", "too many groups", ""},
      {"1::2::3/128", "more than one \"::\"", ""},
      {":::/0", "\":::\"", ""},
      {"1:::2/64", "\":::\"", ""},
      {":1::/64", "starts with a single \":\"", ""},
      {":/64", "single \":\"", ""},
      {"1::2:/64", "ends with a single \":\"", ""},
      {"1:2:3:4:5:6:7:8:/128", "ends with a single \":\"", ""},
      {"12345::/16", "more than 4 hex digits", ""},
      {"::1.2.3.4:5/128", "embedded IPv4", ""},
      {"1.2.3.4::/8", "embedded IPv4", ""},
      {"::256.0.0.0/96", "out of range 0-255", ""},
      {"::1.2.3/96", "needs 4 octets", ""},
      {"::a.2.3.4/96", "invalid character 'a'", ""},
      {"1:2:3:4:5:6:7:1.2.3.4/128", "more than 8 groups", ""},
      // garbage
      {"hello/8", "not an IPv4 or IPv6 address", ""},
      {"fd00/8", "not an IPv4 or IPv6 address", ""},
      {"10.0.0.x/8", "not an IPv4 or IPv6 address", ""},
      {"\xff/8", "\\xff", ""},
      {"10.0.0.0;/8", "not an IPv4 or IPv6 address", ""},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(std::string("input: \"") + c.input + "\"");
    const CidrParse r = parseCidr(c.input);
    EXPECT_FALSE(r.cidr.has_value()) << r.cidr->str();
    EXPECT_NE(r.error.find(c.errorPart), std::string::npos)
        << "error: " << r.error << "\nexpected to contain: " << c.errorPart;
    EXPECT_EQ(r.suggestion, c.suggestion) << "error: " << r.error;
    expectWellFormed(c.input, r);
  }
}

TEST(ParseCidr, ErrorQuotesAreShortAndEscaped) {
  const std::string longPrefix = "10.0.0.0/" + std::string(1000, '7');
  const CidrParse a = parseCidr(longPrefix);
  ASSERT_FALSE(a.cidr.has_value());
  EXPECT_LT(a.error.size(), 120u) << a.error;

  const std::string control = std::string("10.0.0.0/8") + '\x01';
  const CidrParse b = parseCidr(control);
  ASSERT_FALSE(b.cidr.has_value());
  EXPECT_NE(b.error.find("\\x01"), std::string::npos) << b.error;
  for (char ch : b.error) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << b.error;

  const std::string nul("10.0.0.0\0/8", 11);
  const CidrParse n = parseCidr(nul);
  ASSERT_FALSE(n.cidr.has_value());
  EXPECT_NE(n.error.find("\\x00"), std::string::npos) << n.error;
}

TEST(ParseCidr, FuzzNeverCrashesAndIsConsistent) {
  std::mt19937_64 rng(12345);
  const std::string alphabet = "0123456789abcdefABCDEF.:/ \t";
  const std::string extra = "xg%-+,;\x01\xff";
  const std::vector<std::string> seeds = {"10.0.0.0/8",
                                          "192.168.1.0/24",
                                          "fd00::/8",
                                          "::ffff:10.0.0.0/104",
                                          "2001:db8::1:0:0:1/128",
                                          "0.0.0.0/0",
                                          "::/0",
                                          "1:2:3:4:5:6:7:8/128"};
  int parsed = 0, failed = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      const int len = pick(rng, 0, 45);
      for (int k = 0; k < len; ++k) {
        s += pick(rng, 0, 40) == 0 ? extra[static_cast<std::size_t>(pick(rng, 0, 8))]
                                   : alphabet[static_cast<std::size_t>(
                                         pick(rng, 0, static_cast<int>(alphabet.size()) - 1))];
      }
    } else {
      // Mutations of valid values reach deeper into the parser.
      s = seeds[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(seeds.size()) - 1))];
      const int edits = pick(rng, 1, 3);
      for (int e = 0; e < edits; ++e) {
        const char ch =
            alphabet[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(alphabet.size()) - 1))];
        const auto pos = static_cast<std::size_t>(pick(rng, 0, static_cast<int>(s.size())));
        switch (pick(rng, 0, 2)) {
          case 0:
            s.insert(pos, 1, ch);
            break;
          case 1:
            if (pos < s.size()) s.erase(pos, 1);
            break;
          default:
            if (pos < s.size()) s[pos] = ch;
            break;
        }
      }
    }
    const CidrParse r = parseCidr(s);
    expectWellFormed(s, r);
    (r.cidr ? parsed : failed)++;
    if (HasFailure()) return;
  }
  // The mutation half must actually produce both outcomes.
  EXPECT_GT(parsed, 1000);
  EXPECT_GT(failed, 1000);
}

// isIpAddress is its definition, parseCidr of the text with a full-length prefix, without the
// messages: checked on edge cases and on random edits of addresses.
TEST(IsIpAddress, IsParseCidrWithAFullPrefix) {
  const auto definition = [](const std::string& s) {
    return parseCidr(s + (s.find(':') != std::string::npos ? "/128" : "/32")).cidr.has_value();
  };
  const std::vector<std::string> cases = {"10.0.0.1",
                                          "010.0.0.1",
                                          "10.0.0",
                                          "10.0.0.256",
                                          "10.0.0.1/32",
                                          "10.0.0.1 ",
                                          " 10.0.0.1",
                                          "",
                                          "::",
                                          "::1",
                                          "fd00::1",
                                          "::ffff:10.0.0.1",
                                          "1:2:3:4:5:6:7:8",
                                          "1:2:3:4:5:6:7:8:9",
                                          "fe80::1%eth0",
                                          "FD00::1",
                                          "fd00::01",
                                          "db.example.com",
                                          "unix:///var/run/x.sock",
                                          "1e3",
                                          "10..0.1",
                                          "10.0.0.1.",
                                          "1:2",
                                          "::/0"};
  for (const std::string& s : cases) EXPECT_EQ(isIpAddress(s), definition(s)) << s;

  std::mt19937_64 rng(2024);
  const std::string alphabet = "0123456789abcdefABCDEF.:/ x%";
  const std::vector<std::string> seeds = {
      "10.1.2.3", "192.168.0.1", "fd00::1", "::ffff:1.2.3.4", "2001:db8::1:0:0:1", "0.0.0.0", "::"};
  int ip = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[static_cast<std::size_t>(i) % seeds.size()];
    for (int e = pick(rng, 0, 2); e > 0; --e) {
      const char ch =
          alphabet[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(alphabet.size()) - 1))];
      const auto pos = static_cast<std::size_t>(pick(rng, 0, static_cast<int>(s.size())));
      if (pick(rng, 0, 1) == 0) {
        s.insert(pos, 1, ch);
      } else if (pos < s.size()) {
        s[pos] = ch;
      }
    }
    const bool is = isIpAddress(s);
    ASSERT_EQ(is, definition(s)) << s;
    ip += is ? 1 : 0;
  }
  EXPECT_GT(ip, 5000);  // both outcomes are exercised
  EXPECT_LT(ip, 19000);
}

// ---------------------------------------------------------------------------------------------
// contains / overlaps.

TEST(Cidr, ContainsAndOverlapsTable) {
  struct Case {
    const char* a;
    const char* b;
    bool aContainsB, bContainsA, overlap;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.1.0.0/16", true, false, true},
      {"10.0.0.0/16", "10.1.0.0/16", false, false, false},
      {"10.0.0.0/16", "10.0.0.0/16", true, true, true},
      {"0.0.0.0/0", "255.255.255.255/32", true, false, true},
      {"10.0.0.0/31", "10.0.0.2/31", false, false, false},
      {"10.0.0.0/31", "10.0.0.1/32", true, false, true},
      {"128.0.0.0/1", "0.0.0.0/1", false, false, false},
      {"10.0.0.0/8", "::/0", false, false, false},
      {"0.0.0.0/0", "::/0", false, false, false},
      {"10.0.0.0/8", "::ffff:a00:0/104", false, false, false},
      {"::/0", "::ffff:a00:0/104", true, false, true},
      {"fd00::/8", "fd12:3456::/32", true, false, true},
      {"fd00::/8", "fe80::/10", false, false, false},
      {"::/128", "::1/128", false, false, false},
      {"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128", true, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " vs " + c.b);
    const Cidr a = *parseCidr(c.a).cidr;
    const Cidr b = *parseCidr(c.b).cidr;
    EXPECT_EQ(a.contains(b), c.aContainsB);
    EXPECT_EQ(b.contains(a), c.bContainsA);
    EXPECT_EQ(a.overlaps(b), c.overlap);
    EXPECT_EQ(b.overlaps(a), c.overlap);
  }
}

TEST(Cidr, OverlapMatchesRangeOracleOnRandomPairs) {
  std::mt19937_64 rng(99);
  int overlapping = 0, disjoint = 0;
  for (int i = 0; i < 60000; ++i) {
    const Cidr a = randomCidr(rng, i % 2 == 1);
    const Cidr b = relatedCidr(rng, a);
    const bool o = oracleOverlaps(a, b);
    ASSERT_EQ(a.overlaps(b), o) << a.str() << " vs " << b.str();
    ASSERT_EQ(b.overlaps(a), o) << b.str() << " vs " << a.str();
    ASSERT_EQ(a.contains(b), oracleContains(a, b)) << a.str() << " contains " << b.str();
    ASSERT_EQ(b.contains(a), oracleContains(b, a)) << b.str() << " contains " << a.str();
    (o ? overlapping : disjoint)++;
  }
  // The generator must exercise both answers substantially.
  EXPECT_GT(overlapping, 10000);
  EXPECT_GT(disjoint, 10000);
}

// ---------------------------------------------------------------------------------------------
// splitCidrList.

TEST(SplitCidrList, Table) {
  struct Case {
    const char* input;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"", {""}},
      {"   ", {""}},
      {" \t ", {""}},
      {"10.0.0.0/8", {"10.0.0.0/8"}},
      {"a, b ,c", {"a", "b", "c"}},
      {"10.0.0.0/8,,", {"10.0.0.0/8", "", ""}},
      {",x", {"", "x"}},
      {",", {"", ""}},
      {" , ", {"", ""}},
      {"\t10.0.0.0/8 ,\tfd00::/8\t", {"10.0.0.0/8", "fd00::/8"}},
      {" a b , c", {"a b", "c"}},
      {"a,\n b", {"a", "\n b"}},  // only spaces and tabs are trimmed; the parser flags the rest
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("input: \"") + c.input + "\"");
    EXPECT_EQ(splitCidrList(c.input), c.want);
  }
}

TEST(SplitCidrList, ElementsFeedTheParser) {
  std::vector<std::string> errors;
  for (const std::string& e : splitCidrList(" 10.0.0.0/8 , fd00::/8,,10.0.0.1/16")) {
    const CidrParse r = parseCidr(e);
    errors.push_back(r.cidr ? "ok" : r.error);
  }
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], "ok");
  EXPECT_EQ(errors[1], "ok");
  EXPECT_EQ(errors[2], "empty CIDR");
  EXPECT_NE(errors[3].find("host bits"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// CidrIndex.

std::set<std::size_t> indexOwners(const CidrIndex& index, const Cidr& q) {
  std::set<std::size_t> owners;
  std::size_t calls = 0;
  index.forEachOverlap(q, [&](const CidrIndex::Entry& e) {
    owners.insert(e.owner);
    ++calls;
    EXPECT_TRUE(oracleOverlaps(e.cidr, q)) << e.cidr.str() << " reported for " << q.str();
  });
  EXPECT_EQ(calls, owners.size()) << "duplicate report for " << q.str();
  return owners;
}

TEST(CidrIndex, EmptyIndex) {
  CidrIndex index;
  index.build();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.overlapping(*parseCidr("0.0.0.0/0").cidr).empty());
  EXPECT_TRUE(index.overlapping(*parseCidr("::/0").cidr).empty());
}

TEST(CidrIndex, SmallHandTable) {
  const char* stored[] = {"10.0.0.0/8",  "10.1.0.0/16",    "10.1.0.0/16", "10.1.2.0/24",
                          "10.2.0.0/16", "0.0.0.0/0",      "::/0",        "fd00::/8",
                          "fd00:1::/32", "192.168.0.0/16", "10.1.2.3/32"};
  CidrIndex index;
  for (std::size_t i = 0; i < std::size(stored); ++i) index.add(*parseCidr(stored[i]).cidr, i);
  index.build();
  EXPECT_EQ(index.size(), std::size(stored));
  struct Case {
    const char* query;
    std::set<std::size_t> owners;
  };
  const Case cases[] = {
      {"10.1.0.0/16", {0, 1, 2, 3, 5, 10}},
      {"10.1.2.0/24", {0, 1, 2, 3, 5, 10}},
      {"10.1.2.3/32", {0, 1, 2, 3, 5, 10}},
      {"10.1.2.4/32", {0, 1, 2, 3, 5}},
      {"10.0.0.0/8", {0, 1, 2, 3, 4, 5, 10}},
      {"10.3.0.0/16", {0, 5}},
      {"11.0.0.0/8", {5}},
      {"0.0.0.0/0", {0, 1, 2, 3, 4, 5, 9, 10}},
      {"::/0", {6, 7, 8}},
      {"fd00:1:2::/48", {6, 7, 8}},
      {"fe80::/10", {6}},
      {"::ffff:a00:0/104", {6}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    EXPECT_EQ(indexOwners(index, *parseCidr(c.query).cidr), c.owners);
    const std::vector<std::size_t> idx = index.overlapping(*parseCidr(c.query).cidr);
    EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
    EXPECT_EQ(std::adjacent_find(idx.begin(), idx.end()), idx.end());
  }
}

// Random sets built around a few seeds so that deep nesting, siblings, adjacency and duplicates
// are common, in both families; compared with a brute-force scan using the range oracle.
void checkRandomIndex(std::uint64_t seed, int entries, int queries) {
  std::mt19937_64 rng(seed);
  std::vector<Cidr> stored;
  CidrIndex index;
  for (int i = 0; i < entries; ++i) {
    Cidr c;
    if (stored.empty() || pick(rng, 0, 9) == 0) {
      c = randomCidr(rng, pick(rng, 0, 2) == 0);
    } else if (pick(rng, 0, 9) == 0) {
      c = stored[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(stored.size()) - 1))];
    } else {
      c = relatedCidr(
          rng, stored[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(stored.size()) - 1))]);
    }
    stored.push_back(c);
    index.add(c, static_cast<std::size_t>(i));
  }
  index.build();
  ASSERT_EQ(index.size(), stored.size());
  std::vector<Range> ranges;
  for (const Cidr& c : stored) ranges.push_back(rangeOf(c));

  std::size_t totalHits = 0;
  for (int k = 0; k < queries; ++k) {
    const Cidr q = pick(rng, 0, 4) == 0
                       ? randomCidr(rng, pick(rng, 0, 1) == 0)
                       : relatedCidr(rng, stored[static_cast<std::size_t>(
                                              pick(rng, 0, static_cast<int>(stored.size()) - 1))]);
    const Range rq = rangeOf(q);
    std::set<std::size_t> want;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (stored[i].v6 == q.v6 && ranges[i].first <= rq.last && rq.first <= ranges[i].last) {
        want.insert(i);
      }
    }
    const std::set<std::size_t> got = indexOwners(index, q);
    ASSERT_EQ(got, want) << "query " << q.str() << " seed " << seed;
    totalHits += got.size();
  }
  EXPECT_GT(totalHits, static_cast<std::size_t>(queries));  // queries are not all misses
}

TEST(CidrIndex, MatchesBruteForceOnRandomSets) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    checkRandomIndex(seed, static_cast<int>(1 + seed * 7), 300);
    if (HasFailure()) return;
  }
}

TEST(CidrIndex, MatchesBruteForceOnLargeSet) {
  checkRandomIndex(2024, 10000, 300);
}

TEST(CidrIndex, ManyDuplicatesAndNesting) {
  // One address with every prefix length, each stored three times: every query along the chain
  // must see all of them exactly once.
  CidrIndex index;
  const Cidr host = *parseCidr("2001:db8:1234:5678:9abc:def0:1234:5678/128").cidr;
  std::size_t owner = 0;
  for (int p = 0; p <= 128; ++p) {
    for (int copy = 0; copy < 3; ++copy)
      index.add(masked(fromBits(toBits(host), true, p)), owner++);
  }
  index.add(*parseCidr("10.0.0.0/8").cidr, owner++);
  index.build();
  for (int p = 0; p <= 128; ++p) {
    const Cidr q = masked(fromBits(toBits(host), true, p));
    EXPECT_EQ(indexOwners(index, q).size(), 129u * 3u) << q.str();
  }
  // A sibling at /128 sees the chain down to /127 only.
  Bits sib = toBits(host);
  sib[127] ^= 1;
  EXPECT_EQ(indexOwners(index, fromBits(sib, true, 128)).size(), 128u * 3u);
}

}  // namespace
}  // namespace aw::rules

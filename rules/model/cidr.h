// Strict CIDR parsing and overlap search for IPv4 and IPv6.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aw::rules {

// A network prefix. The address is kept as 128 bits; IPv4 uses the low 32.
struct Cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> addr{};  // network address, host bits zero
  int prefix = 0;                       // 0..32 (v4) or 0..128 (v6)

  int bits() const { return v6 ? 128 : 32; }
  std::string str() const;  // canonical text: 10.0.0.0/16, fd00::/8
  bool contains(const Cidr& other) const;
  bool overlaps(const Cidr& other) const;  // never across families
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// Parse result: a Cidr, or an explanation of what is wrong and, where one can be
// guessed, the value that was probably meant ("did you mean 10.0.0.0/16?").
struct CidrParse {
  std::optional<Cidr> cidr;
  std::string error;       // empty when cidr is set; never contains "; "
  std::string suggestion;  // canonical text of what was probably meant, may be empty
};

// Strict: host bits set, prefix out of range or missing, leading zeros in an IPv4 octet,
// whitespace, an empty value or anything unparsable is an error.
CidrParse parseCidr(std::string_view text);

// Whether `text` is one IPv4 or IPv6 address as parseCidr reads one: exactly when `text` with
// "/32" (no ':' in it) or "/128" appended parses. Builds no message for what is not one.
bool isIpAddress(std::string_view text);

// Calls fn(element) for each element of "a, b ,c": split on commas, spaces and tabs around each
// element trimmed. Empty elements are kept (as empty views) so that the parser can report them.
template <class Fn>
void forEachCidrListElement(std::string_view text, Fn&& fn) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = text.find(',', pos);
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    const std::size_t first = part.find_first_not_of(" \t");
    part = first == std::string_view::npos
               ? std::string_view()
               : part.substr(first, part.find_last_not_of(" \t") - first + 1);
    fn(part);
    if (comma == std::string_view::npos) return;
    pos = comma + 1;
  }
}

// The elements forEachCidrListElement visits, copied.
std::vector<std::string> splitCidrList(std::string_view text);

// An index of many CIDRs, each tagged with an owner id, answering "which stored CIDRs overlap
// this one" in O(prefix bits * log n + matches).
class CidrIndex {
 public:
  struct Entry {
    Cidr cidr;
    std::size_t owner;  // caller-defined tag (e.g. index of a subnet record)
  };

  void add(const Cidr& cidr, std::size_t owner);
  void build();  // sort; call once after the last add, before queries

  // Calls fn(entry) for every stored CIDR that overlaps `cidr`.
  template <class Fn>
  void forEachOverlap(const Cidr& cidr, Fn&& fn) const {
    for (std::size_t i : overlapping(cidr)) fn(entries_[i]);
  }
  std::vector<std::size_t> overlapping(const Cidr& cidr) const;
  std::size_t size() const { return entries_.size(); }

 private:
  // An index this small (a configuration's few subnets) is scanned: fewer steps than a search.
  static constexpr std::size_t kScanned = 16;
  std::vector<std::size_t> scan(const Cidr& q) const;  // overlapping(), entry by entry
  std::vector<Entry> entries_;  // sorted by (family, addr, prefix) after build()
};

}  // namespace aw::rules

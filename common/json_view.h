// A read-only view of a parsed JSON value, and the path readers the rules use on it. The request
// path hands the rules views into the tape simdjson parsed the request body into, so reading an
// object copies nothing; `check`, the audit and the tests make a Document from a nlohmann value.
// Like json_path.h (its nlohmann counterpart, for configuration and API lists), every reader
// tolerates any JSON: a missing key, a null, a step that is not an object and a value of another
// type all read as "absent", so a reader never throws on input.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace aw::json {

enum class Type : std::uint8_t { Absent, Null, Object, Array, String, Integer, Float, Boolean };

// simdjson's tape (dom::document): one 64-bit word per value, its type in the top byte. A
// container's word holds the index of the word after its end, a number takes a second word, a
// string's word holds the offset of its length (4 bytes) and text in the document's string
// buffer. A view is the document and a pointer to its value's word, and walks the tape itself:
// simdjson's element API re-derives the word from the document and an index at every step.
namespace tape {
using Word = std::uint64_t;
inline char typeOf(const Word* w) {
  return static_cast<char>(*w >> 56);
}
// The word after the value at `w`.
inline const Word* after(const simdjson::dom::document* doc, const Word* w) {
  switch (typeOf(w)) {
    case '[':
    case '{':
      return doc->tape.get() + static_cast<std::uint32_t>(*w);
    case 'l':
    case 'u':
    case 'd':
      return w + 2;
    default:
      return w + 1;
  }
}
// The end word (']' or '}') of the container at `w`.
inline const Word* end(const simdjson::dom::document* doc, const Word* w) {
  return doc->tape.get() + static_cast<std::uint32_t>(*w) - 1;
}
inline std::string_view string(const simdjson::dom::document* doc, const Word* w) {
  const std::uint8_t* at = doc->string_buf.get() + (*w & simdjson::internal::JSON_VALUE_MASK);
  std::uint32_t length = 0;
  std::memcpy(&length, at, sizeof(length));
  return {reinterpret_cast<const char*>(at + sizeof(length)), length};
}
}  // namespace tape

// a == b, for keys: most keys of equal length differ in their first byte, which is compared
// before calling memcmp on the rest.
inline bool sameKey(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         (a.empty() ||
          (a[0] == b[0] && std::memcmp(a.data() + 1, b.data() + 1, a.size() - 1) == 0));
}

// The lengths (modulo 64) of a set of keys: a member whose key length is not among them matches
// none of the keys, which one test tells instead of a comparison with each.
class KeyLengths {
 public:
  void add(std::size_t length) { bits_ |= std::uint64_t{1} << (length & 63); }
  bool mayMatch(std::size_t length) const { return ((bits_ >> (length & 63)) & 1) != 0; }

 private:
  std::uint64_t bits_ = 0;
};

class View {
 public:
  View() = default;  // absent
  // The root value of a document simdjson parsed (which must outlive the view).
  static View root(const simdjson::dom::document& doc) { return View(&doc, doc.tape.get() + 1); }

  // Present and not null.
  explicit operator bool() const { return w_ != nullptr && tape::typeOf(w_) != 'n'; }
  Type type() const;
  bool isObject() const { return is('{'); }
  bool isArray() const { return is('['); }
  bool isString() const { return is('"'); }
  bool isInteger() const { return is('l') || is('u'); }
  bool isBoolean() const { return is('t') || is('f'); }

  // The string, or none when this is not a string.
  std::optional<std::string_view> string() const {
    if (!isString()) return std::nullopt;
    return tape::string(doc_, w_);
  }
  // The boolean, or none.
  std::optional<bool> boolean() const {
    if (!isBoolean()) return std::nullopt;
    return is('t');
  }
  // The integer, or none (an integer beyond int64's range is none here).
  std::optional<std::int64_t> int64() const;
  // The integer, or none (a negative integer is none here).
  std::optional<std::uint64_t> uint64() const;
  // The number as a double when this is a float, or none.
  std::optional<double> float64() const;
  // The elements of a list, the members of an object; 0 for anything else.
  std::size_t size() const;

  // The member `key` of an object: the last of that name, as in a parser that keeps the last of
  // repeated keys. Absent when this is not an object, has no such member or it is null.
  View operator[](std::string_view key) const;

  // A list's elements (none when this is not a list), each a View (a null element is present but
  // reads as false).
  class Elements;
  Elements elements() const;
  // An object's members in document order (none when this is not an object).
  class Members;
  Members members() const;

 private:
  View(const simdjson::dom::document* doc, const tape::Word* w) : doc_(doc), w_(w) {}
  bool is(char type) const { return w_ != nullptr && tape::typeOf(w_) == type; }

  const simdjson::dom::document* doc_ = nullptr;
  const tape::Word* w_ = nullptr;  // null: absent
};

struct Member {
  std::string_view key;
  View value;
};

class View::Elements {
 public:
  class iterator {
   public:
    iterator(const simdjson::dom::document* doc, const tape::Word* w) : doc_(doc), w_(w) {}
    View operator*() const { return {doc_, w_}; }
    iterator& operator++() {
      w_ = tape::after(doc_, w_);
      return *this;
    }
    bool operator!=(const iterator& o) const { return w_ != o.w_; }

   private:
    const simdjson::dom::document* doc_;
    const tape::Word* w_;
  };
  Elements() = default;
  iterator begin() const { return {doc_, first_}; }
  iterator end() const { return {doc_, end_}; }

 private:
  friend class View;
  Elements(const simdjson::dom::document* doc, const tape::Word* first, const tape::Word* end)
      : doc_(doc), first_(first), end_(end) {}
  const simdjson::dom::document* doc_ = nullptr;
  const tape::Word* first_ = nullptr;
  const tape::Word* end_ = nullptr;
};

class View::Members {
 public:
  class iterator {
   public:
    // `w` is a key's word; its value's follows.
    iterator(const simdjson::dom::document* doc, const tape::Word* w) : doc_(doc), w_(w) {}
    Member operator*() const { return {tape::string(doc_, w_), View(doc_, w_ + 1)}; }
    iterator& operator++() {
      w_ = tape::after(doc_, w_ + 1);
      return *this;
    }
    bool operator!=(const iterator& o) const { return w_ != o.w_; }

   private:
    const simdjson::dom::document* doc_;
    const tape::Word* w_;
  };
  Members() = default;
  iterator begin() const { return {doc_, first_}; }
  iterator end() const { return {doc_, end_}; }

 private:
  friend class View;
  Members(const simdjson::dom::document* doc, const tape::Word* first, const tape::Word* end)
      : doc_(doc), first_(first), end_(end) {}
  const simdjson::dom::document* doc_ = nullptr;
  const tape::Word* first_ = nullptr;
  const tape::Word* end_ = nullptr;
};

inline View::Elements View::elements() const {
  if (!isArray()) return {};
  return {doc_, w_ + 1, tape::end(doc_, w_)};
}

inline View::Members View::members() const {
  if (!isObject()) return {};
  return {doc_, w_ + 1, tape::end(doc_, w_)};
}

inline View View::operator[](std::string_view key) const {
  if (!isObject()) return {};
  const tape::Word* found = nullptr;
  const tape::Word* const stop = tape::end(doc_, w_);
  for (const tape::Word* k = w_ + 1; k != stop; k = tape::after(doc_, k + 1)) {
    if (sameKey(tape::string(doc_, k), key)) found = k + 1;
  }
  if (found == nullptr || tape::typeOf(found) == 'n') return {};
  return {doc_, found};
}

// A parsed JSON text that owns what its views point into. Moving it keeps them valid.
class Document {
 public:
  // Throws std::invalid_argument naming simdjson's error when `text` is not JSON, nests deeper
  // than kMaxDepth or has an integer beyond 64 bits.
  explicit Document(std::string_view text);
  // The value as JSON text (invalid UTF-8 replaced by U+FFFD), parsed.
  static Document of(const nlohmann::json& value);

  View root() const { return View::root(parser_->doc); }

  static constexpr std::size_t kMaxDepth = 1024;

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

// The value as nlohmann/json (integers and floats as nlohmann keeps them; absent gives null).
nlohmann::json toNlohmann(View v);

// The members `keys` of an object, each as operator[] reads it, in one pass over the object.
template <std::size_t N>
std::array<View, N> fields(View object, const std::array<std::string_view, N>& keys) {
  std::array<View, N> out{};
  KeyLengths lengths;
  for (const std::string_view k : keys) lengths.add(k.size());
  for (const Member m : object.members()) {
    if (!lengths.mayMatch(m.key.size())) continue;
    for (std::size_t i = 0; i < N; ++i) {
      if (sameKey(m.key, keys[i])) out[i] = m.value;
    }
  }
  for (View& v : out) {
    if (!v) v = View();  // null reads as absent
  }
  return out;
}

// ---- path readers -------------------------------------------------------------------------

inline View child(View node, std::string_view key) {
  return node[key];
}

// child(child(node, a), b)...: at(obj, {"spec", "ports"}).
inline View at(View node, std::initializer_list<std::string_view> path) {
  for (std::string_view key : path) node = node[key];
  return node;
}

inline std::optional<std::string_view> string(View node) {
  return node.string();
}

// The string at `path` below `node` ({"metadata", "name"}), or none.
inline std::optional<std::string_view> stringAt(View node,
                                                std::initializer_list<std::string_view> path) {
  return at(node, path).string();
}

inline View array(View node) {
  return node.isArray() ? node : View();
}
inline View object(View node) {
  return node.isObject() ? node : View();
}

// An integer or an integer-valued string, as text ("80", "http").
std::string scalarText(View node);

}  // namespace aw::json

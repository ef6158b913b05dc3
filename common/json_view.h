// A read-only view of a parsed JSON value, and the path readers the rules use on it. The request
// path hands the rules views into the tape simdjson parsed the request body into, so reading an
// object copies nothing; `check`, the audit and the tests make a Document from a nlohmann value.
// Like json_path.h (its nlohmann counterpart, for configuration and API lists), every reader
// tolerates any JSON: a missing key, a null, a step that is not an object and a value of another
// type all read as "absent", so a reader never throws on input.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace aw::json {

enum class Type : std::uint8_t { Absent, Null, Object, Array, String, Integer, Float, Boolean };

class View {
 public:
  View() = default;  // absent
  explicit View(simdjson::dom::element e) : e_(e), present_(true) {}

  // Present and not null.
  explicit operator bool() const { return present_ && !e_.is_null(); }
  Type type() const;
  bool isObject() const { return present_ && e_.is_object(); }
  bool isArray() const { return present_ && e_.is_array(); }
  bool isString() const { return present_ && e_.is_string(); }
  bool isInteger() const { return present_ && (e_.is_int64() || e_.is_uint64()); }
  bool isBoolean() const { return present_ && e_.is_bool(); }

  // The string, or none when this is not a string.
  std::optional<std::string_view> string() const;
  // The boolean, or none.
  std::optional<bool> boolean() const;
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

  const simdjson::dom::element& element() const { return e_; }

 private:
  simdjson::dom::element e_;
  bool present_ = false;
};

class View::Elements {
 public:
  class iterator {
   public:
    explicit iterator(simdjson::dom::array::iterator it) : it_(it) {}
    View operator*() const { return View(*it_); }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return it_ != o.it_; }

   private:
    simdjson::dom::array::iterator it_;
  };
  Elements() = default;
  explicit Elements(simdjson::dom::array a) : a_(a), present_(true) {}
  iterator begin() const { return present_ ? iterator(a_.begin()) : iterator({}); }
  iterator end() const { return present_ ? iterator(a_.end()) : iterator({}); }

 private:
  simdjson::dom::array a_;
  bool present_ = false;
};

struct Member {
  std::string_view key;
  View value;
};

class View::Members {
 public:
  class iterator {
   public:
    explicit iterator(simdjson::dom::object::iterator it) : it_(it) {}
    Member operator*() const { return {it_.key(), View(it_.value())}; }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return it_ != o.it_; }

   private:
    simdjson::dom::object::iterator it_;
  };
  Members() = default;
  explicit Members(simdjson::dom::object o) : o_(o), present_(true) {}
  iterator begin() const { return present_ ? iterator(o_.begin()) : iterator({}); }
  iterator end() const { return present_ ? iterator(o_.end()) : iterator({}); }

 private:
  simdjson::dom::object o_;
  bool present_ = false;
};

inline View::Elements View::elements() const {
  simdjson::dom::array a;
  if (!present_ || e_.get(a) != simdjson::SUCCESS) return {};
  return Elements(a);
}

inline View::Members View::members() const {
  simdjson::dom::object o;
  if (!present_ || e_.get(o) != simdjson::SUCCESS) return {};
  return Members(o);
}

// A parsed JSON text that owns what its views point into. Moving it keeps them valid.
class Document {
 public:
  // Throws std::invalid_argument naming simdjson's error when `text` is not JSON, nests deeper
  // than kMaxDepth or has an integer beyond 64 bits.
  explicit Document(std::string_view text);
  // The value as JSON text (invalid UTF-8 replaced by U+FFFD), parsed.
  static Document of(const nlohmann::json& value);

  View root() const { return View(root_); }

  static constexpr std::size_t kMaxDepth = 1024;

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
};

// The value as nlohmann/json (integers and floats as nlohmann keeps them; absent gives null).
nlohmann::json toNlohmann(View v);

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

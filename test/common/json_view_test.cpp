// aw::json::View and Document: what the rules can rely on when they read an object.
#include "common/json_view.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace aw::json {
namespace {

TEST(JsonView, ReadersTolerateAnyJson) {
  const Document doc(R"({"a": {"b": "text", "n": null, "i": -7, "u": 18446744073709551615,
                          "f": 1.5, "t": true, "l": [1, null, "x"]}, "s": "top"})");
  const View root = doc.root();
  EXPECT_EQ(stringAt(root, {"a", "b"}), "text");
  EXPECT_FALSE(stringAt(root, {"a", "missing"}));
  EXPECT_FALSE(stringAt(root, {"s", "below a string"}));
  EXPECT_FALSE(stringAt(root, {"a", "i"}));  // an integer is not a string
  EXPECT_FALSE(at(root, {"a", "n"}));        // null reads as absent
  EXPECT_EQ(at(root, {"a", "n"}).type(), Type::Absent);
  EXPECT_EQ(at(root, {"a", "i"}).type(), Type::Integer);
  EXPECT_EQ(at(root, {"a", "u"}).type(), Type::Integer);
  EXPECT_EQ(at(root, {"a", "f"}).type(), Type::Float);
  EXPECT_EQ(at(root, {"a", "t"}).boolean(), true);
  EXPECT_EQ(scalarText(at(root, {"a", "i"})), "-7");
  EXPECT_EQ(scalarText(at(root, {"a", "u"})), "18446744073709551615");
  EXPECT_EQ(scalarText(at(root, {"a", "b"})), "text");
  EXPECT_EQ(scalarText(at(root, {"a", "f"})), "");  // a float is no port number
  EXPECT_EQ(scalarText(View()), "");

  const View list = at(root, {"a", "l"});
  EXPECT_EQ(list.size(), 3U);
  std::vector<Type> types;
  for (const View item : list.elements()) types.push_back(item.type());
  EXPECT_EQ(types, (std::vector<Type>{Type::Integer, Type::Null, Type::String}));
  EXPECT_EQ(array(list).size(), 3U);
  EXPECT_FALSE(object(list));
  // Nothing to iterate in what is not a container, or absent.
  EXPECT_EQ(at(root, {"s"}).elements().begin() != at(root, {"s"}).elements().end(), false);
  EXPECT_EQ(View().members().begin() != View().members().end(), false);
  EXPECT_EQ(View().size(), 0U);
  EXPECT_EQ(at(root, {"s"}).size(), 0U);
}

// A repeated key reads as its last value, as nlohmann's parser keeps it.
TEST(JsonView, TheLastOfRepeatedKeysWins) {
  const Document doc(R"({"k": "first", "k": "second", "m": 1, "m": null})");
  EXPECT_EQ(stringAt(doc.root(), {"k"}), "second");
  EXPECT_FALSE(at(doc.root(), {"m"}));
  std::vector<std::string> keys;
  for (const Member m : doc.root().members()) keys.emplace_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"k", "k", "m", "m"}));  // document order
}

// fields() reads several keys in one pass exactly as operator[] reads each; the walk steps over
// numbers (two tape words), nested containers and empty ones alike.
TEST(JsonView, FieldsReadLikeLookups) {
  const Document doc(R"({"n": 1.5, "deep": {"a": [1, {"b": []}], "c": {}}, "k": "first", "i": -3,)"
                     R"( "k": "second", "z": null, "e": [], "last": true})");
  const View root = doc.root();
  const auto [k, z, deep, missing, last, i] =
      fields<6>(root, {"k", "z", "deep", "missing", "last", "i"});
  EXPECT_EQ(k.string(), "second");
  EXPECT_EQ(z.type(), Type::Absent);  // null reads as absent, as root["z"] does
  EXPECT_EQ(deep.size(), 2U);
  EXPECT_EQ(missing.type(), Type::Absent);
  EXPECT_EQ(last.boolean(), true);
  EXPECT_EQ(i.int64(), -3);
  EXPECT_EQ(i.uint64(), std::nullopt);
  EXPECT_EQ(root["n"].float64(), 1.5);
  EXPECT_EQ(root["n"].int64(), std::nullopt);
  for (const std::string_view key : {"n", "deep", "k", "i", "z", "e", "last", "missing"}) {
    EXPECT_EQ(fields<1>(root, {key})[0].type(), root[key].type()) << key;
  }
  EXPECT_EQ(root.size(), 8U);
  EXPECT_EQ(at(root, {"deep", "c"}).size(), 0U);
  EXPECT_TRUE(at(root, {"deep", "c"}).isObject());
}

TEST(JsonView, DocumentsOfNlohmannValuesReadAlike) {
  const nlohmann::json value = {
      {"metadata", {{"name", "web"}, {"labels", {{"b", "2"}, {"a", "1"}}}}},
      {"spec", {{"ports", {{{"port", 80}, {"name", "http"}}, {{"port", -1}}}}}},
      {"f", 80.0},
      {"big", 18446744073709551615ULL}};
  const Document doc = Document::of(value);
  EXPECT_EQ(toNlohmann(doc.root()), value);
  // nlohmann's keys are sorted, and so is the document made from them.
  std::vector<std::string> keys;
  for (const Member m : at(doc.root(), {"metadata", "labels"}).members()) keys.emplace_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  // Moving a document (a growing vector moves its elements) keeps its views valid.
  std::vector<Document> kept;
  kept.push_back(Document::of(value));
  const View keptName = at(kept.back().root(), {"metadata", "name"});
  for (int i = 0; i < 10; ++i) kept.push_back(Document::of(value));
  EXPECT_EQ(keptName.string(), "web");
  // Invalid UTF-8 in a nlohmann string becomes U+FFFD instead of failing.
  const Document replaced = Document::of(nlohmann::json{{"s", std::string("a\xC3")}});
  EXPECT_EQ(stringAt(replaced.root(), {"s"}), "a\xEF\xBF\xBD");
}

TEST(JsonView, ADocumentRefusesWhatItCannotRead) {
  EXPECT_THROW(Document("{"), std::invalid_argument);
  EXPECT_THROW(Document("[1, 2"), std::invalid_argument);
  EXPECT_THROW(Document("123456789012345678901234567890"), std::invalid_argument);
  const std::size_t deep = Document::kMaxDepth + 1;
  EXPECT_THROW(Document(std::string(deep, '[') + std::string(deep, ']')), std::invalid_argument);
  const std::size_t fits = Document::kMaxDepth;
  EXPECT_NO_THROW(Document(std::string(fits, '[') + std::string(fits, ']')));
}

}  // namespace
}  // namespace aw::json

// The publish body's own reader (rest/publish_body.h) against the general
// one (parse_object, then the catalog's parse_entries): an ordinary body is
// read by it, to the same fields and the same entries or the same errors;
// every other body is left to the general reader, so that the API's
// answers do not change. tests/fuzz/fuzz_json_body.cc checks the same on
// mutated bodies.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/catalog_service.h"
#include "hotswap/harness/temp_dir.h"
#include "rest/json_body.h"
#include "rest/publish_body.h"
#include "store/sql_store.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

class PublishBodyTest : public ::testing::Test {
 protected:
  // Both readers' entries for `text`, which both must read.
  void expect_same(const std::string& text) {
    SCOPED_TRACE(text);
    auto general = parse_object(text);
    ASSERT_TRUE(general.has_value()) << general.error().message;
    auto fast = read_publish_body(text);
    ASSERT_TRUE(fast.has_value());
    json fields = *general;
    fields.erase("entries");
    EXPECT_EQ(fast->fields, fields);
    ASSERT_EQ(fast->entries.has_value(), general->contains("entries"));
    if (!fast->entries) return;
    auto expected = catalog_.parse_entries((*general)["entries"]);
    auto got = catalog_.parse_entries(*fast->entries);
    ASSERT_EQ(expected.has_value(), got.has_value());
    if (expected) {
      EXPECT_EQ(*expected, *got);
      return;
    }
    EXPECT_EQ(expected.error().message, got.error().message);
    ASSERT_EQ(expected.error().problems.size(), got.error().problems.size());
    for (size_t i = 0; i < got.error().problems.size(); ++i) {
      EXPECT_EQ(expected.error().problems[i].key, got.error().problems[i].key);
      EXPECT_EQ(expected.error().problems[i].message, got.error().problems[i].message);
    }
  }

  test::TempDir dir_;
  std::unique_ptr<SqlStore> store_ = SqlStore::open(dir_.path() + "/control.db").value();
  CatalogService catalog_{*store_, [] { return UnixTime{1000}; }};
};

TEST_F(PublishBodyTest, ReadsAnOrdinaryPublishAsTheGeneralReaderDoes) {
  expect_same(R"({"message":"m","expected_parent":3,"deploy":{"strategy":"direct"},
    "entries":{
      "a.int":{"type":"int64","value":-9223372036854775808},
      "a.big":{"type":"int64","value":9223372036854775807},
      "a.zero":{"type":"int64","value":-0},
      "b.flag":{"type":"bool","value":true},
      "c.ratio":{"type":"double","value":0.1},
      "c.whole":{"type":"double","value":1e2},
      "c.tiny":{"type":"double","value":1.5e-400},
      "c.minus_zero":{"type":"double","value":-0.0},
      "c.int_as_double":{"type":"double","value":7},
      "d.text":{"type":"string","value":"caf\u00e9 \ud83d\ude00 \"q\" \\ \n\t"},
      "e.wait":{"type":"duration","value":"1.5s"},
      "e.nanos":{"type":"duration","value":250},
      "f.doc":{"type":"json","value":{"z":[1,-2,3.5,null,{"b":1,"a":"x"}],"a":{}}},
      "g.secret":{"type":"string","value":"s","secret":false}
    }})");
}

TEST_F(PublishBodyTest, ReadsBodiesWithoutEntriesOrWithAnEmptyDocument) {
  expect_same(R"({"message":"from the draft"})");
  expect_same(R"({"entries":{}})");
  expect_same(R"({})");
  expect_same("  {\"entries\" : { \"k\" : { \"value\" : 1 , \"type\" : \"int64\" } } }\n");
}

TEST_F(PublishBodyTest, GivesTheSameErrorsForBadKeysAndValues) {
  // Right shape, wrong content: read, and refused by the same checks.
  expect_same(R"({"entries":{
      "ok":{"type":"int64","value":1},
      "bad key!":{"type":"int64","value":1},
      "x.notint":{"type":"int64","value":"1"},
      "x.frac":{"type":"int64","value":1.5},
      "x.huge":{"type":"int64","value":18446744073709551615},
      "x.type":{"type":"integer","value":1},
      "x.secret":{"type":"int64","value":"no","secret":true},
      "x.dur":{"type":"duration","value":"soon"},
      "x.bool":{"type":"bool","value":1}}})");
  // Fields other than entries are checked after, as before (Fields).
  expect_same(R"({"message":7,"expected_parent":null,"extra":true,"entries":{}})");
}

TEST_F(PublishBodyTest, LeavesEveryOtherBodyToTheGeneralReader) {
  const std::vector<std::string> others = {
      "",
      "[]",
      "null",
      R"({"entries":[]})",
      R"({"entries":{"k":1}})",
      R"({"entries":{"k":{"type":"int64"}}})",
      R"({"entries":{"k":{"value":1}}})",
      R"({"entries":{"k":{"type":1,"value":1}}})",
      R"({"entries":{"k":{"type":"int64","value":1,"secret":"yes"}}})",
      R"({"entries":{"k":{"type":"int64","value":1,"note":"x"}}})",
      R"({"entries":{"k":{"type":"int64","type":"bool","value":1}}})",
      R"({"entries":{"k":{"type":"int64","value":1},"k":{"type":"int64","value":2}}})",
      R"({"entries":{"k":{"type":"json","value":{"a":1,"a":2}}}})",
      R"({"message":"a","message":"b"})",
      R"({"entries":{},"entries":{}})",
      R"({"deploy":{"strategy":"direct","strategy":"canary"}})",
      R"({"entries":{"k":{"type":"int64","value":100000000000000000000}}})",
      R"({"entries":{"k":{"type":"double","value":1e400}}})",
      R"({"entries":{"k":{"type":"string","value":"\ud800"}}})",
      "{\"entries\":{\"k\":{\"type\":\"string\",\"value\":\"a\nb\"}}}",
      "{\"entries\":{\"k\":{\"type\":\"string\",\"value\":\"\xff\"}}}",
      R"({"message":"m"} trailing)",
      std::string("{\"message\":\"m\"}\0{}", 17),
      R"({"message":"m",})",
      std::string(65, '[') + std::string(65, ']'),
      "{\"entries\":{\"k\":{\"type\":\"json\",\"value\":" + std::string(70, '[') +
          std::string(70, ']') + "}}}",
  };
  for (const std::string& text : others) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(read_publish_body(text).has_value());
  }
}

TEST_F(PublishBodyTest, ReadsALargeDocumentAndThenASmallOneWithTheSameThread) {
  json entries = json::object();
  for (int i = 0; i < 20000; ++i) {
    entries["k" + std::to_string(i)] = {{"type", "string"}, {"value", std::string(64, 'v')}};
  }
  const std::string large = json{{"entries", entries}}.dump();
  ASSERT_GT(large.size(), size_t{1} << 20);  // past the parser a thread keeps
  auto read = read_publish_body(large);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->entries->size(), 20000u);
  expect_same(R"({"entries":{"k":{"type":"int64","value":1}}})");
}

}  // namespace
}  // namespace hotswap::control

// Local validation: namespace arguments, `set` values, `apply` documents
// and selectors.
#include "value_parse.h"

#include <gtest/gtest.h>

#include <limits>

#include "hotswap/harness/error_of.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

TEST(ParseNamespace, SplitsTenantAndName) {
  const auto ns = parse_namespace("acme/checkout-prod");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->tenant, "acme");
  EXPECT_EQ(ns->name, "checkout-prod");
  EXPECT_EQ(ns->id(), "acme/checkout-prod");
}

TEST(ParseNamespace, RejectsEveryOtherShapeNamingTheArgument) {
  for (const char* bad : {"", "acme", "/web", "acme/", "/", "a/b/c", "acme//web"}) {
    const auto ns = parse_namespace(bad);
    ASSERT_FALSE(ns.has_value()) << bad;
    EXPECT_NE(ns.error().find(std::string("\"") + bad + "\""), std::string::npos) << ns.error();
    EXPECT_NE(ns.error().find("TENANT/NAME"), std::string::npos) << ns.error();
  }
}

TEST(ParseCliValue, StringAndDurationPassTheTextThrough) {
  EXPECT_EQ(parse_cli_value("k", "string", "42").value(), json("42"));
  EXPECT_EQ(parse_cli_value("k", "string", "").value(), json(""));
  EXPECT_EQ(parse_cli_value("k", "duration", "1.5s").value(), json("1.5s"));
  EXPECT_EQ(parse_cli_value("k", "duration", "250").value(), json("250"));
}

TEST(ParseCliValue, Int64IsAJsonIntegerOverTheWholeRange) {
  const json max = parse_cli_value("k", "int64", "9223372036854775807").value();
  EXPECT_TRUE(max.is_number_integer());
  EXPECT_EQ(max.get<int64_t>(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_cli_value("k", "int64", "-9223372036854775808").value().get<int64_t>(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_cli_value("k", "int64", "-7").value().dump(), "-7");
}

TEST(ParseCliValue, BadInt64NamesKeyAndExpectedForm) {
  const auto result = parse_cli_value("limit", "int64", "abc");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find(R"(value "abc" for key "limit" is not an int64)"),
            std::string::npos)
      << result.error();
  for (const char* bad : {"", "12abc", " 1", "1.0", "0x10", "+"}) {
    EXPECT_FALSE(parse_cli_value("limit", "int64", bad).has_value()) << bad;
  }
}

TEST(ParseCliValue, Int64OverflowSaysOutOfRange) {
  for (const char* big : {"9223372036854775808", "-9223372036854775809", "99999999999999999999"}) {
    const auto result = parse_cli_value("limit", "int64", big);
    ASSERT_FALSE(result.has_value()) << big;
    EXPECT_NE(result.error().find("out of range"), std::string::npos) << result.error();
    EXPECT_NE(result.error().find("\"limit\""), std::string::npos) << result.error();
  }
}

TEST(ParseCliValue, DoubleIsAFiniteNumber) {
  const json half = parse_cli_value("ratio", "double", "0.5").value();
  EXPECT_TRUE(half.is_number_float());
  EXPECT_DOUBLE_EQ(half.get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(parse_cli_value("ratio", "double", "1e-3").value().get<double>(), 0.001);
  EXPECT_TRUE(parse_cli_value("ratio", "double", "-2").value().is_number_float());
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "x", "", "1.5.2"}) {
    const auto result = parse_cli_value("ratio", "double", bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_NE(result.error().find("is not a double"), std::string::npos) << result.error();
  }
}

TEST(ParseCliValue, BoolAcceptsTheSixWordsInAnyCase) {
  for (const char* yes : {"true", "1", "yes", "TRUE", "Yes"}) {
    EXPECT_EQ(parse_cli_value("on", "bool", yes).value(), json(true)) << yes;
  }
  for (const char* no : {"false", "0", "no", "False", "NO"}) {
    EXPECT_EQ(parse_cli_value("on", "bool", no).value(), json(false)) << no;
  }
  for (const char* bad : {"maybe", "2", "", "y", "on"}) {
    const auto result = parse_cli_value("on", "bool", bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_NE(result.error().find("true/false/1/0/yes/no"), std::string::npos) << result.error();
  }
}

TEST(ParseCliValue, JsonIsParsed) {
  EXPECT_EQ(parse_cli_value("cfg", "json", R"({"a": [1, 2]})").value(),
            json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(parse_cli_value("cfg", "json", R"("s")").value(), json("s"));
  EXPECT_EQ(parse_cli_value("cfg", "json", "null").value(), json());
}

TEST(ParseCliValue, InvalidJsonNamesKeyAndPosition) {
  const auto result = parse_cli_value("cfg", "json", "{a");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find(R"(value "{a" for key "cfg" is not valid JSON)"), std::string::npos)
      << result.error();
  EXPECT_NE(result.error().find("line 1"), std::string::npos) << result.error();
  EXPECT_EQ(result.error().find("[json.exception"), std::string::npos) << result.error();
}

TEST(ParseCliValue, UnknownTypeListsTheKnownOnes) {
  const auto result = parse_cli_value("k", "float", "1");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find("string, int64, double, bool, json, duration"), std::string::npos);
}

// The entry a one-key document produces, or the first problem's message.
std::expected<json, std::string> entry_of(const std::string& value_json) {
  const auto entries = parse_document(R"({"k": )" + value_json + "}");
  if (!entries) return std::unexpected(entries.error().front().message);
  return entries->at("k");
}

TEST(ParseDocument, TypedFormIsKept) {
  const auto entries = parse_document(R"({
    "limit": {"type": "int64", "value": 5},
    "timeout": {"type": "duration", "value": "250ms"},
    "cfg": {"type": "json", "value": {"type": "postgres"}}})");
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(*entries, json::parse(R"({
    "limit": {"type": "int64", "value": 5},
    "timeout": {"type": "duration", "value": "250ms"},
    "cfg": {"type": "json", "value": {"type": "postgres"}}})"));
}

TEST(ParseDocument, PlainFormInfersTypes) {
  const auto entries = parse_document(
      R"({"s": "x", "i": -3, "u": 7, "d": 1.5, "b": true, "o": {"a": 1}, "a": [1]})");
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(*entries, json::parse(R"({
    "s": {"type": "string", "value": "x"},
    "i": {"type": "int64", "value": -3},
    "u": {"type": "int64", "value": 7},
    "d": {"type": "double", "value": 1.5},
    "b": {"type": "bool", "value": true},
    "o": {"type": "json", "value": {"a": 1}},
    "a": {"type": "json", "value": [1]}})"));
}

TEST(ParseDocument, DurationTextFromVersionOutputIsDropped) {
  EXPECT_EQ(entry_of(R"({"type": "duration", "value": 1500000000, "text": "1.5s"})").value(),
            json::parse(R"({"type": "duration", "value": 1500000000})"));
}

TEST(ParseDocument, EmptyObjectIsAnEmptyDocument) {
  EXPECT_EQ(parse_document("{}").value(), json::object());
}

TEST(ParseDocument, MustBeAJsonObject) {
  for (const char* text : {"[1, 2]", "\"x\"", "5", "null"}) {
    const auto entries = parse_document(text);
    ASSERT_FALSE(entries.has_value()) << text;
    ASSERT_EQ(entries.error().size(), 1u);
    EXPECT_EQ(entries.error()[0].key, "");
    EXPECT_NE(entries.error()[0].message.find("must be a JSON object"), std::string::npos);
  }
}

TEST(ParseDocument, InvalidJsonSaysWhere) {
  const auto entries = parse_document("{\"a\": 1,\n}");
  ASSERT_FALSE(entries.has_value());
  EXPECT_NE(entries.error()[0].message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(entries.error()[0].message.find("line 2"), std::string::npos)
      << entries.error()[0].message;
}

TEST(ParseDocument, BadTypedEntriesAreEachReportedByKey) {
  const auto entries = parse_document(R"({
    "good": {"type": "int64", "value": 1},
    "no_value": {"type": "int64"},
    "wrong_value": {"type": "int64", "value": "5"},
    "too_big": {"type": "int64", "value": 9223372036854775808},
    "bad_type": {"type": "float", "value": 1},
    "extra": {"type": "bool", "value": true, "comment": "x"}})");
  ASSERT_FALSE(entries.has_value());
  std::map<std::string, std::string> by_key;
  for (const Problem& problem : entries.error()) by_key[problem.key] = problem.message;
  ASSERT_EQ(by_key.size(), 5u);
  EXPECT_NE(by_key["no_value"].find("missing \"value\""), std::string::npos);
  EXPECT_NE(by_key["wrong_value"].find("is not a valid int64"), std::string::npos);
  EXPECT_NE(by_key["too_big"].find("is not a valid int64"), std::string::npos);
  EXPECT_NE(by_key["bad_type"].find("expected one of string, int64"), std::string::npos);
  EXPECT_NE(by_key["extra"].find("unknown member \"comment\""), std::string::npos);
}

TEST(ParseDocument, TypedValuesMustMatchTheirType) {
  EXPECT_TRUE(entry_of(R"({"type": "string", "value": "x"})").has_value());
  EXPECT_FALSE(entry_of(R"({"type": "string", "value": 1})").has_value());
  EXPECT_TRUE(entry_of(R"({"type": "double", "value": 1})").has_value());
  EXPECT_FALSE(entry_of(R"({"type": "double", "value": "1"})").has_value());
  EXPECT_FALSE(entry_of(R"({"type": "bool", "value": 1})").has_value());
  EXPECT_TRUE(entry_of(R"({"type": "duration", "value": 5})").has_value());
  EXPECT_FALSE(entry_of(R"({"type": "duration", "value": true})").has_value());
  EXPECT_TRUE(entry_of(R"({"type": "json", "value": null})").has_value());
}

TEST(ParseDocument, PlainValuesWithoutAnInt64OrTypeAreRejected) {
  const auto big = entry_of("18446744073709551615");
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().find("outside int64"), std::string::npos);
  const auto null = entry_of("null");
  ASSERT_FALSE(null.has_value());
  EXPECT_NE(null.error().find("null has no type"), std::string::npos);
}

TEST(ParseDocument, PlainObjectWithATypeMemberExplainsTheTypedForm) {
  const auto result = entry_of(R"({"type": "postgres", "host": "db"})");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find(R"({"type": "json", "value": {...}})"), std::string::npos)
      << result.error();
}

TEST(ParseSelector, ParsesPairs) {
  const auto selector = parse_selector("env=prod,zone=eu-1,empty=");
  ASSERT_TRUE(selector.has_value());
  EXPECT_EQ(*selector,
            (std::map<std::string, std::string>{{"env", "prod"}, {"zone", "eu-1"}, {"empty", ""}}));
  EXPECT_TRUE(parse_selector("").value().empty());
}

TEST(ParseSelector, RejectsMalformedPairs) {
  for (const char* bad : {"env", "=prod", "env=prod,,zone=a", "env=a,env=b"}) {
    EXPECT_FALSE(parse_selector(bad).has_value()) << bad;
  }
  EXPECT_NE(test::error_of(parse_selector("env")).find("key=value"), std::string::npos);
  EXPECT_NE(test::error_of(parse_selector("env=a,env=b")).find("twice"), std::string::npos);
}

}  // namespace
}  // namespace hotswap::cli

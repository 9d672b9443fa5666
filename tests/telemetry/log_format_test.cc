#include "hotswap/telemetry/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>

#include "hotswap/telemetry/trace_context.h"

namespace hotswap::telemetry {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string format(LogFormat format, std::string_view message,
                   spdlog::level::level_enum level = spdlog::level::info) {
  auto formatter = make_log_formatter(format);
  spdlog::details::log_msg msg("hotswap", level, message);
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(LogFormat, ParsesKeyValueMessages) {
  EXPECT_EQ(message_fields("event=ready http=127.0.0.1:7700 tls=off"),
            (Fields{{"event", "ready"}, {"http", "127.0.0.1:7700"}, {"tls", "off"}}));
  EXPECT_EQ(message_fields(R"(event=failed error="disk full: no space" code=28)"),
            (Fields{{"event", "failed"}, {"error", "disk full: no space"}, {"code", "28"}}));
  EXPECT_EQ(message_fields(R"(event=nack reason="")"), (Fields{{"event", "nack"}, {"reason", ""}}));
  // A raw quote inside a quoted value is text unless a field follows it.
  EXPECT_EQ(message_fields(R"(event=x error="key "a" missing" n=1)"),
            (Fields{{"event", "x"}, {"error", R"(key "a" missing)"}, {"n", "1"}}));
}

TEST(LogFormat, OtherMessagesAreOneField) {
  EXPECT_EQ(message_fields("a library says hello"), (Fields{{"msg", "a library says hello"}}));
  EXPECT_EQ(message_fields(R"(event=x error="never closed)"),
            (Fields{{"msg", R"(event=x error="never closed)"}}));
  EXPECT_EQ(message_fields(""), (Fields{{"msg", ""}}));
}

TEST(LogFormat, JsonLinesHoldTheFieldsAsStrings) {
  const std::string line =
      format(LogFormat::json, "event=ack version=7 ok=true epoch=0042", spdlog::level::warn);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["logger"], "hotswap");
  EXPECT_EQ(j["event"], "ack");
  // One type per key whatever the value: a log store maps a field once.
  EXPECT_EQ(j["version"], "7");
  EXPECT_EQ(j["ok"], "true");
  EXPECT_EQ(j["epoch"], "0042");
  EXPECT_TRUE(j["ts"].get<std::string>().ends_with("Z"));
  EXPECT_FALSE(j.contains("trace_id"));
}

TEST(LogFormat, NoMessageSetsTheLinesOwnFields) {
  const auto j = nlohmann::json::parse(
      format(LogFormat::json, "event=x level=high trace_id=0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["field.level"], "high");
  EXPECT_FALSE(j.contains("trace_id"));
  EXPECT_EQ(j["field.trace_id"], "0af7651916cd43dd8448eb211c80319c");
}

TEST(LogFormat, QuotedTextCannotPoseAsFields) {
  const std::string hostile = R"(x" admin=true trace_id=0af7651916cd43dd8448eb211c80319c note=")";
  const std::string message = "event=attach_refused error=\"" + escape_quoted(hostile) + "\" n=1";
  EXPECT_EQ(message_fields(message),
            (Fields{{"event", "attach_refused"}, {"error", hostile}, {"n", "1"}}));
  const auto j = nlohmann::json::parse(format(LogFormat::json, message));
  EXPECT_EQ(j["error"], hostile);
  EXPECT_FALSE(j.contains("admin"));
  EXPECT_FALSE(j.contains("trace_id"));
  EXPECT_EQ(escape_quoted("a\\b\nc\rd\"e"), R"(a\\b\nc\rd\"e)");
}

TEST(LogFormat, ALineBreakInAMessageStaysOnItsLine) {
  const std::string text = format(LogFormat::text, "event=x error=\"one\ntwo\r\"");
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
  EXPECT_NE(text.find(R"(error="one\ntwo\r")"), std::string::npos) << text;
  const std::string json = format(LogFormat::json, "event=x error=\"one\ntwo\"");
  EXPECT_EQ(json.find('\n'), json.size() - 1) << json;
  EXPECT_EQ(nlohmann::json::parse(json)["error"], "one\ntwo");
}

TEST(LogFormat, JsonEscapesWhatAMessageHolds) {
  const auto j = nlohmann::json::parse(format(LogFormat::json, "event=x path=\"a\tb\""));
  EXPECT_EQ(j["path"], "a\tb");
  // Bytes that are not UTF-8 are replaced, never break the line.
  const auto bad = nlohmann::json::parse(format(LogFormat::json, "event=x v=\xff\xfe"));
  EXPECT_EQ(bad["event"], "x");
}

TEST(LogFormat, LinesCarryTheTraceOfTheirScope) {
  TraceScope scope("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const auto j = nlohmann::json::parse(format(LogFormat::json, "event=push"));
  EXPECT_EQ(j["trace_id"], "0af7651916cd43dd8448eb211c80319c");
  const std::string text = format(LogFormat::text, "event=push node=a");
  EXPECT_NE(text.find("event=push node=a trace_id=0af7651916cd43dd8448eb211c80319c\n"),
            std::string::npos)
      << text;
}

TEST(LogFormat, TextLinesKeepTheMessage) {
  const std::string text = format(LogFormat::text, "event=ready tls=off");
  EXPECT_NE(text.find("[hotswap] [info] event=ready tls=off\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("trace_id"), std::string::npos);
}

TEST(LogFormat, RefusesUnknownFormatsAndLevels) {
  EXPECT_FALSE(parse_log_format("xml").has_value());
  EXPECT_NE(parse_log_format("xml").error().find("text, json"), std::string::npos);
  auto bad_level = configure_logging("loud", "json");
  ASSERT_FALSE(bad_level.has_value());
  EXPECT_NE(bad_level.error().find("'loud'"), std::string::npos);
  EXPECT_FALSE(configure_logging("info", "yaml").has_value());
  // Configuring again replaces the logger rather than failing.
  EXPECT_TRUE(configure_logging("warn", "json").has_value());
  EXPECT_TRUE(configure_logging("info", "text").has_value());
}

}  // namespace
}  // namespace hotswap::telemetry

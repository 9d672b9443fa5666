// The parts of control's HTTP server that judge raw input, in process: the
// header scanner's framing rules and limits, fed whole and a byte at a
// time; percent-decoding; and routing on the encoded path.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rest/header_block.h"
#include "rest/json_body.h"
#include "rest/router.h"
#include "rest/url.h"

namespace hotswap::control {
namespace {

using State = HeaderBlock::State;

HeaderBlock scan_whole(std::string_view data, size_t max_bytes = 1024, size_t max_fields = 8) {
  return HeaderScanner(max_bytes, max_fields).scan(data);
}

// The same bytes arriving one at a time: the verdict must not depend on
// how the network cut them.
HeaderBlock scan_bytewise(std::string_view data, size_t max_bytes = 1024, size_t max_fields = 8) {
  HeaderScanner scanner(max_bytes, max_fields);
  HeaderBlock block;
  for (size_t n = 1; n <= data.size(); ++n) {
    block = scanner.scan(data.substr(0, n));
    if (block.state != State::incomplete) return block;
  }
  return block;
}

TEST(HeaderScanner, FindsTheEndOfAHeaderAndSkipsEmptyLinesBeforeIt) {
  const std::string header = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (auto scan : {scan_whole, scan_bytewise}) {
    HeaderBlock block = scan(header + "body", 1024, 8);
    EXPECT_EQ(block.state, State::complete);
    EXPECT_EQ(block.begin, 0u);
    EXPECT_EQ(block.size, header.size());
    block = scan("\r\n\r\n" + header, 1024, 8);
    EXPECT_EQ(block.state, State::complete);
    EXPECT_EQ(block.begin, 4u);
    EXPECT_EQ(block.size, header.size() + 4);
    EXPECT_EQ(scan("GET / HTTP/1.1\r\nHost: a\r\n", 1024, 8).state, State::incomplete);
  }
}

TEST(HeaderScanner, RefusesWhatRfc9112RequiresAServerToRefuse) {
  const struct {
    const char* bytes;
    const char* problem;
  } rows[] = {
      {"GET / HTTP/1.1\r\nA: 1\r\n  folded\r\n\r\n", "folding"},
      {"GET / HTTP/1.1\r\nA: 1\r\n\tfolded\r\n\r\n", "folding"},
      {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "without a colon"},
      {"GET / HTTP/1.1\r\n: no name\r\n\r\n", "without a name"},
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "colon"},
      {"GET / HTTP/1.1\nHost: a\r\n\r\n", "LF without CR"},
      {"GET / HTTP/1.1\r\nHost: a\n\r\n", "LF without CR"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.bytes);
    for (auto scan : {scan_whole, scan_bytewise}) {
      const HeaderBlock block = scan(row.bytes, 1024, 8);
      EXPECT_EQ(block.state, State::malformed);
      EXPECT_NE(block.problem.find(row.problem), std::string::npos) << block.problem;
    }
  }
}

TEST(HeaderScanner, LimitsBytesAndFieldsWithoutWaitingForTheEnd) {
  std::string fields = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 8; ++i) fields += "F" + std::to_string(i) + ": x\r\n";
  EXPECT_EQ(scan_whole(fields + "\r\n", 1024, 8).state, State::complete);
  const HeaderBlock nine = scan_bytewise(fields + "F9: x\r\n", 1024, 8);
  EXPECT_EQ(nine.state, State::too_large);
  EXPECT_NE(nine.problem.find("more than 8 header fields"), std::string::npos);
  // An unfinished line over the limit is refused before its end arrives.
  const HeaderBlock long_line = scan_whole("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 64, 8);
  EXPECT_EQ(long_line.state, State::too_large);
  // Exactly at the limit is within it; blank lines before the request
  // line count.
  const std::string exact = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(scan_whole(exact, exact.size(), 8).state, State::complete);
  EXPECT_EQ(scan_whole(exact, exact.size() - 1, 8).state, State::too_large);
  EXPECT_EQ(scan_whole("\r\n" + exact, exact.size(), 8).state, State::too_large);
}

TEST(PercentDecode, DecodesEscapesAndRefusesBrokenOnes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%00%ff", false), std::string("\0\xff", 2));
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("ab%", false), std::nullopt);
}

TEST(ParseQuery, KeepsOrderAndEmptyValues) {
  const auto params = parse_query("a=1&b=&c&&d=x%26y+z");
  ASSERT_TRUE(params);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "1"}, {"b", ""}, {"c", ""}, {"d", "x&y z"}};
  EXPECT_EQ(*params, expected);
  EXPECT_EQ(parse_query("a=%g0"), std::nullopt);
}

HttpRequest request(std::string method, std::string path, std::string query = "") {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.query = std::move(query);
  return req;
}

TEST(Router, MatchesTheEncodedPathAndDecodesItsGroups) {
  Router router;
  std::string seen;
  router.get("/ns/([^/]+)/keys/(.+)", [&](const HttpRequest& req, HttpResponse&) {
    seen = req.match(1) + "|" + req.match(2) + "|" + req.param("q");
  });
  router.post("/ns", [&](const HttpRequest&, HttpResponse&) { seen = "post"; });

  HttpRequest req = request("GET", "/ns/a%2Fb/keys/x%20y/z", "q=1+2");
  auto handler = router.route(req);
  ASSERT_TRUE(handler);
  HttpResponse res;
  (**handler)(req, res);
  // The encoded '/' stayed inside the first group.
  EXPECT_EQ(seen, "a/b|x y/z|1 2");

  HttpRequest head = request("HEAD", "/ns/a/keys/k");
  EXPECT_TRUE(router.route(head));
  HttpRequest wrong_method = request("DELETE", "/ns");
  auto missing = router.route(wrong_method);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  HttpRequest broken = request("GET", "/ns/a%zz/keys/k");
  auto bad = router.route(broken);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.error().message.find("percent-encoding"), std::string::npos);
}

TEST(Router, MatchesWholeSegmentsAndTheWholePathOnly) {
  Router router;
  std::string seen;
  const auto note = [&](std::string name) {
    return [&seen, name](const HttpRequest& req, HttpResponse&) {
      seen = name;
      for (size_t i = 1; i < req.matches.size(); ++i) seen += "|" + req.match(i);
    };
  };
  router.get("/", note("root"));
  router.get("/t/([^/]+)", note("one"));
  router.get("/t/([^/]+)/n", note("one-n"));
  router.get("/c/(.+)", note("rest"));
  const auto routed = [&](const std::string& path) -> std::string {
    HttpRequest req = request("GET", path);
    auto handler = router.route(req);
    if (!handler) return "none";
    HttpResponse res;
    (**handler)(req, res);
    return seen;
  };
  EXPECT_EQ(routed("/"), "root");
  EXPECT_EQ(routed("/t/a"), "one|a");
  EXPECT_EQ(routed("/t/a/n"), "one-n|a");
  EXPECT_EQ(routed("/c/a/b/"), "rest|a/b/");
  // A group is one segment or more, never empty; nothing may be left over.
  for (const char* path : {"/t", "/t/", "/t//n", "/t/a/", "/t/a/n/", "/t/a/nn", "/c/", "", "/x"}) {
    EXPECT_EQ(routed(path), "none") << path;
  }
}

TEST(Router, RefusesPatternsItWouldNotMatchAsTheirRegularExpressions) {
  Router router;
  const auto handler = [](const HttpRequest&, HttpResponse&) {};
  for (const char* pattern :
       {"/a.b", "/t/x([^/]+)", "/t/([^/]+)x", "/c/(.+)/more", "/t/(\\d+)", "/t/[^/]+", "/a|b"}) {
    EXPECT_THROW(router.get(pattern, handler), std::invalid_argument) << pattern;
  }
  EXPECT_TRUE(router.routes().empty());
}

TEST(ParseObject, BuildsWhatNlohmannBuildsAndNamesAKeyHeldTwiceAtAnyDepth) {
  const std::string text =
      R"({"a":null,"b":true,"c":-3,"d":18446744073709551615,"e":2.5,"f":"x\u00e9",)"
      R"("g":[1,[2,{"h":[]}],{}],"i":{"j":{"k":"l"}},"m":[]})";
  auto parsed = parse_object(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, nlohmann::json::parse(text));
  EXPECT_EQ(parsed->dump(), nlohmann::json::parse(text).dump());

  for (const auto& [body, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"a":1,"a":2})", "a"},
           {R"({"x":{"y":1,"z":[{"q":1,"q":1}]}})", "q"},
           {R"({"x":[[{"v":{"w":1,"w":{}}}]]})", "w"}}) {
    auto refused = parse_object(body);
    ASSERT_FALSE(refused) << body;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(refused.error().message.find("key '" + key + "' appears twice"), std::string::npos)
        << refused.error().message;
  }
  for (const char* bad : {R"({"a":1} x)", R"({"a":1e999})", "[1]", R"({"a":)", ""}) {
    auto refused = parse_object(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace hotswap::control

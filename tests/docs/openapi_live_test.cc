// docs/openapi.json against a real hotswap-control, both ways:
//   - every documented operation, sent with its sample path (and `{}` as
//     the body of a POST, PUT or PATCH), is routed: the answer is not the
//     router's own 404 ("no route for ..."), its status is one the
//     operation documents, an error has the documented error body, and a
//     success the documented media type and, as JSON, the documented
//     schema (valijson, draft-07);
//   - every other method (GET, POST, PUT, PATCH, DELETE) on each sample
//     path is the router's 404: control serves nothing there that the
//     document does not say.
// The catalogue holds acme/web with versions 1-3 and a draft first, so the
// reads of the samples' things answer 200 with real bodies.
#include <gtest/gtest.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/raw_http.h"
#include "hotswap/harness/temp_dir.h"
#include "openapi_doc.h"

namespace hotswap::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

// One request on a connection of its own, with the admin token.
RawResponse send_request(int port, const std::string& method, const std::string& path,
                         const std::string& body) {
  RawConnection connection(port);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Authorization: Bearer " + kAdminToken + "\r\nConnection: close\r\n";
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (!connection.send(request)) throw std::runtime_error("cannot send " + method + " " + path);
  auto responses = parse_responses(connection.receive(1, 20s));
  if (responses.empty()) throw std::runtime_error("no response to " + method + " " + path);
  return responses.front();
}

std::string body_of(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" ? "{}" : "";
}

// Whether `res` is the router's answer to a request no route matches (the
// only 404 whose message starts so; a handler's names the thing it lacks).
bool router_miss(const RawResponse& res) {
  if (res.status != 404) return false;
  const auto body = nlohmann::json::parse(res.body, nullptr, false);
  return body.is_object() && body.contains("error") && body["error"].is_object() &&
         body["error"].value("code", "") == "not_found" &&
         body["error"].value("message", "").starts_with("no route for ");
}

// What is wrong with `body` by `schema` (a schema of the document, its
// $refs into #/components resolved against the document), a line each;
// empty when it conforms. The document's schemas keep to what draft-07
// validators read (type lists for null, no unevaluatedProperties).
std::string schema_problems(const nlohmann::json& doc, const nlohmann::json& schema,
                            const nlohmann::json& body) {
  nlohmann::json root = schema;
  root["components"] = doc.at("components");
  valijson::Schema compiled;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(root);
  parser.populateSchema(schema_adapter, compiled);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter body_adapter(body);
  if (validator.validate(compiled, body_adapter, &results)) return "";
  std::string out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    for (const std::string& part : error.context) out += part;
    out += ": " + error.description + "\n";
  }
  return out;
}

std::string media_type(std::string type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

class OpenApiLive : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = std::make_unique<ControlProcess>(ControlProcess::start(dir_.path() + "/control"));
    Rest rest(control_->http_port());
    rest.create_namespace("acme", "web");
    for (int v = 1; v <= 3; ++v) {
      rest.publish("acme/web", {{"rate_limit", {{"type", "int64"}, {"value", 100 * v}}}});
    }
  }

  // The documented response for `status`, its $ref followed; null if none.
  nlohmann::json documented(const DocOperation& op, int status) const {
    const auto& responses = op.spec.at("responses");
    const std::string code = std::to_string(status);
    if (!responses.contains(code)) return nullptr;
    nlohmann::json r = responses[code];
    if (r.contains("$ref")) {
      const std::string ref = r["$ref"];
      r = doc_.at("components").at("responses").at(ref.substr(ref.rfind('/') + 1));
    }
    return r;
  }

  TempDir dir_;
  std::unique_ptr<ControlProcess> control_;
  nlohmann::json doc_ = load_openapi(OPENAPI_FILE);
};

TEST_F(OpenApiLive, EveryDocumentedOperationIsRoutedAndAnswersAsDocumented) {
  std::vector<DocOperation> ops = operations(doc_);
  ASSERT_FALSE(ops.empty());
  // Deletions last, so that the other operations find the samples' things.
  std::stable_partition(ops.begin(), ops.end(),
                        [](const DocOperation& op) { return op.method != "DELETE"; });
  size_t bodies_checked = 0;
  for (const DocOperation& op : ops) {
    SCOPED_TRACE(op.method + " " + op.sample + " (" + op.path + ")");
    const RawResponse res =
        send_request(control_->http_port(), op.method, op.sample, body_of(op.method));
    ASSERT_FALSE(router_miss(res)) << "documented, but control has no route for it";
    const nlohmann::json response = documented(op, res.status);
    EXPECT_FALSE(response.is_null())
        << "answered " << res.status << ", which the operation does not document: " << res.body;
    if (res.status >= 400) {
      const auto body = nlohmann::json::parse(res.body, nullptr, false);
      ASSERT_TRUE(body.is_object() && body.contains("error")) << res.body;
      EXPECT_TRUE(body["error"].at("code").is_string()) << res.body;
      EXPECT_TRUE(body["error"].at("message").is_string()) << res.body;
      EXPECT_TRUE(body["error"].at("details").is_object()) << res.body;
    } else if (!response.is_null() && response.contains("content") && !res.body.empty()) {
      const std::string got = media_type(
          res.headers.count("content-type") != 0 ? res.headers.at("content-type") : std::string());
      std::set<std::string> allowed;
      for (const auto& [type, _] : response["content"].items()) allowed.insert(media_type(type));
      EXPECT_TRUE(allowed.contains(got) || allowed.contains("*/*"))
          << "answered Content-Type '" << got << "'";
      if (got == "application/json" && response["content"].contains("application/json")) {
        const auto body = nlohmann::json::parse(res.body, nullptr, false);
        ASSERT_FALSE(body.is_discarded()) << res.body;
        EXPECT_EQ(schema_problems(doc_, response["content"]["application/json"].at("schema"), body),
                  "")
            << "the body is not as documented: " << res.body;
        ++bodies_checked;
      }
    }
  }
  // The samples name things that exist: most reads answer 200 with a body.
  EXPECT_GE(bodies_checked, 20u);
}

TEST_F(OpenApiLive, NoOtherMethodIsServedOnADocumentedPath) {
  const std::vector<DocOperation> ops = operations(doc_);
  std::map<std::string, std::set<std::string>> documented;  // sample path -> methods
  for (const DocOperation& op : ops) documented[op.sample].insert(op.method);
  size_t checked = 0;
  for (const auto& [sample, methods] : documented) {
    for (const char* method : kMethods) {
      if (methods.contains(method)) continue;
      const RawResponse res = send_request(control_->http_port(), method, sample, body_of(method));
      EXPECT_TRUE(router_miss(res))
          << "control serves " << method << " " << sample << " (answered " << res.status << ": "
          << res.body << "), which docs/openapi.json does not document";
      ++checked;
    }
  }
  EXPECT_GT(checked, documented.size());
}

}  // namespace
}  // namespace hotswap::test

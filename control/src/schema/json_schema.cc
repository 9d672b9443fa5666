#include "schema/json_schema.h"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string_view>

#include "schema/meta_schema.h"

namespace hotswap::control {
namespace {

using Adapter = valijson::adapters::NlohmannJsonAdapter;

// What valijson says of a container whose member failed: the member's own
// violation says more, at a more precise pointer.
constexpr std::array<std::string_view, 6> kWrappers = {
    "Failed to validate against schema associated with property name",
    "Failed to validate item #",
    "Failed to validate against schema associated with pattern",
    "Failed to validate against child schema #",
    "Failed to validate against dependent schema",
    "Failed to validate against additional properties schema",
};

bool is_wrapper(std::string_view message) {
  return std::any_of(kWrappers.begin(), kWrappers.end(),
                     [&](std::string_view w) { return message.starts_with(w); });
}

std::string escape_segment(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// The RFC 6901 pointer of valijson's context ("<root>", "[name]", "[3]"),
// walked through `document`: "[3]" is an index in an array and a member
// named "3" in an object. Also the node it points at (null if it left the
// document).
std::pair<std::string, const nlohmann::json*> pointer_of(const std::vector<std::string>& context,
                                                         const nlohmann::json& document) {
  std::string pointer;
  const nlohmann::json* node = &document;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& part = context[i];
    const std::string_view name =
        part.size() >= 2 ? std::string_view(part).substr(1, part.size() - 2) : part;
    pointer += '/';
    pointer += escape_segment(name);
    if (node == nullptr) continue;
    if (node->is_array()) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
      const bool ok = ec == std::errc() && end == name.data() + name.size() && index < node->size();
      node = ok ? &(*node)[index] : nullptr;
    } else if (node->is_object()) {
      auto it = node->find(std::string(name));
      node = it == node->end() ? nullptr : &*it;
    } else {
      node = nullptr;
    }
  }
  return {pointer, node};
}

std::string json_type(const nlohmann::json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  return value.type_name();
}

// valijson's message, with the value's type where it names none.
std::string message_of(const std::string& description, const nlohmann::json* node) {
  if (node != nullptr && description.starts_with("Value type not permitted")) {
    return "value of type " + json_type(*node) + " not permitted by 'type' constraint";
  }
  return description;
}

// additionalProperties refusing a property names it (the first such):
// the violation is at that property, "/name", rather than at its object.
std::string unwanted_property(std::string_view message) {
  constexpr std::string_view kUnwanted = "Object contains a property that could not be validated";
  if (!message.starts_with(kUnwanted) || !message.ends_with("'.")) return "";
  const size_t open = message.rfind(": '");
  if (open == std::string_view::npos) return "";
  return "/" + escape_segment(message.substr(open + 3, message.size() - open - 5));
}

std::vector<Violation> run(const valijson::Schema& schema, const nlohmann::json& document) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  Adapter adapter(document);
  if (validator.validate(schema, adapter, &results)) return {};
  std::vector<valijson::ValidationResults::Error> errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors.push_back(std::move(error));
  auto explained = [&](const valijson::ValidationResults::Error& wrapper) {
    return std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
      return !is_wrapper(other.description) && other.context.size() >= wrapper.context.size() &&
             std::equal(wrapper.context.begin(), wrapper.context.end(), other.context.begin());
    });
  };
  std::vector<Violation> out;
  for (const auto& e : errors) {
    if (is_wrapper(e.description) && explained(e)) continue;
    auto [pointer, node] = pointer_of(e.context, document);
    pointer += unwanted_property(e.description);
    Violation v{std::move(pointer), message_of(e.description, node)};
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  }
  return out;
}

const valijson::Schema& meta_schema() {
  static const auto* meta = [] {
    const auto text = nlohmann::json::parse(draft7_meta_schema());
    auto* schema = new valijson::Schema;
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(Adapter(text), *schema);
    return schema;
  }();
  return *meta;
}

Result<void> check_dialect(const nlohmann::json& schema) {
  auto it = schema.find("$schema");
  if (it == schema.end()) return {};
  static constexpr std::array<std::string_view, 4> kDraft7 = {
      "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema",
      "https://json-schema.org/draft-07/schema#", "https://json-schema.org/draft-07/schema"};
  if (it->is_string() &&
      std::find(kDraft7.begin(), kDraft7.end(), it->get<std::string>()) != kDraft7.end()) {
    return {};
  }
  return std::unexpected(invalid_argument(
      "'$schema' must be draft-07 (\"http://json-schema.org/draft-07/schema#\") or absent, got " +
      it->dump()));
}

}  // namespace

JsonSchema::JsonSchema(std::unique_ptr<valijson::Schema> schema) : schema_(std::move(schema)) {}
JsonSchema::~JsonSchema() = default;

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const nlohmann::json& schema) {
  if (!schema.is_object()) {
    return std::unexpected(
        invalid_argument("a schema must be a JSON object, got " + std::string(schema.type_name())));
  }
  if (auto ok = check_dialect(schema); !ok) return std::unexpected(ok.error());
  if (auto faults = run(meta_schema(), schema); !faults.empty()) {
    std::vector<Problem> problems;
    for (Violation& v : faults) {
      problems.push_back({v.pointer, std::move(v.message), v.pointer});
    }
    const size_t n = problems.size();
    return std::unexpected(
        invalid_argument("not a valid JSON Schema (draft-07): " + std::to_string(n) + " problem" +
                             (n == 1 ? "" : "s") + " (each with its JSON pointer into the schema)",
                         std::move(problems)));
  }
  auto compiled = std::make_unique<valijson::Schema>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(Adapter(schema), *compiled);
  } catch (const std::exception& e) {
    return std::unexpected(
        invalid_argument(std::string("the schema cannot be compiled: ") + e.what()));
  }
  return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(compiled)));
}

std::vector<Violation> JsonSchema::validate(const nlohmann::json& document) const {
  return run(*schema_, document);
}

namespace {

// The first segment of `pointer`, unescaped: the entry's key.
std::string key_of(std::string_view pointer) {
  if (pointer.empty()) return "";
  const std::string_view segment = pointer.substr(1, pointer.find('/', 1) - 1);
  std::string out;
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '~' && i + 1 < segment.size()) {
      out += segment[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += segment[i];
    }
  }
  return out;
}

// At the document's root, a missing required property is the key that
// should be there.
std::string missing_key(std::string_view message) {
  constexpr std::string_view kMissing = "Missing required property '";
  if (!message.starts_with(kMissing) || !message.ends_with("'.")) return "";
  return std::string(message.substr(kMissing.size(), message.size() - kMissing.size() - 2));
}

}  // namespace

std::vector<Problem> to_problems(const std::vector<Violation>& violations) {
  std::vector<Problem> problems;
  problems.reserve(violations.size());
  for (const Violation& v : violations) {
    std::string key = v.pointer.empty() ? missing_key(v.message) : key_of(v.pointer);
    problems.push_back({std::move(key), v.message, v.pointer});
  }
  return problems;
}

}  // namespace hotswap::control

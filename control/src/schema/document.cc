#include "schema/document.h"

#include <charconv>

namespace hotswap::control {
namespace {

int64_t integer_of(const std::string& text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

nlohmann::json value_of(const TypedValue& v) {
  switch (v.type) {
    case ValueType::string:
      return v.text;
    case ValueType::int64:
    case ValueType::duration:
      return integer_of(v.text);
    case ValueType::float64:
      return nlohmann::json::parse(v.text).get<double>();
    case ValueType::boolean:
      return v.text == "true";
    case ValueType::json:
      return nlohmann::json::parse(v.text);
  }
  return nullptr;
}

}  // namespace

nlohmann::json entries_document(const Entries& entries) {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [key, value] : entries) document[key] = value_of(value);
  return document;
}

}  // namespace hotswap::control

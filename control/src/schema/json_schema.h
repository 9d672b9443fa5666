// A JSON Schema (draft-07), checked and compiled once, then used to
// validate any number of documents, from any number of threads at once.
#ifndef HOTSWAP_CONTROL_SCHEMA_JSON_SCHEMA_H_
#define HOTSWAP_CONTROL_SCHEMA_JSON_SCHEMA_H_

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "domain/error.h"

namespace valijson {
class Schema;
}

namespace hotswap::control {

// One way a document breaks its schema: where (an RFC 6901 JSON pointer
// into the document, "" for the document itself) and what is wrong.
struct Violation {
  std::string pointer;
  std::string message;
  friend bool operator==(const Violation&, const Violation&) = default;
};

class JsonSchema {
 public:
  // Checks `schema` against the draft-07 meta-schema and compiles it.
  // invalid_argument when it is not an object, names a `$schema` other
  // than draft-07, breaks the meta-schema (each fault in `problems`, keyed
  // by its JSON pointer into the schema), or cannot be compiled (e.g. a
  // `$ref` that resolves to nothing, or to another document).
  static Result<std::shared_ptr<const JsonSchema>> compile(const nlohmann::json& schema);

  ~JsonSchema();
  JsonSchema(const JsonSchema&) = delete;
  JsonSchema& operator=(const JsonSchema&) = delete;

  // Every violation of `document`, in document order of the checks; empty
  // when it is valid. Only the innermost cause of each failure is listed:
  // a bad item of an array is one violation at the item's pointer, not one
  // there and another at the array and the object around it.
  std::vector<Violation> validate(const nlohmann::json& document) const;

 private:
  explicit JsonSchema(std::unique_ptr<valijson::Schema> schema);
  std::unique_ptr<valijson::Schema> schema_;
};

// `violations` as the problems of an Error (the pointer as `pointer`, the
// key as the entry's key: the pointer's first segment, unescaped).
std::vector<Problem> to_problems(const std::vector<Violation>& violations);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SCHEMA_JSON_SCHEMA_H_

// One version of a namespace's JSON Schema, as stored. Versions are
// numbered 1, 2, 3... per namespace and never change; removing the schema
// is a version too, one without a schema.
#ifndef HOTSWAP_CONTROL_DOMAIN_SCHEMA_RECORD_H_
#define HOTSWAP_CONTROL_DOMAIN_SCHEMA_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "domain/namespace_id.h"
#include "domain/types.h"

namespace hotswap::control {

struct SchemaRecord {
  NamespaceId namespace_id;
  uint64_t version = 0;               // 0: the namespace never had a schema
  std::optional<std::string> schema;  // compact JSON text; none once removed
  std::string author;
  UnixTime created_at = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_SCHEMA_RECORD_H_

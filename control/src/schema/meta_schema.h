// The meta-schema a namespace's schema must satisfy.
#ifndef HOTSWAP_CONTROL_SCHEMA_META_SCHEMA_H_
#define HOTSWAP_CONTROL_SCHEMA_META_SCHEMA_H_

#include <string_view>

namespace hotswap::control {

// JSON Schema draft-07's meta-schema, as JSON text.
std::string_view draft7_meta_schema();

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SCHEMA_META_SCHEMA_H_

// The JSON document a schema judges: a namespace's entries as one object
// {key: value}, each typed value as the JSON it stands for.
#ifndef HOTSWAP_CONTROL_SCHEMA_DOCUMENT_H_
#define HOTSWAP_CONTROL_SCHEMA_DOCUMENT_H_

#include <nlohmann/json.hpp>

#include "domain/types.h"

namespace hotswap::control {

// string → string, int64 → integer, double → number (never an integer,
// even when whole: `"type": "integer"` refuses a double entry), bool →
// boolean, json → its value, duration → integer nanoseconds (the API's
// form of a duration; a schema bounds it with `minimum`/`maximum` in ns).
// Stored values are canonical, so this cannot fail.
nlohmann::json entries_document(const Entries& entries);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SCHEMA_DOCUMENT_H_

// Escaping a value for where a template puts it.
#ifndef HOTSWAP_WATCH_SRC_ESCAPE_H_
#define HOTSWAP_WATCH_SRC_ESCAPE_H_

#include <string>
#include <string_view>

#include "hotswap/value.hpp"

namespace hotswap::watch {

// The value as a JSON value: numbers and booleans as such, a JSON value
// as stored, strings and durations ("250ms") as JSON strings.
std::string json_text(const Value& value);

// A JSON string literal of `text`: quotes, backslashes and control
// characters escaped; other bytes (UTF-8) as they are.
std::string json_quote(std::string_view text);

// `text` as one word of a POSIX shell: in single quotes, each ' written
// as '\'' . Safe for any bytes but NUL.
std::string shell_quote(std::string_view text);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_ESCAPE_H_

// How hotswap's processes log: one line per event on stderr, the message a
// list of `key=value` fields (`event=ready http=127.0.0.1:7700`, a value
// with spaces in double quotes). `text` keeps the line as written after a
// timestamp, logger and level (line breaks inside escaped); `json` turns
// each line into one JSON object of those fields (every value a string),
// for log pipelines that index them. Either way a line written while a
// TraceScope is open carries `trace_id`, which no message can set.
#ifndef HOTSWAP_TELEMETRY_LOG_FORMAT_H_
#define HOTSWAP_TELEMETRY_LOG_FORMAT_H_

#include <spdlog/formatter.h>

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotswap::telemetry {

enum class LogFormat { text, json };

// "text" or "json"; else an error naming the value and the choices.
std::expected<LogFormat, std::string> parse_log_format(std::string_view name);

// The fields of a `key=value ...` message in order, quotes removed and
// escape_quoted()'s escapes undone. A message that is not such a list (a
// library's own words) is one field, "msg". Keys are letters, digits, '_'
// and '.'.
std::vector<std::pair<std::string, std::string>> message_fields(std::string_view message);

// `text` made safe inside a quoted value (`error="{}"`): quotes and
// backslashes escaped, line breaks written as \n and \r. For text a
// caller outside control chose (names off the wire, parse errors quoting
// them): it cannot end the value early and pose as fields of its own.
std::string escape_quoted(std::string_view text);

// A spdlog formatter for `format`; thread-safe as spdlog requires.
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// Makes the default logger write to stderr in `format` at `level`
// ("trace", "debug", "info", "warn", "error", "critical", "off"); an error
// names a level or format it does not know, and nothing is changed then.
std::expected<void, std::string> configure_logging(std::string_view level, std::string_view format);

}  // namespace hotswap::telemetry

#endif  // HOTSWAP_TELEMETRY_LOG_FORMAT_H_

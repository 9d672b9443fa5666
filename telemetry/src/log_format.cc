#include "hotswap/telemetry/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "hotswap/telemetry/trace_context.h"

namespace hotswap::telemetry {
namespace {

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

// The length of the `key=` at the start of `s`, or 0 when there is none.
size_t key_length(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_key_char(s[n])) ++n;
  return n > 0 && n < s.size() && s[n] == '=' ? n : 0;
}

// Where the quoted value that starts after `open` ends: the first quote
// not escaped by a backslash and followed by the end or by " key=". Values
// that escape_quoted() wrote are exact; one written raw is taken as text up to a
// quote where something that looks like a field follows.
size_t closing_quote(std::string_view s, size_t open) {
  for (size_t q = open + 1; q < s.size(); ++q) {
    if (s[q] == '\\') {
      ++q;
      continue;
    }
    if (s[q] != '"') continue;
    if (q + 1 == s.size()) return q;
    if (s[q + 1] == ' ' && key_length(s.substr(q + 2)) > 0) return q;
  }
  return std::string_view::npos;
}

// `raw` with escape_quoted()'s escapes undone.
std::string unescape(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    const char next = raw[++i];
    out += next == 'n' ? '\n' : next == 'r' ? '\r' : next;
  }
  return out;
}

// Appends `text` with line breaks written as \n and \r (one event, one
// line) and, when `quotes`, quotes and backslashes escaped as well (a
// quoted value that cannot end early); unescape() undoes both.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    if (quotes && (c == '"' || c == '\\')) out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

// Names a line carries of its own: a message's field of one of these names
// is kept as "field.<name>", so no message can pose as the line's time,
// level or trace.
bool is_reserved(std::string_view key) {
  return key == "ts" || key == "level" || key == "logger" || key == "trace_id" || key == "msg";
}

std::vector<std::pair<std::string, std::string>> parse_fields(std::string_view message) {
  const std::vector<std::pair<std::string, std::string>> whole = {{"msg", std::string(message)}};
  std::vector<std::pair<std::string, std::string>> fields;
  size_t at = 0;
  while (at < message.size()) {
    const size_t key = key_length(message.substr(at));
    if (key == 0) return whole;
    std::pair<std::string, std::string> f{std::string(message.substr(at, key)), ""};
    at += key + 1;
    if (at < message.size() && message[at] == '"') {
      const size_t close = closing_quote(message, at);
      if (close == std::string_view::npos) return whole;
      f.second = unescape(message.substr(at + 1, close - at - 1));
      at = close + 1;
    } else {
      const size_t end = std::min(message.find(' ', at), message.size());
      f.second = message.substr(at, end - at);
      at = end;
    }
    fields.push_back(std::move(f));
    if (at < message.size()) {
      if (message[at] != ' ') return whole;
      ++at;
    }
  }
  if (fields.empty()) return whole;
  return fields;
}

std::string_view level_name(spdlog::level::level_enum level) {
  static constexpr std::array<std::string_view, 7> kNames = {"trace", "debug",    "info", "warn",
                                                             "error", "critical", "off"};
  return kNames.at(static_cast<size_t>(level));
}

std::string utc_timestamp(spdlog::log_clock::time_point at) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(micros.count() / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[40];
  const size_t n = std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out + n, sizeof out - n, ".%06lldZ",
                static_cast<long long>(micros.count() % 1'000'000));
  return out;
}

// The same line spdlog writes by default, then the trace id if any.
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    spdlog::memory_buf_t line;
    pattern_.format(msg, line);
    std::string_view text(line.data(), line.size());
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    // One event, one line: a line break inside a message (an error's
    // text) is written escaped, so it cannot start a line of its own.
    std::string out;
    out.reserve(text.size() + 48);
    append_escaped(out, text, /*quotes=*/false);
    const std::string_view trace = trace_id_of(current_traceparent());
    if (!trace.empty()) out += " trace_id=" + std::string(trace);
    out += '\n';
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter pattern_;
};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["ts"] = utc_timestamp(msg.time);
    line["level"] = level_name(msg.level);
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view text(msg.payload.data(), msg.payload.size());
    // Every value a string: a key keeps one type across lines, which log
    // stores that map fields by their first value need.
    for (auto& [key, value] : parse_fields(text)) {
      line[is_reserved(key) || line.contains(key) ? "field." + key : key] = std::move(value);
    }
    const std::string_view trace = trace_id_of(current_traceparent());
    if (!trace.empty()) line["trace_id"] = std::string(trace);
    const std::string out =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::expected<LogFormat, std::string> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return std::unexpected("log format '" + std::string(name) + "' is not one of text, json");
}

std::vector<std::pair<std::string, std::string>> message_fields(std::string_view message) {
  return parse_fields(message);
}

std::string escape_quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_escaped(out, text, /*quotes=*/true);
  return out;
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format) {
  if (format == LogFormat::json) return std::make_unique<JsonFormatter>();
  return std::make_unique<TextFormatter>();
}

std::expected<void, std::string> configure_logging(std::string_view level,
                                                   std::string_view format) {
  const auto parsed = parse_log_format(format);
  if (!parsed) return std::unexpected(parsed.error());
  const auto lvl = spdlog::level::from_str(std::string(level));
  // from_str answers `off` for any name it does not know.
  if (lvl == spdlog::level::off && level != "off") {
    return std::unexpected("log level '" + std::string(level) +
                           "' is not one of trace, debug, info, warn, error, critical, off");
  }
  spdlog::drop("hotswap");  // configured before: replaced
  auto logger = spdlog::stderr_logger_mt("hotswap");
  logger->set_formatter(make_log_formatter(*parsed));
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(lvl);
  return {};
}

}  // namespace hotswap::telemetry

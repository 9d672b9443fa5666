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
// followed by the end or by " key=". Values are written unescaped, so a
// quote inside one is taken as text unless what follows looks like a field.
size_t closing_quote(std::string_view s, size_t open) {
  for (size_t q = s.find('"', open + 1); q != std::string_view::npos; q = s.find('"', q + 1)) {
    if (q + 1 == s.size()) return q;
    if (s[q + 1] == ' ' && key_length(s.substr(q + 2)) > 0) return q;
  }
  return std::string_view::npos;
}

// One field of a message, and whether its value was quoted (a quoted
// value stays a string in JSON: "5" from error="5" is text).
struct Field {
  std::string key;
  std::string value;
  bool quoted = false;
};

std::vector<Field> parse_fields(std::string_view message) {
  const std::vector<Field> whole = {{"msg", std::string(message), true}};
  std::vector<Field> fields;
  size_t at = 0;
  while (at < message.size()) {
    const size_t key = key_length(message.substr(at));
    if (key == 0) return whole;
    Field f{std::string(message.substr(at, key)), "", false};
    at += key + 1;
    if (at < message.size() && message[at] == '"') {
      const size_t close = closing_quote(message, at);
      if (close == std::string_view::npos) return whole;
      f.value = message.substr(at + 1, close - at - 1);
      f.quoted = true;
      at = close + 1;
    } else {
      const size_t end = std::min(message.find(' ', at), message.size());
      f.value = message.substr(at, end - at);
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

nlohmann::json typed(const std::string& value, bool quoted) {
  if (quoted || value.empty()) return value;
  if (value == "true") return true;
  if (value == "false") return false;
  const bool digits = std::ranges::all_of(value.substr(value[0] == '-' ? 1 : 0),
                                          [](char c) { return c >= '0' && c <= '9'; });
  if (digits && value.size() < 19 && value != "-") return std::stoll(value);
  return value;
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
    const std::string_view trace = trace_id_of(current_traceparent());
    if (trace.empty()) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    dest.append(text.data(), text.data() + text.size());
    const std::string suffix = " trace_id=" + std::string(trace) + "\n";
    dest.append(suffix.data(), suffix.data() + suffix.size());
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
    for (const Field& f : parse_fields(text)) {
      // A field may not overwrite the line's own ts, level or logger.
      line[line.contains(f.key) ? "field." + f.key : f.key] = typed(f.value, f.quoted);
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
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& f : parse_fields(message)) out.emplace_back(std::move(f.key), std::move(f.value));
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
  auto logger = spdlog::stderr_logger_mt("hotswap");
  logger->set_formatter(make_log_formatter(*parsed));
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(lvl);
  return {};
}

}  // namespace hotswap::telemetry

#include "rest/header_block.h"

namespace hotswap::control {
namespace {

HeaderBlock fault(HeaderBlock::State state, std::string problem) {
  return {state, 0, 0, std::move(problem)};
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// The problem with one header field line, if any.
std::string field_problem(std::string_view line) {
  if (is_blank(line.front())) return "obsolete line folding in the header";
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return "a header line without a colon: '" + std::string(line.substr(0, 64)) + "'";
  }
  if (colon == 0) return "a header field without a name";
  if (is_blank(line[colon - 1])) {
    return "whitespace between a header field's name and its colon";
  }
  return {};
}

}  // namespace

HeaderBlock HeaderScanner::too_large() const {
  return fault(HeaderBlock::State::too_large,
               "the request header is too large: over " + std::to_string(max_bytes_) + " bytes");
}

HeaderBlock HeaderScanner::scan(std::string_view data) {
  for (;;) {
    const size_t start = next_line_;
    const size_t end = data.find('\n', start);
    if (end == std::string_view::npos) {
      return data.size() > max_bytes_ ? too_large() : HeaderBlock{};
    }
    if (end + 1 > max_bytes_) return too_large();
    if (end == start || data[end - 1] != '\r') {
      return fault(HeaderBlock::State::malformed, "a header line ends in LF without CR");
    }
    next_line_ = end + 1;
    const std::string_view line = data.substr(start, end - 1 - start);
    if (start == begin_) {
      // Empty lines before the request line are ignored.
      if (line.empty()) begin_ = next_line_;
      continue;
    }
    if (line.empty()) return {HeaderBlock::State::complete, begin_, next_line_, {}};
    if (std::string problem = field_problem(line); !problem.empty()) {
      return fault(HeaderBlock::State::malformed, std::move(problem));
    }
    if (++fields_ > max_fields_) {
      return fault(HeaderBlock::State::too_large,
                   "more than " + std::to_string(max_fields_) + " header fields");
    }
  }
}

}  // namespace hotswap::control

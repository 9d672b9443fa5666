#include "live_frame.h"

#include <algorithm>

namespace hotswap::cli {

void LiveFrame::draw(const std::vector<std::string>& lines) {
  // One row stays free so the frame never reaches the last one and scrolls.
  const size_t rows = size_.rows > 1 ? static_cast<size_t>(size_.rows - 1) : lines.size();
  const size_t shown = std::min(lines.size(), rows);
  if (drawn_ > 0) out_ << "\r\x1b[" << drawn_ << 'A';
  // The last column stays free too: writing into it leaves some terminals
  // waiting to wrap, and the next line would start one row too low.
  const size_t columns = size_.columns > 1 ? static_cast<size_t>(size_.columns - 1) : 1;
  for (size_t i = 0; i < shown; ++i) out_ << fit_to_width(lines[i], columns) << "\x1b[K\n";
  out_ << "\x1b[J";
  out_.flush();
  drawn_ = shown;
}

std::string fit_to_width(const std::string& line, size_t columns) {
  std::string fitted;
  size_t points = 0;
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    const bool starts_point = (byte & 0xC0) != 0x80;
    if (starts_point && points++ == columns) break;
    // A control character from the server (an escape in a reason) would
    // move the cursor: it prints as a space.
    fitted += byte < 0x20 || byte == 0x7F ? ' ' : c;
  }
  return fitted;
}

}  // namespace hotswap::cli

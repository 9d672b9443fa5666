// A block of lines that a terminal shows in place: each draw moves the
// cursor back over the block drawn before and overwrites it, so a watched
// status updates without scrolling a new copy each time.
#ifndef HOTSWAP_CLI_SRC_LIVE_FRAME_H_
#define HOTSWAP_CLI_SRC_LIVE_FRAME_H_

#include <ostream>
#include <string>
#include <vector>

#include "commands.h"

namespace hotswap::cli {

class LiveFrame {
 public:
  // `size` is the terminal's (is_terminal() must hold): a line wider than
  // it is cut, so that none wraps, and a frame keeps below its height, so
  // that the cursor can always climb back to the frame's first line.
  LiveFrame(std::ostream& out, TerminalSize size) : out_(out), size_(size) {}

  // Replaces the block on screen with `lines` (ANSI: cursor up, erase to
  // the end of each line, erase below) and flushes.
  void draw(const std::vector<std::string>& lines);

 private:
  std::ostream& out_;
  TerminalSize size_;
  size_t drawn_ = 0;  // lines of the block on screen
};

// `line` cut to at most `columns` code points (UTF-8 sequences kept
// whole), control characters replaced by spaces.
std::string fit_to_width(const std::string& line, size_t columns);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_LIVE_FRAME_H_

// Replacing a rendered file the way a program reading it needs: whole or
// not at all, and only when its content changes.
#ifndef HOTSWAP_WATCH_SRC_OUTPUT_FILE_H_
#define HOTSWAP_WATCH_SRC_OUTPUT_FILE_H_

#include <expected>
#include <string>
#include <string_view>

namespace hotswap::watch {

// Writes `content` to `path` unless the file already holds exactly that:
// true if it wrote, false if the file was already so. A new file is
// written beside the old one (same directory, so the rename stays on one
// file system), given the old file's mode and owner (0644 for a first
// file, less the umask), flushed to disk, then renamed over it: a reader
// sees the old file or the new one, never a part. The error names the
// path and the system call that failed; the old file is then untouched.
std::expected<bool, std::string> replace_if_changed(const std::string& path,
                                                    std::string_view content);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_OUTPUT_FILE_H_

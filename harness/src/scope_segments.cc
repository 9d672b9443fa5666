#include "hotswap/harness/scope_segments.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace hotswap::test {

std::string process_scope(const std::string& name) {
  return name + "-" + std::to_string(::getpid());
}

int remove_scope_segments(const std::string& scope) {
  const std::string prefix = "hs@" + scope + "+";
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    if (entry.path().filename().string().starts_with(prefix) &&
        std::filesystem::remove(entry.path(), ec)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace hotswap::test

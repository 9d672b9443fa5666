#include "hotswap/harness/temp_dir.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <system_error>

namespace hotswap::test {

TempDir::TempDir() {
  static std::mt19937_64 rng{std::random_device{}()};
  path_ = (std::filesystem::temp_directory_path() /
           ("hotswap-test-" + std::to_string(::getpid()) + "-" + std::to_string(rng())))
              .string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace hotswap::test

// A SQLite file path of the running test's own, and the removal of that
// file with its WAL, shared-memory and journal companions.
#ifndef HOTSWAP_TESTS_CONTROL_TEST_DB_FILE_H_
#define HOTSWAP_TESTS_CONTROL_TEST_DB_FILE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>

namespace hotswap::control {

// Unique per test, process and call: "<tmp>/<prefix><test>_<pid>_<n>.db".
inline std::string test_db_path(std::string_view prefix) {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + std::string(prefix) +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
         std::to_string(getpid()) + "_" + std::to_string(counter++) + ".db";
}

inline void remove_db_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix);
  }
}

}  // namespace hotswap::control

#endif  // HOTSWAP_TESTS_CONTROL_TEST_DB_FILE_H_

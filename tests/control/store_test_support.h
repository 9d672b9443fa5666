// What the tests of the store and of the service over it share: a SQLite
// file of the running test's own (and its removal with its WAL,
// shared-memory and journal companions), results that must have succeeded,
// and a view of the file independent of the store.
#ifndef HOTSWAP_TESTS_CONTROL_STORE_TEST_SUPPORT_H_
#define HOTSWAP_TESTS_CONTROL_STORE_TEST_SUPPORT_H_

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <expected>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "store/store.h"

namespace hotswap::control {

// Unique per test, process and call: "<tmp>/<prefix><test>_<pid>_<n>.db".
inline std::string test_db_path(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(test.begin(), test.end(), '/', '_');  // a parameterized test's "Name/0"
  return ::testing::TempDir() + std::string(prefix) + test + "_" + std::to_string(getpid()) + "_" +
         std::to_string(counter++) + ".db";
}

inline void remove_db_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix);
  }
}

// The value of a result (of the store or of a service) that must have
// succeeded; fails the test (by throwing, which GoogleTest reports)
// otherwise.
template <class T, class E>
T must(std::expected<T, E> result) {
  if (!result) {
    ADD_FAILURE() << "unexpected error: " << result.error().message;
    throw std::runtime_error(result.error().message);
  }
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// Runs `sql` through a connection of its own and returns the first column of
// its first row ("" when it has none): a view of the file independent of
// the store.
inline std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "raw open: " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  auto first_cell = [](void* out, int, char** values, char**) {
    auto* text = static_cast<std::string*>(out);
    if (text->empty() && values[0] != nullptr) *text = values[0];
    return 0;
  };
  if (sqlite3_exec(db, sql.c_str(), first_cell, &out, &error) != SQLITE_OK) {
    ADD_FAILURE() << "raw query '" << sql << "': " << (error ? error : "");
  }
  sqlite3_free(error);
  sqlite3_close(db);
  return out;
}

}  // namespace hotswap::control

#endif  // HOTSWAP_TESTS_CONTROL_STORE_TEST_SUPPORT_H_

// Moves SQLite's WAL checkpoints off the commit path. By default the
// connection that commits the 1000th page of the WAL copies it back into
// the database file and syncs both, inside that commit: one publish in a
// hundred paid two more fsyncs, which is where its p99 came from. With
// automatic checkpoints off on the store's connection, this runs a PASSIVE
// checkpoint (it never waits for or blocks a writer) on a connection and a
// thread of its own, every `interval`, so the WAL stays as short as one
// interval's commits. Durability is unchanged: a commit is durable once in
// the synced WAL.
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_CHECKPOINTER_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_CHECKPOINTER_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

struct sqlite3;

namespace hotswap::control::sqlite {

class Checkpointer {
 public:
  // Opens its own connection to `path` (the WAL database the store uses)
  // and starts checkpointing every `interval`.
  static StoreResult<std::unique_ptr<Checkpointer>> start(const std::string& path,
                                                          std::chrono::milliseconds interval);
  // Runs a last checkpoint, then stops.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  Checkpointer(sqlite3* handle, std::chrono::milliseconds interval);
  void run();
  void checkpoint();

  sqlite3* const handle_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hotswap::control::sqlite

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_CHECKPOINTER_H_

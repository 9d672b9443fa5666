// A WAL file laid out ahead of the commits. A commit that appends to the
// WAL grows the file, and its sync then also commits the file system's
// journal (the new size and blocks): on this project's ext4 disks an
// appending commit's fdatasync took 320-380 us against 265-320 us for one
// that overwrites (docs/benchmarks.md). SQLite writes frames from the
// start of the file again only once a checkpoint has caught up while no
// commit ran, so a busy control's WAL keeps growing for a while after each
// start. Zeros written past the WAL's end ahead of time turn those appends
// into overwrites.
//
// Safe under SQLite's WAL rules: it runs inside BEGIN IMMEDIATE, holding
// the write lock that appending frames needs; no reader reads past the
// last committed frame; and recovery stops at the first frame whose salt
// and checksum do not match, which a frame of zeros never does.
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_WAL_PREALLOCATION_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_WAL_PREALLOCATION_H_

#include <cstdint>
#include <string>

#include "store/store.h"

namespace hotswap::control::sqlite {

// Extends the WAL of the database at `path` (in WAL mode) with zeros to
// `bytes`, synced, through a connection of its own; nothing when the WAL
// is that long already. Fails naming the path.
StoreResult<void> preallocate_wal(const std::string& path, int64_t bytes);

}  // namespace hotswap::control::sqlite

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_WAL_PREALLOCATION_H_

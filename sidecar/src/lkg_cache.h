// The sidecar's last-known-good cache: the newest applied snapshot of each
// namespace on disk, so that a restarted sidecar serves it before control
// answers. Files are replaced atomically (write, fsync, rename, fsync dir).
#ifndef HOTSWAP_SIDECAR_LKG_CACHE_H_
#define HOTSWAP_SIDECAR_LKG_CACHE_H_

#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::sidecar {

class LkgCache {
 public:
  // `dir` is created if missing.
  static std::expected<LkgCache, Error> open(std::string dir);

  // Durably replaces the namespace's file with `data`.
  std::expected<void, Error> save(std::string_view ns, const SnapshotData& data) const;

  // The saved snapshot, verified (content hash, entries). Empty when there
  // is none; an error when the file is unreadable or fails verification
  // (the caller ignores it and waits for control).
  std::expected<std::optional<SnapshotData>, Error> load(std::string_view ns) const;

  std::string path_for(std::string_view ns) const;

 private:
  explicit LkgCache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_LKG_CACHE_H_

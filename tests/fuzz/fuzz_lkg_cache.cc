// Fuzz target over the sidecar's last-known-good cache as a restarted
// sidecar reads it: real slot files (and the one-file cache of earlier
// releases) written from the input, then LkgCache::load. Files are real
// files in a private directory (TMPDIR; the fuzz run points it at tmpfs).
//
// The first input byte: bits 0-1 pick the files written: 0 slot 0; 1 slots
// 0 and 1 (the next two bytes, little endian, are the first file's size);
// 2 the earlier releases' file; 3 slot 1 and that file (sized alike). Bit 2
// re-seals each slot's SHA-256 for whatever payload its header declares, so
// the fuzzer reaches the Cap'n Proto decoding and checks behind the digest.
//
// Properties, when load serves a snapshot from the slots: a save on top of
// whatever the files held succeeds and load then serves the saved version;
// and with the file that save wrote torn, load still serves a snapshot (a
// save never overwrites the only whole copy).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "exact_bytes.h"
#include "fuzz_target.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/protocol/content_hash.h"
#include "lkg_cache.h"
#include "lkg_slot.h"
#include "snapshot_base.h"

namespace hotswap::fuzz {
namespace {

using sidecar::LkgCache;
using sidecar::SlotHeader;

constexpr std::string_view kNamespace = kSnapshotNamespace;

const std::string& cache_dir() {
  static const test::TempDir dir;
  return dir.path();
}

void write_file(const std::string& path, const char* bytes, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes, static_cast<std::streamsize>(size));
  if (!out) fail("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Seals `slot` for the payload its header declares, if it holds that much.
void reseal(char* slot, size_t size) {
  if (size < sizeof(SlotHeader)) return;
  auto* header = reinterpret_cast<SlotHeader*>(slot);
  if (header->payload_size > size - sizeof(SlotHeader)) return;
  sidecar::seal(*header, slot + sizeof(SlotHeader));
}

// Writes the files the input describes; whether the file of earlier
// releases is the only one.
bool write_files(const LkgCache& cache, const uint8_t* data, size_t size) {
  const uint8_t flags = data[0];
  const int layout = flags & 3;
  ++data;
  --size;
  size_t first = size;
  if (layout == 1 || layout == 3) {
    const size_t declared = size >= 2 ? data[0] | size_t{data[1]} << 8 : 0;
    data += std::min<size_t>(size, 2);
    size -= std::min<size_t>(size, 2);
    first = std::min(declared, size);
  }
  // Each file's bytes in a block of their own: reseal reads only its own.
  ExactBytes one(data, first), two(data + first, size - first);
  const auto slots = cache.slot_paths(kNamespace);
  const std::string paths[4][2] = {{slots[0], ""},
                                   {slots[0], slots[1]},
                                   {cache.legacy_path(kNamespace), ""},
                                   {slots[1], cache.legacy_path(kNamespace)}};
  ExactBytes* parts[2] = {&one, &two};
  for (int i = 0; i < 2; ++i) {
    const std::string& path = paths[layout][i];
    if (path.empty()) continue;
    if ((flags & 4) != 0 && path != cache.legacy_path(kNamespace))
      reseal(parts[i]->data(), parts[i]->size());
    write_file(path, parts[i]->data(), parts[i]->size());
  }
  return layout == 2;
}

SnapshotData saved_version() {
  SnapshotBuilder b;
  b.set("saved", int64_t{1});
  const ContentHash hash = protocol::content_hash(b.build(1000, {}).value());
  return std::move(b).build(1000, hash).value();
}

// Saves over whatever the slots hold, then checks what load serves, and
// (`tear`) what it serves once that save is torn.
void check_save(const LkgCache& cache, bool tear) {
  static const SnapshotData saved = saved_version();
  const auto slots = cache.slot_paths(kNamespace);
  const std::array<std::string, 2> before = {read_file(slots[0]), read_file(slots[1])};
  if (auto ok = cache.save(kNamespace, saved); !ok) fail("save failed: " + ok.error().message);
  auto loaded = LkgCache::open(cache_dir())->load(kNamespace);
  if (!loaded || !loaded->has_value() || (*loaded)->version() != saved.version() ||
      (*loaded)->content_hash() != saved.content_hash()) {
    fail("load after a save does not serve the saved version");
  }
  if (!tear) return;
  const int written = read_file(slots[0]) != before[0] ? 0 : 1;
  write_file(slots[written], "torn", 4);
  auto fallback = LkgCache::open(cache_dir())->load(kNamespace);
  if (!fallback || !fallback->has_value())
    fail("a torn save lost the only whole copy: " +
         (fallback ? std::string("nothing served") : fallback.error().message));
}

}  // namespace

bool run_one(const uint8_t* data, size_t size) {
  if (size < 1) return false;
  // A fresh cache object per input: what a restarted sidecar has.
  auto cache = LkgCache::open(cache_dir());
  if (!cache) fail("cannot open the cache directory: " + cache.error().message);
  for (const auto& path : cache->slot_paths(kNamespace)) ::unlink(path.c_str());
  ::unlink(cache->legacy_path(kNamespace).c_str());

  const bool legacy_only = write_files(*cache, data, size);
  auto loaded = cache->load(kNamespace);
  if (!loaded || !loaded->has_value()) return false;
  // A save that completes removes the file of earlier releases, so a torn
  // one after it has nothing to fall back to; one torn before it completes
  // leaves that file, which the tear here does not model.
  check_save(*cache, !legacy_only);
  return true;
}

}  // namespace hotswap::fuzz

// Writes the seed inputs of the binary fuzz targets (segment, snapshot,
// lkg_cache) into DIR/<target>/, each named for what it holds; `valid-*`
// ones must be accepted (replay_main.cc checks). Run once when a format
// changes and commit what it writes (tests/fuzz/README.md); each seed adds
// coverage the others lack (libFuzzer -merge=1 keeps them all). The JSON
// body seeds are written by hand.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hotswap/harness/temp_dir.h"
#include "hotswap/protocol/wire_codec.h"
#include "layout.h"
#include "lkg_cache.h"
#include "snapshot_base.h"
#include "snapshot_encoder.h"

namespace hotswap::fuzz {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, char mode, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.put(mode);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A snapshot of `keys` keys of every type, hashed.
SnapshotData sample(int keys, uint64_t version) {
  SnapshotBuilder b;
  for (int i = 0; i < keys; ++i) {
    b.set("k" + std::to_string(i), int64_t{i});
    if (i % 3 == 0) b.set("s" + std::to_string(i), std::string(static_cast<size_t>(i), 'v'));
    if (i % 5 == 0) b.set("j" + std::to_string(i), Json{"{\"a\":1}"});
    if (i % 7 == 0) b.set("b" + std::to_string(i), i % 2 == 0);
    if (i % 4 == 1) b.set("d" + std::to_string(i), 0.5 * i);
    if (i % 6 == 2) b.set("t" + std::to_string(i), Duration(i * 1000));
  }
  const ContentHash hash = protocol::content_hash(b.build(version, {}).value());
  return std::move(b).build(version, hash).value();
}

void segment_seeds(const fs::path& dir) {
  for (int keys : {0, 1, 5, 40}) {
    const SnapshotData data = sample(keys, 3);
    const size_t size = detail::encoded_size(data).value();
    std::vector<uint64_t> words(size / 8, 0);
    auto* bytes = reinterpret_cast<char*>(words.data());
    detail::encode_snapshot(data, 1, bytes, size);
    for (char mode : {1, 2}) {
      if (keys == 40 && mode == 2) continue;  // adds no coverage to the others
      write(dir / ("valid-snapshot-" + std::to_string(keys) + "-keys-mode-" + std::to_string(mode)),
            mode, {bytes, size});
    }
  }
  layout::HeadLayout head{};
  head.magic = layout::kHeadMagic;
  head.layout_version = layout::kLayoutVersion;
  head.head_size = sizeof head;
  write(dir / "valid-head", 0, {reinterpret_cast<const char*>(&head), sizeof head});
}

std::string flat(capnp::MessageBuilder& message) {
  const auto words = capnp::messageToFlatArray(message);
  return {words.asChars().begin(), words.asChars().size()};
}

std::string full_message(const SnapshotData& data, uint32_t first_segment_words = 1024) {
  capnp::MallocMessageBuilder message(first_segment_words, capnp::AllocationStrategy::FIXED_SIZE);
  protocol::write_full(kSnapshotNamespace, data, message.initRoot<wire::Snapshot>());
  return flat(message);
}

void snapshot_seeds(const fs::path& dir) {
  const SnapshotData base = snapshot_base();
  write(dir / "valid-full-empty", 0, full_message(sample(0, 1)));
  write(dir / "valid-full-base", 0, full_message(base));
  write(dir / "valid-full-every-type", 0, full_message(sample(8, 12)));
  // Small segments: the message spans several, as big ones do.
  write(dir / "valid-full-several-segments", 0, full_message(sample(3, 4), 16));
  capnp::MallocMessageBuilder delta;
  protocol::write_delta(kSnapshotNamespace, base, sample(4, 8), delta.initRoot<wire::Snapshot>());
  write(dir / "valid-delta-on-held", 1, flat(delta));
  write(dir / "seed-delta-none-held", 0, flat(delta));
}

void lkg_seeds(const fs::path& dir) {
  const test::TempDir scratch;
  auto cache = sidecar::LkgCache::open(scratch.path()).value();
  const auto slots = cache.slot_paths(kSnapshotNamespace);
  (void)cache.save(kSnapshotNamespace, sample(2, 5)).value();
  const std::string first = read(slots[0]);
  (void)cache.save(kSnapshotNamespace, sample(3, 6)).value();
  const std::string second = read(slots[1]);
  const std::string legacy = full_message(sample(1, 4));
  // Flags: bits 0-1 the files (fuzz_lkg_cache.cc), bit 2 re-seal.
  auto sized = [](const std::string& a) {
    return std::string{static_cast<char>(a.size() & 0xff), static_cast<char>(a.size() >> 8)} + a;
  };
  write(dir / "valid-slot-0-resealed", 4, first);
  write(dir / "valid-two-slots", 1, sized(first) + second);
  write(dir / "valid-two-slots-resealed", 5, sized(first) + second);
  write(dir / "valid-earlier-release-file", 2, legacy);
  write(dir / "valid-slot-1-and-earlier-file", 3, sized(second) + legacy);
}

}  // namespace
}  // namespace hotswap::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR (writes DIR/segment, DIR/snapshot, DIR/lkg_cache)\n",
                 argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  hotswap::fuzz::segment_seeds(dir / "segment");
  hotswap::fuzz::snapshot_seeds(dir / "snapshot");
  hotswap::fuzz::lkg_seeds(dir / "lkg_cache");
  return 0;
}

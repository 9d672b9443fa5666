// Writes a seed corpus for fuzz_segment: valid snapshots of a few shapes
// and a valid head, each prefixed with the fuzzer's mode byte.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "hotswap/snapshot_data.hpp"
#include "layout.h"
#include "snapshot_encoder.h"

namespace {

void write(const std::string& path, char mode, const char* bytes, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.put(mode);
  out.write(bytes, static_cast<std::streamsize>(size));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int shapes[] = {0, 1, 5, 40};
  for (int keys : shapes) {
    hotswap::SnapshotBuilder b;
    for (int i = 0; i < keys; ++i) {
      b.set("k" + std::to_string(i), int64_t{i});
      if (i % 3 == 0) b.set("s" + std::to_string(i), std::string(static_cast<size_t>(i), 'v'));
      if (i % 5 == 0) b.set("j" + std::to_string(i), hotswap::Json{"{\"a\":1}"});
      if (i % 7 == 0) b.set("b" + std::to_string(i), i % 2 == 0);
    }
    auto data = std::move(b).build(3, {}).value();
    const size_t size = hotswap::detail::encoded_size(data).value();
    std::vector<uint64_t> words(size / 8, 0);
    auto* bytes = reinterpret_cast<char*>(words.data());
    hotswap::detail::encode_snapshot(data, 1, bytes, size);
    for (char mode : {1, 2}) {
      write(dir + "/snapshot-" + std::to_string(keys) + "-" + std::to_string(int{mode}), mode,
            bytes, size);
    }
  }
  hotswap::layout::HeadLayout head{};
  head.magic = hotswap::layout::kHeadMagic;
  head.layout_version = hotswap::layout::kLayoutVersion;
  head.head_size = sizeof head;
  head.active.store(hotswap::layout::make_active_word(4, 2));
  write(dir + "/head", 0, reinterpret_cast<const char*>(&head), sizeof head);
  return 0;
}

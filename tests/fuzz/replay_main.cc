// Runs every input of a target's committed corpus through it once, in the
// project's own build (and so under its sanitizers): the crashes fuzzing
// found stay fixed without clang. Inputs named `valid-*` must be accepted,
// so a format change that turns the seeds into noise fails here rather than
// quietly making fuzzing shallow.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace {

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
    return 2;
  }
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    std::vector<std::filesystem::path> inputs;
    for (const auto& entry : std::filesystem::directory_iterator(argv[i], ec)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
    if (ec || inputs.empty()) {
      std::fprintf(stderr, "%s: no inputs (%s)\n", argv[i], ec ? ec.message().c_str() : "empty");
      return 2;
    }
    std::sort(inputs.begin(), inputs.end());
    size_t accepted = 0;
    for (const auto& path : inputs) {
      const std::vector<uint8_t> bytes = read_file(path);
      const bool ok = hotswap::fuzz::run_one(bytes.data(), bytes.size());
      accepted += ok;
      if (!ok && path.filename().string().starts_with("valid-")) {
        std::fprintf(stderr,
                     "%s: refused, but named valid-: the format changed? Regenerate the seeds "
                     "(tests/fuzz/README.md)\n",
                     path.c_str());
        ++failures;
      }
    }
    std::printf("%s: %zu inputs, %zu accepted\n", argv[i], inputs.size(), accepted);
  }
  return failures == 0 ? 0 : 1;
}

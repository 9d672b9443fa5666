// hotswap-stress-agent: the writer and reader processes of the
// multi-process stress tests.
//
//   writer NS [--keys K] [--blob B] [--replace] [--versions N] [--start V]
//       Publishes checksummed snapshots as fast as it can. Version v holds
//       k<i> = v*4096+i, sum = the sum of them, version = v and a blob whose
//       bytes derive from v. Prints "ready <v>" after its first publish.
//   reader NS [--threads T] [--keys K] [--blob B] [--min-reads N] [--until-version V]
//          [--copy-up-to BYTES]
//       Validates every read until SIGTERM, then prints
//       "reads=<n> errors=<e> max_version=<v> mapped=<m>" and exits 1 if
//       e > 0; m counts the namespace's snapshot segments this process has
//       mapped then (0 when it copies every version: ClientOptions::copy_up_to).
//       With --min-reads, prints "reached" once it has read that many;
//       with --until-version, prints "reached version" once a full view of
//       that version (or a later one) checked out.
//   hold NS
//       Maps the active snapshot through a view, prints "holding <v>" and
//       sleeps until killed (for reclamation tests).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/writer.hpp"
#include "shm.h"

namespace {

using namespace std::chrono_literals;

struct Options {
  std::string mode, ns;
  int keys = 64;
  int blob = 256;
  int threads = 2;
  bool replace = false;
  uint64_t versions = 0;  // 0 = forever
  uint64_t start = 0;     // 0 = after the active version
  uint64_t min_reads = 0;
  uint64_t until_version = 0;
  size_t copy_up_to = hotswap::ClientOptions{}.copy_up_to;
};

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s writer|reader|hold NS [options]\n", argv[0]);
    std::exit(2);
  }
  o.mode = argv[1];
  o.ns = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> long long {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--keys")
      o.keys = static_cast<int>(next());
    else if (a == "--blob")
      o.blob = static_cast<int>(next());
    else if (a == "--threads")
      o.threads = static_cast<int>(next());
    else if (a == "--versions")
      o.versions = static_cast<uint64_t>(next());
    else if (a == "--start")
      o.start = static_cast<uint64_t>(next());
    else if (a == "--min-reads")
      o.min_reads = static_cast<uint64_t>(next());
    else if (a == "--until-version")
      o.until_version = static_cast<uint64_t>(next());
    else if (a == "--copy-up-to")
      o.copy_up_to = static_cast<size_t>(next());
    else if (a == "--replace")
      o.replace = true;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

int64_t encode(uint64_t version, int i) {
  return static_cast<int64_t>(version * 4096 + i);
}

std::string blob_for(uint64_t version, int size) {
  std::string s(static_cast<size_t>(size), 'a');
  for (int j = 0; j < size; ++j) s[j] = static_cast<char>('a' + (version * 31 + j) % 26);
  return s;
}

std::string key(int i) {
  return "k" + std::to_string(i);
}

int run_writer(const Options& o) {
  auto writer = hotswap::Writer::open(o.ns, {.replace = o.replace});
  if (!writer) {
    std::fprintf(stderr, "writer: %s\n", writer.error().message.c_str());
    return 1;
  }
  uint64_t v = o.start != 0 ? o.start : writer->active_version().value_or(0) + 1;
  for (uint64_t n = 0; o.versions == 0 || n < o.versions; ++n, ++v) {
    hotswap::SnapshotBuilder b;
    int64_t sum = 0;
    for (int i = 0; i < o.keys; ++i) {
      b.set(key(i), encode(v, i));
      sum += encode(v, i);
    }
    b.set("sum", sum).set("version", static_cast<int64_t>(v)).set("blob", blob_for(v, o.blob));
    hotswap::ContentHash hash{};
    std::memcpy(hash.data(), &v, sizeof v);
    auto published = writer->publish(std::move(b).build(v, hash).value());
    if (!published) {
      std::fprintf(stderr, "writer: %s\n", published.error().message.c_str());
      return 1;
    }
    if (n == 0) {
      std::printf("ready %llu\n", static_cast<unsigned long long>(v));
      std::fflush(stdout);
    }
  }
  return 0;
}

std::atomic<bool> stop{false};

struct Tally {
  std::atomic<uint64_t> reads{0}, errors{0}, max_version{0};
  void error(const char* what, uint64_t a, uint64_t b) {
    if (errors.fetch_add(1) < 10) {
      std::fprintf(stderr, "reader: %s (%llu vs %llu)\n", what, static_cast<unsigned long long>(a),
                   static_cast<unsigned long long>(b));
    }
  }
  void saw(uint64_t v) {
    uint64_t m = max_version.load();
    while (v > m && !max_version.compare_exchange_weak(m, v)) {
    }
  }
};

// One full view: every key from the view's version, and nothing else.
void check_view(const hotswap::SnapshotView& view, const Options& o, Tally& t) {
  const uint64_t v = view.version();
  uint64_t reads = 0;
  int64_t sum = 0;
  for (int i = 0; i < o.keys; ++i) {
    const int64_t got = view.get<int64_t>(key(i)).value_or(-1);
    if (got != encode(v, i)) t.error("view key mixes versions", static_cast<uint64_t>(got), v);
    sum += got;
    ++reads;
  }
  if (view.get<int64_t>("sum").value_or(-1) != sum) t.error("view sum", 0, v);
  if (view.get<int64_t>("version").value_or(-1) != static_cast<int64_t>(v)) {
    t.error("view version key", 0, v);
  }
  auto blob = view.text("blob");
  if (!blob || *blob != blob_for(v, o.blob)) t.error("view blob torn", 0, v);
  t.reads += reads + 3;
  t.saw(v);
}

void reader_thread(hotswap::Client& client, const Options& o, Tally& t) {
  auto handle = client.handle<int64_t>("k5");
  if (!handle) {
    t.error("handle", 0, 0);
    return;
  }
  uint64_t last = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (auto view = client.snapshot()) {
      check_view(*view, o, t);
      if (view->version() < last) t.error("view went back", view->version(), last);
      last = std::max(last, view->version());
    } else {
      t.error("snapshot failed", 0, 0);
    }
    // Handle and by-name reads: each value must be a whole value of some
    // version, and versions never go back.
    for (int i = 0; i < 1000; ++i) {
      const int64_t h = handle->value_or(-1);
      if (h < 0 || h % 4096 != 5) t.error("handle value torn", static_cast<uint64_t>(h), 5);
      const uint64_t hv = static_cast<uint64_t>(h) / 4096;
      if (hv < last) t.error("handle went back", hv, last);
      last = std::max(last, hv);
    }
    const int64_t g = client.get<int64_t>("k7").value_or(-1);
    if (g < 0 || g % 4096 != 7) t.error("get value torn", static_cast<uint64_t>(g), 7);
    t.reads += 1001;
  }
}

hotswap::Client open_with_retry(const std::string& ns, const hotswap::ClientOptions& options = {}) {
  for (int attempt = 0;; ++attempt) {
    auto c = hotswap::Client::open(ns, options);
    if (c && c->version()) return std::move(*c);
    if (attempt > 10000) {
      std::fprintf(stderr, "reader: cannot open %s\n", ns.c_str());
      std::exit(1);
    }
    std::this_thread::sleep_for(1ms);
  }
}

// The snapshot segments of `ns` this process has mapped now (its head
// segment aside), from /proc/self/maps.
uint64_t mapped_snapshots(const std::string& ns) {
  const auto names = hotswap::shm::SegmentNames::for_namespace(ns);
  if (!names) return 0;
  const std::string prefix = std::string(hotswap::shm::kShmDir) + "/" + names->prefix() + "v";
  std::ifstream maps("/proc/self/maps");
  uint64_t n = 0;
  for (std::string line; std::getline(maps, line);) {
    const size_t path = line.find('/');
    if (path != std::string::npos && line.compare(path, prefix.size(), prefix) == 0) ++n;
  }
  return n;
}

int run_reader(const Options& o) {
  ::signal(SIGTERM, [](int) { stop = true; });
  auto client = open_with_retry(o.ns, {.copy_up_to = o.copy_up_to});
  std::printf("reading\n");
  std::fflush(stdout);
  Tally t;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) threads.emplace_back([&] { reader_thread(client, o, t); });
  // Tell the test once the wanted amount is read (it waits for this line).
  bool told_version = o.until_version == 0;
  for (bool told = o.min_reads == 0; !stop.load();) {
    if (!told && t.reads.load() >= o.min_reads) {
      std::printf("reached\n");
      std::fflush(stdout);
      told = true;
    }
    if (!told_version && t.max_version.load() >= o.until_version) {
      std::printf("reached version\n");
      std::fflush(stdout);
      told_version = true;
    }
    std::this_thread::sleep_for(1ms);
  }
  for (auto& th : threads) th.join();
  // The client still holds the version it read last.
  std::printf("reads=%llu errors=%llu max_version=%llu mapped=%llu\n",
              static_cast<unsigned long long>(t.reads.load()),
              static_cast<unsigned long long>(t.errors.load()),
              static_cast<unsigned long long>(t.max_version.load()),
              static_cast<unsigned long long>(mapped_snapshots(o.ns)));
  std::fflush(stdout);
  return t.errors.load() == 0 ? 0 : 1;
}

int run_hold(const Options& o) {
  auto client = open_with_retry(o.ns);
  auto view = client.snapshot();
  if (!view) return 1;
  // Touch every page so the mapping is really in use.
  uint64_t sum = 0;
  for (auto entry : *view) sum += entry.key().size();
  std::printf("holding %llu %llu\n", static_cast<unsigned long long>(view->version()),
              static_cast<unsigned long long>(sum));
  std::fflush(stdout);
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.mode == "writer") return run_writer(o);
  if (o.mode == "reader") return run_reader(o);
  if (o.mode == "hold") return run_hold(o);
  std::fprintf(stderr, "unknown mode %s\n", o.mode.c_str());
  return 2;
}

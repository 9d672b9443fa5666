#include "health/window_codec.h"

#include <cstring>

namespace hotswap::control {
namespace {

// The format's version, first byte: a control that reads another it does
// not know skips those windows rather than misread them.
constexpr uint8_t kFormat = 1;

template <class T>
void put(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i) & 0xff));
  }
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  bool get(T& value) {
    if (bytes_.size() < sizeof(T)) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[i])) << (8 * i);
    }
    value = static_cast<T>(v);
    bytes_.remove_prefix(sizeof(T));
    return true;
  }
  bool get(std::string& s, size_t n) {
    if (bytes_.size() < n) return false;
    s.assign(bytes_.substr(0, n));
    bytes_.remove_prefix(n);
    return true;
  }
  bool done() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace

std::string encode_window(uint64_t epoch, uint64_t sequence, const HealthWindow& w) {
  std::string out;
  out.reserve(64 + w.latency.size() * 6 + w.error_classes.size() * 24);
  put<uint8_t>(out, kFormat);
  put(out, epoch);
  put(out, sequence);
  put(out, w.start_ms);
  put(out, w.end_ms);
  put(out, w.ok);
  put(out, w.errors);
  put(out, w.probe_ok);
  put(out, w.probe_errors);
  put(out, static_cast<uint16_t>(w.latency.size()));
  for (const HealthWindow::Bucket& b : w.latency) {
    put(out, b.index);
    put(out, b.count);
  }
  put(out, static_cast<uint16_t>(w.error_classes.size()));
  for (const auto& [name, count] : w.error_classes) {
    put(out, static_cast<uint16_t>(name.size()));
    out += name;
    put(out, count);
  }
  return out;
}

std::optional<HealthWindow> decode_window(std::string_view bytes) {
  Reader r(bytes);
  HealthWindow w;
  uint8_t format = 0;
  uint64_t epoch = 0, sequence = 0;
  uint16_t buckets = 0, classes = 0;
  if (!r.get(format) || format != kFormat || !r.get(epoch) || !r.get(sequence) ||
      !r.get(w.start_ms) || !r.get(w.end_ms) || !r.get(w.ok) || !r.get(w.errors) ||
      !r.get(w.probe_ok) || !r.get(w.probe_errors) || !r.get(buckets)) {
    return std::nullopt;
  }
  w.latency.resize(buckets);
  for (size_t i = 0; i < buckets; ++i) {
    HealthWindow::Bucket& b = w.latency[i];
    if (!r.get(b.index) || !r.get(b.count)) return std::nullopt;
    if (b.index >= kLatencyBucketCount) return std::nullopt;
    if (i > 0 && b.index <= w.latency[i - 1].index) return std::nullopt;
  }
  if (!r.get(classes)) return std::nullopt;
  w.error_classes.resize(classes);
  for (auto& [name, count] : w.error_classes) {
    uint16_t length = 0;
    if (!r.get(length) || !r.get(name, length) || !r.get(count)) return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  return w;
}

}  // namespace hotswap::control

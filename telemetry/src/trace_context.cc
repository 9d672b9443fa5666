#include "hotswap/telemetry/trace_context.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <random>

namespace hotswap::telemetry {
namespace {

thread_local std::string current;

bool is_hex(std::string_view s) {
  return std::ranges::all_of(
      s, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zeros(std::string_view s) {
  return std::ranges::all_of(s, [](char c) { return c == '0'; });
}

std::string random_hex(size_t n) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < n) {
    uint64_t bits = rng();
    for (int i = 0; i < 16 && out.size() < n; ++i, bits >>= 4) out += kDigits[bits & 15];
  }
  return out;
}

}  // namespace

bool valid_traceparent(std::string_view t) {
  if (t.size() != 55 || t[2] != '-' || t[35] != '-' || t[52] != '-') return false;
  const auto version = t.substr(0, 2), trace = t.substr(3, 32), parent = t.substr(36, 16),
             flags = t.substr(53, 2);
  return version == "00" && is_hex(trace) && is_hex(parent) && is_hex(flags) && !all_zeros(trace) &&
         !all_zeros(parent);
}

std::string traceparent_or_new(std::string_view sent) {
  std::string lowered(sent);
  std::ranges::transform(lowered, lowered.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (valid_traceparent(lowered)) return lowered;
  std::string trace = random_hex(32), parent = random_hex(16);
  // 2^-64 and 2^-128, but an all-zero id is invalid by definition.
  if (all_zeros(parent)) parent[15] = '1';
  if (all_zeros(trace)) trace[31] = '1';
  return "00-" + trace + "-" + parent + "-00";
}

std::string_view trace_id_of(std::string_view traceparent) {
  if (!valid_traceparent(traceparent)) return {};
  return traceparent.substr(3, 32);
}

const std::string& current_traceparent() {
  return current;
}

TraceScope::TraceScope(std::string traceparent) : previous_(std::move(current)) {
  current = std::move(traceparent);
}

TraceScope::~TraceScope() {
  current = std::move(previous_);
}

}  // namespace hotswap::telemetry

// String building for error messages and segment names (g++ 12 has no
// <format>, and the SDK keeps its dependencies to Boost.Interprocess).
#ifndef HOTSWAP_CLIENT_SDK_SRC_STR_CAT_H_
#define HOTSWAP_CLIENT_SDK_SRC_STR_CAT_H_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotswap::detail {

struct Hex16 {
  uint64_t value;
};

inline void append(std::string& out, std::string_view s) {
  out.append(s);
}
inline void append(std::string& out, const char* s) {
  out.append(s);
}
inline void append(std::string& out, const std::string& s) {
  out.append(s);
}
inline void append(std::string& out, char c) {
  out.push_back(c);
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void append(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
inline void append(std::string& out, Hex16 h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(h.value >> shift) & 0xf]);
}

// Concatenates strings, characters and integers.
template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::string out;
  (append(out, parts), ...);
  return out;
}

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_STR_CAT_H_

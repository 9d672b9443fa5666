// String building for hotswap's own messages and names: a helper shared by
// the SDK, the CLI and the services, not part of the SDK's API (no
// compatibility promise). g++ 12 has no <format>, and the SDK keeps its
// dependencies to Boost.Interprocess.
#ifndef HOTSWAP_STR_CAT_H_
#define HOTSWAP_STR_CAT_H_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotswap {

// Appended by str_cat as exactly 16 lower-case hex digits, leading zeros
// kept (segment names rely on the fixed width).
struct Hex16 {
  uint64_t value;
};

namespace str_cat_internal {

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
  char buf[24];  // the longest 64-bit integer, signed, is 20 characters
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
inline void append(std::string& out, Hex16 h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(h.value >> shift) & 0xf]);
}

}  // namespace str_cat_internal

// Concatenates strings, characters, integers (in decimal) and Hex16s. A
// bool is refused at compile time rather than printed as 0 or 1.
template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::string out;
  (str_cat_internal::append(out, parts), ...);
  return out;
}

// `s` in double quotes, for naming user input in messages. Nothing inside
// is escaped.
inline std::string in_quotes(std::string_view s) {
  return str_cat('"', s, '"');
}

}  // namespace hotswap

#endif  // HOTSWAP_STR_CAT_H_

// String building for messages (g++ 12 has no <format>).
#ifndef HOTSWAP_CLI_SRC_STR_CAT_H_
#define HOTSWAP_CLI_SRC_STR_CAT_H_

#include <concepts>
#include <string>
#include <string_view>

namespace hotswap::cli {

namespace str_cat_internal {
inline void append(std::string& out, std::string_view s) {
  out.append(s);
}
inline void append(std::string& out, char c) {
  out.push_back(c);
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void append(std::string& out, T v) {
  out.append(std::to_string(v));
}
}  // namespace str_cat_internal

// Concatenates strings, characters and integers.
template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::string out;
  (str_cat_internal::append(out, parts), ...);
  return out;
}

// `s` as a double-quoted string, for naming user input in messages.
inline std::string in_quotes(std::string_view s) {
  return str_cat('"', s, '"');
}

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_STR_CAT_H_

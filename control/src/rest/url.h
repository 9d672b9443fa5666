// Percent-decoding of request targets (RFC 3986 section 2.1).
#ifndef HOTSWAP_CONTROL_REST_URL_H_
#define HOTSWAP_CONTROL_REST_URL_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotswap::control {

// `text` with each %XX replaced by its byte (and '+' by a space when
// `plus_is_space`, as in a query); nullopt if a '%' is not followed by two
// hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The parameters of a query string ("a=1&b=&c"), decoded, in order; nullopt
// if one is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_URL_H_

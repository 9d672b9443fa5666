// The first check of a request's header block, on the raw bytes before any
// parser sees them: where it ends, whether it is within the limits, and the
// framing faults RFC 9112 requires a server to refuse that a lenient parser
// would repair (obsolete line folding, section 5.2; whitespace before the
// colon, section 5.1; bare LF line endings, section 2.2).
#ifndef HOTSWAP_CONTROL_REST_HEADER_BLOCK_H_
#define HOTSWAP_CONTROL_REST_HEADER_BLOCK_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace hotswap::control {

struct HeaderBlock {
  enum class State {
    incomplete,  // no blank line yet, and within the limits: read on
    complete,    // bytes [begin, size): the request line to the blank line
    malformed,   // `problem` says which rule is broken
    too_large,   // over max_bytes or max_fields (`problem` says which)
  };
  State state = State::incomplete;
  size_t begin = 0;  // empty lines before the request line (RFC 9112 2.2)
  size_t size = 0;
  std::string problem;
};

// Scans a request's header as it arrives. Each line is looked at once, so
// a client sending one byte at a time costs linear work, and a fault is
// reported as soon as its line is complete.
class HeaderScanner {
 public:
  HeaderScanner(size_t max_bytes, size_t max_fields)
      : max_bytes_(max_bytes), max_fields_(max_fields) {}

  // `data` is everything received of this request so far: each call's
  // `data` starts with the previous call's.
  HeaderBlock scan(std::string_view data);

 private:
  HeaderBlock too_large() const;
  const size_t max_bytes_;
  const size_t max_fields_;
  size_t begin_ = 0;      // where the request line starts
  size_t next_line_ = 0;  // where the first line not yet checked starts
  size_t fields_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HEADER_BLOCK_H_

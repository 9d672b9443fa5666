// The body of a publish (POST .../versions) read in one pass by simdjson,
// its document taken apart into entries without building nlohmann's tree
// of maps: a release of 100 keys went from 103-108 us to 38-40 us, body to
// entries (docs/benchmarks.md).
// Only an ordinary body is read this way; anything else (not JSON, a key
// twice in an object, an entry whose shape is wrong, a number simdjson
// cannot hold as nlohmann would) is left to parse_object and the checks
// after it, so every error the API answers is the one it always answered.
#ifndef HOTSWAP_CONTROL_REST_PUBLISH_BODY_H_
#define HOTSWAP_CONTROL_REST_PUBLISH_BODY_H_

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>
#include <vector>

#include "domain/values.h"

namespace hotswap::control {

struct PublishBody {
  // Every field of the body but "entries", as parse_object would give it.
  nlohmann::json fields;
  // "entries" taken apart, when the body has it; keys are distinct.
  std::optional<std::vector<SentEntry>> entries;
};

// `text` read as above; nullopt when it is not an ordinary publish body.
// Thread-safe (each thread keeps a parser of its own).
std::optional<PublishBody> read_publish_body(std::string_view text);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_PUBLISH_BODY_H_

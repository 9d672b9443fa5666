// The configuration document the propagation benchmarks publish, so that
// hotswap and the systems it is compared with carry the same bytes.
#ifndef HOTSWAP_BENCH_RELEASE_DOCUMENT_H_
#define HOTSWAP_BENCH_RELEASE_DOCUMENT_H_

#include <cstdint>
#include <nlohmann/json.hpp>

namespace hotswap::bench {

// A service's configuration of `keys` entries ({key: {"type","value"}},
// the shape of control's publish API) spread over every value type;
// "release.build" holds `build`, the one entry that changes from one
// release to the next.
nlohmann::json release_document(int keys, int64_t build);

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_RELEASE_DOCUMENT_H_

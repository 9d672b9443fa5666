// Label selectors: which instances a deployment is for.
#ifndef HOTSWAP_CONTROL_DOMAIN_SELECTOR_H_
#define HOTSWAP_CONTROL_DOMAIN_SELECTOR_H_

#include <algorithm>
#include <map>
#include <string>

namespace hotswap::control {

// True when `labels` carry every key of `selector` with the same value; an
// empty selector matches every instance.
inline bool selector_matches(const std::map<std::string, std::string>& labels,
                             const std::map<std::string, std::string>& selector) {
  return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_SELECTOR_H_

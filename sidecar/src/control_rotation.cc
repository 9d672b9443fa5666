#include "control_rotation.h"

#include <algorithm>

namespace hotswap::sidecar {
namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::vector<std::string> split_control_addresses(const std::vector<std::string>& lists) {
  std::vector<std::string> addresses;
  for (const std::string& list : lists) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string address = trimmed(list.substr(start, comma - start));
      if (!address.empty() &&
          std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
        addresses.push_back(std::move(address));
      }
      start = comma + 1;
    }
  }
  return addresses;
}

std::string host_of(const std::string& address) {
  if (address.starts_with('[')) {
    const auto end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

ControlRotation::ControlRotation(Options options)
    : order_(std::move(options.addresses)),
      base_(std::max(options.base, std::chrono::milliseconds(1))),
      max_(std::max(options.max, base_)),
      ceiling_(base_),
      rng_(options.seed) {
  if (order_.empty()) order_.emplace_back();
  // Fisher-Yates with the seeded engine: std::shuffle's use of the engine
  // is the library's choice, this one is fixed.
  for (size_t i = order_.size(); i > 1; --i) {
    std::swap(order_[i - 1], order_[rng_() % i]);
  }
}

ControlRotation::Step ControlRotation::next() {
  Step step;
  step.from = order_[at_];
  at_ = (at_ + 1) % order_.size();
  step.to = order_[at_];
  // Full jitter: uniform in [0, ceiling], so sidecars that lost the same
  // replica at the same moment do not all dial at the same moment.
  const auto span = static_cast<uint64_t>(ceiling_.count()) + 1;
  step.delay = std::chrono::milliseconds(static_cast<int64_t>(rng_() % span));
  ceiling_ = std::min(ceiling_ * 2, max_);
  return step;
}

}  // namespace hotswap::sidecar

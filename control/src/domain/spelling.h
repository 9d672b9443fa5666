// The closed sets of control's model (strategies, deployment states,
// target and instance statuses) and the one place each value is spelled as the API,
// the store and the logs spell it.
#ifndef HOTSWAP_CONTROL_DOMAIN_SPELLING_H_
#define HOTSWAP_CONTROL_DOMAIN_SPELLING_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotswap::control {

// How a deployment moves its targets to the new version (DESIGN.md
// "Rollouts"; rollout/ carries out all but direct).
enum class Strategy { direct, canary, blue_green, rolling };

// A deployment is active while running or paused (by hand, or by a gate
// that could not decide). It ends succeeded, failed (a NACK, or its
// remaining targets gone), cancelled (aborted by hand; its targets keep what
// they were given), rolled_back (its gate found a regression, or by hand:
// the targets it moved went back to the previous version) or superseded (a
// newer deployment of the namespace replaced it). A deployment of a
// protected namespace starts awaiting approval (nothing moves) and goes
// on running once approved, or ends rejected or expired (approval/).
enum class DeploymentState {
  awaiting_approval,
  rejected,
  expired,
  running,
  paused,
  succeeded,
  failed,
  cancelled,
  rolled_back,
  superseded
};

// Where one target of a deployment stands: waiting for its stage, pending
// (told, not answered), staged (holds the version inactive: blue-green),
// acked, nacked, disconnected, or reverted (told to go back by a rollback).
enum class TargetStatus { waiting, pending, staged, acked, nacked, disconnected, reverted };

// An instance as its heartbeats tell: connected, connected but silent for
// longer than the TTL (stale), or disconnected.
enum class InstanceStatus { connected, stale, disconnected };

// Each enum's values with their spellings; `Spellings<E>::all` lists every
// value once.
template <class E>
struct Spellings;

template <>
struct Spellings<Strategy> {
  static constexpr std::pair<Strategy, std::string_view> all[] = {
      {Strategy::direct, "direct"},
      {Strategy::canary, "canary"},
      {Strategy::blue_green, "blue-green"},
      {Strategy::rolling, "rolling"}};
};

template <>
struct Spellings<DeploymentState> {
  static constexpr std::pair<DeploymentState, std::string_view> all[] = {
      {DeploymentState::awaiting_approval, "awaiting-approval"},
      {DeploymentState::rejected, "rejected"},
      {DeploymentState::expired, "expired"},
      {DeploymentState::running, "running"},
      {DeploymentState::paused, "paused"},
      {DeploymentState::succeeded, "succeeded"},
      {DeploymentState::failed, "failed"},
      {DeploymentState::cancelled, "cancelled"},
      {DeploymentState::rolled_back, "rolled-back"},
      {DeploymentState::superseded, "superseded"}};
};

template <>
struct Spellings<TargetStatus> {
  static constexpr std::pair<TargetStatus, std::string_view> all[] = {
      {TargetStatus::waiting, "waiting"},  {TargetStatus::pending, "pending"},
      {TargetStatus::staged, "staged"},    {TargetStatus::acked, "acked"},
      {TargetStatus::nacked, "nacked"},    {TargetStatus::disconnected, "disconnected"},
      {TargetStatus::reverted, "reverted"}};
};

template <>
struct Spellings<InstanceStatus> {
  static constexpr std::pair<InstanceStatus, std::string_view> all[] = {
      {InstanceStatus::connected, "connected"},
      {InstanceStatus::stale, "stale"},
      {InstanceStatus::disconnected, "disconnected"}};
};

template <class E>
concept Spelled = requires {
  Spellings<E>::all;
};

// The spelling of `value`.
template <Spelled E>
constexpr std::string_view to_string(E value) {
  for (const auto& [v, text] : Spellings<E>::all) {
    if (v == value) return text;
  }
  return "unknown";
}

// The value spelled `text`, if any.
template <Spelled E>
constexpr std::optional<E> parse_as(std::string_view text) {
  for (const auto& [v, spelled] : Spellings<E>::all) {
    if (spelled == text) return v;
  }
  return std::nullopt;
}

// The spellings of `values` (any values with a to_string), comma-separated,
// for messages ("direct, canary").
template <class Range>
std::string joined_spellings(const Range& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += ", ";
    out += to_string(value);
  }
  return out;
}

// Every spelling of E, comma-separated.
template <Spelled E>
std::string spellings() {
  std::vector<E> all;
  for (const auto& [v, text] : Spellings<E>::all) all.push_back(v);
  return joined_spellings(all);
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_SPELLING_H_

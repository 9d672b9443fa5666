// Recording request outcomes for rollout gates: an application records
// each request's outcome (ok or error, latency, optionally an error class)
// against the namespace version the request read. The sidecar reads them
// from shared memory and reports them to control, which compares versions.
//
//   auto health = hotswap::HealthRecorder::open(*client);
//   {
//     auto request = health->start();   // takes the active version now
//     ... serve, reading config through `client` ...
//     request.ok();                     // or request.fail(timeout_class)
//   }                                   // recorded here, latency measured
//   health->record(hotswap::Outcome::ok, std::chrono::microseconds(350));
//
// Recording takes no lock, makes no system call and allocates nothing
// (after a thread's first record for a namespace): each thread writes
// counters of its own in this process's health segment, which the sidecar
// reads. A crashed process loses nothing it recorded. Layout and limits:
// docs/health-segment.md.
#ifndef HOTSWAP_HEALTH_HPP_
#define HOTSWAP_HEALTH_HPP_

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

#include "hotswap/client.hpp"
#include "hotswap/error.hpp"

namespace hotswap {

enum class Outcome : uint8_t { ok = 0, error = 1 };

namespace detail {
class ClientCore;
struct HealthState;
}  // namespace detail

// A name errors are counted under (e.g. "timeout", "upstream_5xx"): one of
// at most 15 per process, registered on first use. The default-constructed
// class is none: the error is counted without a class.
class ErrorClass {
 public:
  constexpr ErrorClass() = default;
  // The class called `name` (1-47 of [A-Za-z0-9._:-]), registered if new.
  // invalid_argument for a malformed name or a 16th distinct name.
  static std::expected<ErrorClass, Error> named(std::string_view name);

  // The class of id(): none unless `id` was registered in this process.
  static ErrorClass from_id(uint32_t id);

  // 0 for none, else 1..15.
  uint32_t id() const { return id_; }
  // "" for none.
  std::string name() const;

 private:
  explicit constexpr ErrorClass(uint32_t id) : id_(id) {}
  friend class HealthRecorder;
  friend class RecordScope;
  uint32_t id_ = 0;
};

// One request being served: made by HealthRecorder::start(), which takes
// the version active then; records on destruction. Unless ok() was called,
// the request counts as an error (an exception unwinding through it, a
// forgotten outcome). Move-only; not thread-safe (one request, one owner).
class RecordScope {
 public:
  RecordScope(RecordScope&& other) noexcept;
  RecordScope& operator=(RecordScope&&) = delete;
  RecordScope(const RecordScope&) = delete;
  ~RecordScope();

  void ok() { outcome_ = Outcome::ok; }
  void fail(ErrorClass error_class = {}) {
    outcome_ = Outcome::error;
    class_ = error_class.id_;
  }
  // Records this latency instead of the time since start().
  void set_latency(std::chrono::microseconds latency) {
    latency_us_ = latency.count() < 0 ? 0 : static_cast<int64_t>(latency.count());
  }
  // Records nothing.
  void dismiss() { state_ = nullptr; }
  // The version this request is counted against (0: none was active).
  uint64_t version() const { return version_; }

 private:
  friend class HealthRecorder;
  RecordScope(detail::HealthState* state, uint64_t version)
      : state_(state), version_(version), start_(std::chrono::steady_clock::now()) {}
  detail::HealthState* state_;
  uint64_t version_;
  std::chrono::steady_clock::time_point start_;
  int64_t latency_us_ = -1;  // -1: measure
  Outcome outcome_ = Outcome::error;
  uint32_t class_ = 0;
};

// Records outcomes of one namespace in this process's health segment for
// it (created by the first open, kept for the life of the process, and
// shared by every recorder of the namespace in the process). Copyable and
// thread-safe; may outlive the Client it was opened from.
class HealthRecorder {
 public:
  // The recorder of `client`'s namespace. Creates the process's segment on
  // first use: permission_denied if it cannot be created or given to the
  // namespace's group (the group of its head segment, so that the sidecar
  // reads it and no other tenant does), io for another failure. A process
  // forked after open records into a segment of its own.
  static std::expected<HealthRecorder, Error> open(const Client& client);

  // Records one outcome against the version active now (0, counted as
  // unattributed, if none is). Never fails.
  void record(Outcome outcome, std::chrono::microseconds latency,
              ErrorClass error_class = {}) const noexcept;
  // The same against `version` (a version the request read earlier).
  void record_for(uint64_t version, Outcome outcome, std::chrono::microseconds latency,
                  ErrorClass error_class = {}) const noexcept;

  // A scope for one request, against the version active now.
  RecordScope start() const noexcept;

  // The active version as record() attributes to it (0 if none is).
  uint64_t active_version() const noexcept;

  const std::string& ns() const;

 private:
  HealthRecorder(std::shared_ptr<detail::ClientCore> core, detail::HealthState* state)
      : core_(std::move(core)), state_(state) {}
  std::shared_ptr<detail::ClientCore> core_;
  detail::HealthState* state_;  // lives as long as the process
};

namespace detail {
// Adds one outcome of `version` to this thread's counters in `state`.
void record_outcome(HealthState* state, uint64_t version, Outcome outcome, uint64_t latency_us,
                    uint32_t error_class) noexcept;
}  // namespace detail

}  // namespace hotswap

#endif  // HOTSWAP_HEALTH_HPP_

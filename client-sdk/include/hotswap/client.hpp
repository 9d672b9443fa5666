// The hotswap client SDK: read configuration that a sidecar publishes into
// shared memory, lock-free and without system calls on the read path.
//
//   auto client = hotswap::Client::open("acme/checkout-prod");
//   auto limit = client->get_or<int64_t>("rate_limit", 100);
//   auto h = client->handle<int64_t>("rate_limit");   // nanosecond reads
//   int64_t v = h->value_or(100);
//
// Guarantees: no read ever returns a torn or mixed value; a snapshot view
// sees every key from one version; missing keys and wrong types are error
// values, never exceptions or crashes; a replaced segment (sidecar restart)
// is picked up without the application doing anything.
//
// This header declares Client and includes the rest of the reader API:
// ClientOptions, Handle, SnapshotView and Subscription, one header each.
#ifndef HOTSWAP_CLIENT_HPP_
#define HOTSWAP_CLIENT_HPP_

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hotswap/client.h"
#include "hotswap/client_options.hpp"
#include "hotswap/detail/resolution.hpp"
#include "hotswap/error.hpp"
#include "hotswap/handle.hpp"
#include "hotswap/snapshot_view.hpp"
#include "hotswap/subscription.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

namespace detail {
class ClientCore;
class Watcher;
}  // namespace detail

class HealthRecorder;

// An open namespace. Move-only; all methods are thread-safe (moving and
// destroying excepted, as for any object). Handles, views and
// subscriptions may outlive the Client.
//
// A read resolves the active version first, without locks or system calls
// while nothing changed. Resolving fails with: no_snapshot (nothing active
// yet), no_segment (the namespace was removed before this client read any
// version of it), busy (it kept changing over 100 attempts), corrupt or
// incompatible_layout (the new version's segment fails validation),
// permission_denied, or io (no memory for the private copy, a failed read).
// Once a version was read, a removed namespace keeps serving it.
class Client {
 public:
  // Attaches to the namespace's head segment (read-only). invalid_argument
  // for a malformed namespace or scope name; no_segment if no sidecar has
  // published it; corrupt / incompatible_layout if the segment fails
  // validation; permission_denied, io if it cannot be opened or mapped.
  static std::expected<Client, Error> open(std::string_view ns, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // The namespace, as given to open.
  const std::string& ns() const;

  // The key's value in the active version: not_found, type_mismatch (the
  // message names the stored type), corrupt if a record the lookup steps
  // on no longer reads (see SnapshotView), or an error resolving the
  // version.
  template <StoredValue T>
  std::expected<T, Error> get(std::string_view key) const;
  // get()'s value, or `fallback` on any error.
  template <StoredValue T>
  T get_or(std::string_view key, T fallback) const {
    auto v = get<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }

  // A Handle for a key that exists now with type T: not_found,
  // type_mismatch, corrupt as get(), or an error resolving the active
  // version.
  template <ScalarValue T>
  std::expected<Handle<T>, Error> handle(std::string_view key) const {
    const detail::Resolution r = detail::resolve_scalar(*core_, key, value_traits<T>::type);
    if (r.status != HOTSWAP_OK) {
      return std::unexpected(detail::resolution_error(*core_, r, key, value_traits<T>::type));
    }
    return Handle<T>(core_, std::string(key), r);
  }

  // A consistent view of the active version: an error resolving it, or
  // corrupt if its key order fails validation (checked on the first view
  // of each version).
  std::expected<SnapshotView, Error> snapshot() const;

  // The active version number, or an error resolving it.
  std::expected<uint64_t, Error> version() const;

  // Blocks without spinning until the active snapshot changes after the
  // previous wait_for_change returned (or after open), so no change between
  // two calls is missed. Returns the new active version; timeout if none
  // came within `timeout`.
  std::expected<uint64_t, Error> wait_for_change(std::chrono::nanoseconds timeout);

  // Calls `callback(version)` on a watcher thread after each change, until
  // the Subscription is reset or the Client destroyed. One watcher thread
  // per Client, started by the first call; it sleeps on the futex while
  // nothing changes. An exception from a callback is swallowed. Does not
  // fail. Do not destroy the Client from inside its callback.
  Subscription on_change(std::function<void(uint64_t version)> callback);

 private:
  friend class HealthRecorder;  // records against this client's versions
  explicit Client(std::shared_ptr<detail::ClientCore> core);
  std::shared_ptr<detail::ClientCore> core_;
  std::shared_ptr<detail::Watcher> watcher_;
};

}  // namespace hotswap

#endif  // HOTSWAP_CLIENT_HPP_

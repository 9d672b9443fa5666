// Every token control knows, in memory for the check each request makes
// and in the store for restarts. Authenticating costs a SHA-256 and a hash
// lookup, and no store access: last_used is kept in memory and written by
// flush_last_used() (control's one-second sweep). Thread-safe.
#ifndef HOTSWAP_CONTROL_ACCESS_TOKEN_REGISTRY_H_
#define HOTSWAP_CONTROL_ACCESS_TOKEN_REGISTRY_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/principal.h"
#include "access/token_info.h"
#include "access/token_secret.h"
#include "access/token_store.h"
#include "domain/error.h"

namespace hotswap::control {

// What a new token is to be; the registry sets id, created_at and the
// secret.
struct NewToken {
  std::string name;  // 1-128 printable characters
  TokenKind kind = TokenKind::api;
  Role role = Role::viewer;
  std::vector<std::string> tenants;  // empty: all; API tokens at most one
  std::optional<UnixTime> expires_at;
  std::string created_by;
  // The secret to use (a bootstrap token from the environment); else a
  // fresh random one.
  std::optional<std::string> secret;
};

struct CreatedToken {
  TokenInfo info;
  std::string secret;  // shown to its creator once, never stored
};

class TokenRegistry {
 public:
  using Clock = std::function<UnixTime()>;

  // Loads every token of `store`.
  static Result<std::unique_ptr<TokenRegistry>> open(std::unique_ptr<TokenStore> store,
                                                     Clock clock);

  // The principal of the bearer of `secret`; unauthenticated, naming why
  // (malformed, unknown, revoked, expired), otherwise.
  Result<Principal> authenticate(std::string_view secret) const;
  // The same for an HTTP Authorization field's value ("Bearer <secret>");
  // empty: no credential.
  Result<Principal> authenticate_header(std::string_view authorization) const;

  // invalid_argument for a bad name, tenant list or secret; already_exists
  // for a secret in use.
  Result<CreatedToken> create(const NewToken& token);
  std::vector<TokenInfo> list() const;
  Result<TokenInfo> get(int64_t id) const;
  // Effective at once for every later request; revoking twice is fine.
  Result<TokenInfo> revoke(int64_t id);
  // Whether any API token exists (revoked or not).
  bool has_api_tokens() const;
  // Whether a token with this secret exists.
  bool knows(std::string_view secret) const;

  // Reads the store again, taking tokens created and revoked elsewhere
  // (another replica sharing it): effective for every later request.
  Result<void> reload();

  // Writes the last_used times that changed since the last call.
  void flush_last_used();

 private:
  struct Entry {
    TokenInfo info;
    TokenHash hash;
    mutable std::atomic<UnixTime> last_used{0};
    mutable std::atomic<bool> used_since_flush{false};
  };

  TokenRegistry(std::unique_ptr<TokenStore> store, Clock clock);
  const Entry* find(const TokenHash& hash) const;
  TokenInfo snapshot(const Entry& e) const;
  void add(TokenInfo info, const TokenHash& hash);

  std::unique_ptr<TokenStore> store_;
  Clock clock_;
  mutable std::shared_mutex mu_;
  std::map<int64_t, std::unique_ptr<Entry>> by_id_;
  // By the hash's first 8 bytes; the whole hash is compared in constant
  // time after.
  std::unordered_multimap<uint64_t, const Entry*> by_hash_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_TOKEN_REGISTRY_H_

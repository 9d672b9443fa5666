#include "access/token_registry.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>

#include "domain/names.h"
#include "hotswap/telemetry/log_format.h"
#include "store/results.h"

namespace hotswap::control {

namespace {

constexpr size_t kMaxNameLength = 128;

uint64_t prefix(const TokenHash& hash) {
  uint64_t out = 0;
  std::memcpy(&out, hash.data(), sizeof out);
  return out;
}

Error unauthenticated(std::string message) {
  return Error{ErrorCode::unauthenticated, std::move(message), {}};
}

std::string name_problem(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return "a token's name is 1-128 characters";
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) return "a token's name must be printable ASCII";
  }
  return {};
}

Result<void> check_new(const NewToken& t) {
  if (auto problem = name_problem(t.name); !problem.empty()) {
    return std::unexpected(invalid_argument("field 'name': " + problem));
  }
  if (t.kind == TokenKind::api && t.tenants.size() > 1) {
    return std::unexpected(invalid_argument("an API token is scoped to one tenant or to all"));
  }
  for (const std::string& tenant : t.tenants) {
    if (auto problem = check_name("tenant", tenant); !problem.empty()) {
      return std::unexpected(invalid_argument(problem));
    }
  }
  if (t.secret) {
    if (auto problem = token_shape_problem(*t.secret); !problem.empty()) {
      return std::unexpected(invalid_argument(problem));
    }
  }
  return {};
}

}  // namespace

TokenRegistry::TokenRegistry(std::unique_ptr<TokenStore> store, Clock clock)
    : store_(std::move(store)), clock_(std::move(clock)) {}

Result<std::unique_ptr<TokenRegistry>> TokenRegistry::open(std::unique_ptr<TokenStore> store,
                                                           Clock clock) {
  auto loaded = store->load();
  if (!loaded) return std::unexpected(from_store(loaded.error()));
  std::unique_ptr<TokenRegistry> registry(new TokenRegistry(std::move(store), std::move(clock)));
  for (auto& [info, hash] : *loaded) registry->add(std::move(info), hash);
  return registry;
}

Result<void> TokenRegistry::reload() {
  auto loaded = store_->load();
  if (!loaded) return std::unexpected(from_store(loaded.error()));
  std::unique_lock lock(mu_);
  for (auto& [info, hash] : *loaded) {
    auto it = by_id_.find(info.id);
    if (it == by_id_.end()) {
      add(std::move(info), hash);
      continue;
    }
    // Tokens change only by revocation (and expiry set at creation); the
    // last use this replica saw stays its own until flushed.
    it->second->info.revoked = info.revoked;
    it->second->info.expires_at = info.expires_at;
  }
  return {};
}

void TokenRegistry::add(TokenInfo info, const TokenHash& hash) {
  auto entry = std::make_unique<Entry>();
  entry->last_used = info.last_used.value_or(0);
  entry->info = std::move(info);
  entry->hash = hash;
  by_hash_.emplace(prefix(hash), entry.get());
  by_id_[entry->info.id] = std::move(entry);
}

const TokenRegistry::Entry* TokenRegistry::find(const TokenHash& hash) const {
  auto [begin, end] = by_hash_.equal_range(prefix(hash));
  for (auto it = begin; it != end; ++it) {
    if (same_hash(it->second->hash, hash)) return it->second;
  }
  return nullptr;
}

TokenInfo TokenRegistry::snapshot(const Entry& e) const {
  TokenInfo info = e.info;
  if (const UnixTime used = e.last_used.load(std::memory_order_relaxed); used != 0) {
    info.last_used = used;
  }
  return info;
}

Result<Principal> TokenRegistry::authenticate(std::string_view secret) const {
  if (auto problem = token_shape_problem(secret); !problem.empty()) {
    return std::unexpected(unauthenticated("malformed token: " + problem));
  }
  const TokenHash hash = hash_token(secret);
  std::shared_lock lock(mu_);
  const Entry* e = find(hash);
  if (e == nullptr) return std::unexpected(unauthenticated("unknown token"));
  if (e->info.revoked) {
    return std::unexpected(
        unauthenticated("token " + control::quoted(e->info.name) + " was revoked"));
  }
  const UnixTime now = clock_();
  if (e->info.expires_at && now >= *e->info.expires_at) {
    return std::unexpected(
        unauthenticated("token " + control::quoted(e->info.name) + " has expired"));
  }
  if (e->last_used.load(std::memory_order_relaxed) != now) {
    e->last_used.store(now, std::memory_order_relaxed);
    e->used_since_flush.store(true, std::memory_order_relaxed);
  }
  return e->info.principal();
}

Result<Principal> TokenRegistry::authenticate_header(std::string_view authorization) const {
  if (authorization.empty()) {
    return std::unexpected(
        unauthenticated("no token: send the header 'Authorization: Bearer <token>'"));
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return std::unexpected(
        unauthenticated("malformed Authorization header: expected 'Bearer <token>'"));
  }
  return authenticate(authorization.substr(kScheme.size()));
}

Result<CreatedToken> TokenRegistry::create(const NewToken& t) {
  if (auto ok = check_new(t); !ok) return std::unexpected(ok.error());
  CreatedToken created;
  if (t.secret) {
    created.secret = *t.secret;
  } else {
    auto secret = new_token_secret();
    if (!secret) return std::unexpected(secret.error());
    created.secret = std::move(*secret);
  }
  TokenInfo& info = created.info;
  info.name = t.name;
  info.kind = t.kind;
  info.role = t.kind == TokenKind::api ? t.role : Role::viewer;
  info.tenants = t.tenants;
  info.created_at = clock_();
  info.expires_at = t.expires_at;
  info.created_by = t.created_by;
  const TokenHash hash = hash_token(created.secret);
  std::unique_lock lock(mu_);
  auto id = store_->insert(info, hash);
  if (!id) return std::unexpected(from_store(id.error()));
  info.id = *id;
  add(info, hash);
  return created;
}

std::vector<TokenInfo> TokenRegistry::list() const {
  std::shared_lock lock(mu_);
  std::vector<TokenInfo> out;
  for (const auto& [id, e] : by_id_) out.push_back(snapshot(*e));
  return out;
}

Result<TokenInfo> TokenRegistry::get(int64_t id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return std::unexpected(not_found("token " + std::to_string(id) + " not found"));
  }
  return snapshot(*it->second);
}

Result<TokenInfo> TokenRegistry::revoke(int64_t id) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return std::unexpected(not_found("token " + std::to_string(id) + " not found"));
  }
  if (!it->second->info.revoked) {
    if (auto done = store_->revoke(id); !done) return std::unexpected(from_store(done.error()));
    it->second->info.revoked = true;
  }
  return snapshot(*it->second);
}

bool TokenRegistry::has_api_tokens() const {
  std::shared_lock lock(mu_);
  for (const auto& [id, e] : by_id_) {
    if (e->info.kind == TokenKind::api) return true;
  }
  return false;
}

bool TokenRegistry::knows(std::string_view secret) const {
  std::shared_lock lock(mu_);
  return find(hash_token(secret)) != nullptr;
}

void TokenRegistry::flush_last_used() {
  std::vector<std::pair<int64_t, UnixTime>> used;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, e] : by_id_) {
      if (e->used_since_flush.exchange(false, std::memory_order_relaxed)) {
        used.emplace_back(id, e->last_used.load(std::memory_order_relaxed));
      }
    }
  }
  if (used.empty()) return;
  // Not retried: last_used is a hint, and the next use sets it again.
  if (auto done = store_->touch(used); !done) {
    spdlog::warn("event=token_last_used_failed error=\"{}\"",
                 telemetry::escape_quoted(done.error().message));
  }
}

}  // namespace hotswap::control

#include "access/token_store.h"

#include "store/sql_db.h"

namespace hotswap::control {

using sql::Db;
using sql::Statement;

namespace {

std::string join(const std::vector<std::string>& tenants) {
  std::string out;
  for (const std::string& t : tenants) out += (out.empty() ? "" : ",") + t;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TokenHash unhex(const std::string& text) {
  TokenHash hash{};
  for (size_t i = 0; i < hash.size() && 2 * i + 1 < text.size(); ++i) {
    hash[i] = static_cast<uint8_t>(std::stoi(text.substr(2 * i, 2), nullptr, 16));
  }
  return hash;
}

std::pair<TokenInfo, TokenHash> read_token(Statement& row) {
  TokenInfo t;
  t.id = row.int64(0);
  t.name = row.text(1);
  t.kind = parse_as<TokenKind>(row.text(2)).value_or(TokenKind::api);
  t.role = parse_as<Role>(row.text(3)).value_or(Role::viewer);
  t.tenants = split(row.text(4));
  t.created_at = row.int64(6);
  if (row.int64(7) != 0) t.expires_at = row.int64(7);
  t.revoked = row.int64(8) != 0;
  t.created_by = row.text(9);
  if (row.int64(10) != 0) t.last_used = row.int64(10);
  return {std::move(t), unhex(row.text(5))};
}

}  // namespace

TokenStore::TokenStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}
TokenStore::~TokenStore() = default;

StoreResult<std::unique_ptr<TokenStore>> TokenStore::open(const std::string& path) {
  auto db = Db::open(path);
  if (!db) return std::unexpected(std::move(db.error()));
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(*db)));
}

StoreResult<std::vector<std::pair<TokenInfo, TokenHash>>> TokenStore::load() {
  return db_->read([](Db& db) {
    return db
        .prepare(
            "SELECT id, name, kind, role, tenants, hash, created_at, expires_at, revoked, "
            "created_by, last_used FROM tokens ORDER BY id")
        .all(read_token);
  });
}

StoreResult<int64_t> TokenStore::insert(const TokenInfo& t, const TokenHash& hash) {
  return db_->write([&](Db& db) -> StoreResult<int64_t> {
    auto same = db.prepare("SELECT COUNT(*) FROM tokens WHERE hash = ?1", hash_hex(hash)).scalar();
    if (!same) return std::unexpected(std::move(same.error()));
    if (*same > 0) return sql::fail(StoreErrorCode::already_exists, "this token exists");
    return db
        .prepare(
            "INSERT INTO tokens (name, kind, role, tenants, hash, created_at, expires_at, "
            "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            t.name, to_string(t.kind), to_string(t.role), join(t.tenants), hash_hex(hash),
            t.created_at, t.expires_at.value_or(0), t.created_by)
        .scalar();
  });
}

StoreResult<void> TokenStore::revoke(int64_t id) {
  return db_->write([&](Db& db) {
    return sql::require_change(db.exec("UPDATE tokens SET revoked = 1 WHERE id = ?1", id),
                               "token " + std::to_string(id) + " not found");
  });
}

StoreResult<void> TokenStore::touch(const std::vector<std::pair<int64_t, UnixTime>>& used) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    for (const auto& [id, at] : used) {
      HOTSWAP_RETURN_IF_ERROR(db.exec("UPDATE tokens SET last_used = ?2 WHERE id = ?1", id, at));
    }
    return {};
  });
}

}  // namespace hotswap::control

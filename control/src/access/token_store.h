// Tokens in the SQLite file (table `tokens`, schema migration 6), through a
// connection of their own so that the catalogue's Store interface does not
// grow. Each call is one transaction. Only SHA-256 hashes are stored.
#ifndef HOTSWAP_CONTROL_ACCESS_TOKEN_STORE_H_
#define HOTSWAP_CONTROL_ACCESS_TOKEN_STORE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "access/token_info.h"
#include "access/token_secret.h"
#include "store/store.h"

namespace hotswap::control {

namespace sql {
class Db;
}  // namespace sql

class TokenStore {
 public:
  // Opens the database SqlStore::open has created and migrated (a file or
  // a postgres:// URL: sql_db.h).
  static StoreResult<std::unique_ptr<TokenStore>> open(const std::string& path);
  ~TokenStore();

  // Every token, revoked and expired ones too, with its hash.
  StoreResult<std::vector<std::pair<TokenInfo, TokenHash>>> load();
  // Stores `token` (its id ignored) and returns the id given to it;
  // already_exists when a token with this hash exists.
  StoreResult<int64_t> insert(const TokenInfo& token, const TokenHash& hash);
  // not_found when no token has this id.
  StoreResult<void> revoke(int64_t id);
  // Sets last_used of each (id, time) in one transaction.
  StoreResult<void> touch(const std::vector<std::pair<int64_t, UnixTime>>& used);

 private:
  explicit TokenStore(std::unique_ptr<sql::Db> db);
  std::unique_ptr<sql::Db> db_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_TOKEN_STORE_H_

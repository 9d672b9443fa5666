// What key rotation needs of a store: how many secret values are sealed
// under each key id, and re-sealing under the primary key a few rows at a
// time, each batch its own short transaction so reads and writes go on
// between batches.
#ifndef HOTSWAP_CONTROL_STORE_SECRET_ROWS_H_
#define HOTSWAP_CONTROL_STORE_SECRET_ROWS_H_

#include <cstdint>
#include <map>
#include <string>

#include "store/store.h"

namespace hotswap::control {

class SecretRows {
 public:
  virtual ~SecretRows() = default;
  // Secret values (draft and version entries) per key id.
  virtual StoreResult<std::map<std::string, int64_t>> secret_counts() = 0;
  // Re-seals the secrets of at most `max_rows` rows (draft entries and
  // versions) not yet under the primary key, in one transaction; returns
  // how many values it re-sealed, 0 when none is left.
  virtual StoreResult<int64_t> reseal_batch(int max_rows) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_SECRET_ROWS_H_

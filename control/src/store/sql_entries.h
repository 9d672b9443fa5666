// How a SQLite row stores entries: a draft row's value, and a version's
// entries as one JSON document. Secret values are sealed (secrets/) bound
// to their namespace, version (0: the draft) and key, under the ring's
// primary key, whose id the row names; read back they open to plain text.
#ifndef HOTSWAP_CONTROL_STORE_SQL_ENTRIES_H_
#define HOTSWAP_CONTROL_STORE_SQL_ENTRIES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/types.h"
#include "secrets/secret_box.h"
#include "store/sql_db.h"
#include "store/store.h"

namespace hotswap::control::sql {

// A value as a row stores it: plain text, or sealed text and the id of
// the key it is under ("" for a plain value).
struct StoredValue {
  std::string text;
  std::string key_id;
};

// A version's entries as its row stores them.
struct EncodedEntries {
  std::string text;    // {"key": ["type", "text"] | ["type", "sealed", true], ...}
  std::string key_id;  // of every sealed value; "" when none
  int64_t secrets = 0;
};

// The value of a stored entry; an error naming the key if its type is not
// one this build knows.
StoreResult<TypedValue> stored_value(Db& db, std::string_view key, std::string_view type,
                                     std::string text);

// `plain` sealed at `place` under `ring`'s primary; internal (naming the
// key, never the value) without a ring or when sealing fails.
StoreResult<secrets::Sealed> seal_with(Db& db, const secrets::KeyRing* ring,
                                       const secrets::Place& place, std::string_view plain);
// `value` as a row at `place` stores it.
StoreResult<StoredValue> store_value(Db& db, const secrets::SecretBox* box,
                                     const secrets::Place& place, const TypedValue& value);
// The plain text of a stored value (`key_id` "" for a plain one);
// internal, naming the key and the key id, when it does not open.
StoreResult<std::string> read_value(Db& db, const secrets::SecretBox* box,
                                    const secrets::Place& place, std::string text,
                                    std::string_view key_id);

// A version's entries as its row stores them.
StoreResult<EncodedEntries> encode_entries(Db& db, const secrets::SecretBox* box,
                                           const NamespaceId& id, uint64_t number,
                                           const Entries& entries);
// And back; `key_id` is the row's.
StoreResult<Entries> decode_entries(Db& db, const secrets::SecretBox* box, const NamespaceId& id,
                                    uint64_t number, const std::string& text,
                                    std::string_view key_id);

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQL_ENTRIES_H_

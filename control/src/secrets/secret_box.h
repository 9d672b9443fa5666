// Seals and opens secret entry values under the master key ring. A value
// is bound to its place: the key id, the namespace, the version (0 for
// the draft) and the entry's key are its associated data, so a sealed
// value copied into another row, version or namespace does not open.
// Thread-safe; the ring can be re-read (key rotation) while in use.
#ifndef HOTSWAP_CONTROL_SECRETS_SECRET_BOX_H_
#define HOTSWAP_CONTROL_SECRETS_SECRET_BOX_H_

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/key_ring.h"

namespace hotswap::control::secrets {

// Where a value lives.
struct Place {
  std::string_view ns;   // "tenant/name"
  uint64_t version = 0;  // 0: the draft
  std::string_view key;
};

// A sealed value as stored: the id of the key it is under and base64 of
// nonce | ciphertext | tag.
struct Sealed {
  std::string key_id;
  std::string text;
};

// Seals `plaintext` at `place` under `ring`'s primary key.
std::expected<Sealed, std::string> seal_value(const KeyRing& ring, std::string_view plaintext,
                                              const Place& place);
// Opens a sealed value; an error naming the key id when `ring` lacks it or
// the value does not open there (changed, moved, or other key bytes).
// `source` names the ring in that error.
std::expected<std::string, std::string> open_value(const KeyRing& ring, const Sealed& sealed,
                                                   const Place& place, std::string_view source);

class SecretBox {
 public:
  // Reads the ring (again on reload()); `source` names where from in logs
  // and errors ("master key file '...'", "HOTSWAP_MASTER_KEY").
  using Loader = std::function<std::expected<KeyRing, std::string>()>;

  // The box over what `loader` returns now, or its error.
  static std::expected<std::shared_ptr<SecretBox>, std::string> load(Loader loader,
                                                                     std::string source);

  // Under the primary key.
  std::expected<Sealed, std::string> seal(std::string_view plaintext, const Place& place) const;
  // An error naming the key id when the ring lacks it or the value does
  // not open there (changed, moved, or sealed under other key bytes).
  std::expected<std::string, std::string> open(const Sealed& sealed, const Place& place) const;

  // The ring now: what a caller sealing several values uses for all of
  // them, so they share one key id even across a reload.
  std::shared_ptr<const KeyRing> ring() const;
  std::string primary_id() const;
  std::vector<std::string> key_ids() const;
  const std::string& source() const { return source_; }
  // Re-reads the ring; on error keeps the one it has.
  std::expected<void, std::string> reload();

 private:
  SecretBox(Loader loader, std::string source, std::shared_ptr<const KeyRing> ring);

  Loader loader_;
  std::string source_;
  mutable std::mutex mu_;
  std::shared_ptr<const KeyRing> ring_;
};

}  // namespace hotswap::control::secrets

#endif  // HOTSWAP_CONTROL_SECRETS_SECRET_BOX_H_

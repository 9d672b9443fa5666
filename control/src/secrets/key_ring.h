// Master keys: a ring of 256-bit keys, each with an id, one of them
// primary (new values are sealed under it; the others still open what
// they sealed). Read from a key file or from one environment value.
#ifndef HOTSWAP_CONTROL_SECRETS_KEY_RING_H_
#define HOTSWAP_CONTROL_SECRETS_KEY_RING_H_

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/aes_gcm.h"

namespace hotswap::control::secrets {

struct MasterKey {
  std::string id;  // 1-64 of [A-Za-z0-9._-]
  Key key;
};

class KeyRing {
 public:
  // `keys` non-empty with distinct ids, `primary` one of them (checked by
  // the parsers below).
  KeyRing(std::vector<MasterKey> keys, std::string primary);

  // The key of `id`, or null.
  const MasterKey* find(std::string_view id) const;
  const MasterKey& primary() const { return *find(primary_); }
  const std::vector<MasterKey>& keys() const { return keys_; }

 private:
  std::vector<MasterKey> keys_;
  std::string primary_;
};

// A key file: one key per line, `ID BASE64-OF-32-BYTES [primary]`; blank
// lines and lines starting with '#' ignored. One key is primary by itself;
// of several, exactly one line says `primary`. `source` names the file in
// errors, which name the line but never echo key material.
std::expected<KeyRing, std::string> parse_key_file(std::string_view text, std::string_view source);
// The key file at `path`, refused when group or others may read or write it.
std::expected<KeyRing, std::string> load_key_file(const std::string& path);
// One key from an environment value `[ID:]BASE64` (id "env" when absent).
std::expected<KeyRing, std::string> parse_key_value(std::string_view value,
                                                    std::string_view source);

}  // namespace hotswap::control::secrets

#endif  // HOTSWAP_CONTROL_SECRETS_KEY_RING_H_

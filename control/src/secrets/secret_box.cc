#include "secrets/secret_box.h"

namespace hotswap::control::secrets {
namespace {

// The associated data: a fixed label, then each part with its length, so
// no two places spell the same bytes.
std::string associated_data(std::string_view key_id, const Place& place) {
  const std::string version = std::to_string(place.version);
  std::string out = "hotswap-secret-v1";
  for (std::string_view part : {key_id, place.ns, std::string_view(version), place.key}) {
    out += '\n';
    out += std::to_string(part.size());
    out += ':';
    out += part;
  }
  return out;
}

}  // namespace

std::expected<Sealed, std::string> seal_value(const KeyRing& ring, std::string_view plaintext,
                                              const Place& place) {
  const MasterKey& key = ring.primary();
  auto sealed = seal(key.key, associated_data(key.id, place), plaintext);
  if (!sealed) return std::unexpected(sealed.error());
  return Sealed{key.id, to_base64(*sealed)};
}

std::expected<std::string, std::string> open_value(const KeyRing& ring, const Sealed& sealed,
                                                   const Place& place, std::string_view source) {
  const MasterKey* key = ring.find(sealed.key_id);
  if (key == nullptr) {
    return std::unexpected("secret '" + std::string(place.key) + "' is sealed under key '" +
                           sealed.key_id + "', which " + std::string(source) + " does not hold");
  }
  auto raw = from_base64(sealed.text);
  if (!raw) return std::unexpected("secret '" + std::string(place.key) + "': " + raw.error());
  auto plain = open(key->key, associated_data(key->id, place), *raw);
  if (!plain) {
    return std::unexpected("secret '" + std::string(place.key) + "' under key '" + key->id +
                           "': " + plain.error());
  }
  return plain;
}

SecretBox::SecretBox(Loader loader, std::string source, std::shared_ptr<const KeyRing> ring)
    : loader_(std::move(loader)), source_(std::move(source)), ring_(std::move(ring)) {}

std::expected<std::shared_ptr<SecretBox>, std::string> SecretBox::load(Loader loader,
                                                                       std::string source) {
  auto ring = loader();
  if (!ring) return std::unexpected(ring.error());
  auto shared = std::make_shared<const KeyRing>(std::move(*ring));
  return std::shared_ptr<SecretBox>(new SecretBox(std::move(loader), std::move(source), shared));
}

std::shared_ptr<const KeyRing> SecretBox::ring() const {
  std::lock_guard lock(mu_);
  return ring_;
}

std::expected<Sealed, std::string> SecretBox::seal(std::string_view plaintext,
                                                   const Place& place) const {
  return seal_value(*ring(), plaintext, place);
}

std::expected<std::string, std::string> SecretBox::open(const Sealed& sealed,
                                                        const Place& place) const {
  return open_value(*ring(), sealed, place, source_);
}

std::string SecretBox::primary_id() const {
  return ring()->primary().id;
}

std::vector<std::string> SecretBox::key_ids() const {
  std::vector<std::string> ids;
  for (const MasterKey& k : ring()->keys()) ids.push_back(k.id);
  return ids;
}

std::expected<void, std::string> SecretBox::reload() {
  auto ring = loader_();
  if (!ring) return std::unexpected(ring.error());
  auto shared = std::make_shared<const KeyRing>(std::move(*ring));
  std::lock_guard lock(mu_);
  ring_ = std::move(shared);
  return {};
}

}  // namespace hotswap::control::secrets

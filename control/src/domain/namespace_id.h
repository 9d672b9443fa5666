// The id of a namespace: a tenant and a name, both valid names. Parsed and
// checked once where it enters control (a REST path, an RPC message, a
// request body) and carried as this type everywhere inside, so nothing
// joins, splits or checks "tenant/name" again.
#ifndef HOTSWAP_CONTROL_DOMAIN_NAMESPACE_ID_H_
#define HOTSWAP_CONTROL_DOMAIN_NAMESPACE_ID_H_

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

#include "domain/error.h"

namespace hotswap::control {

class NamespaceId {
 public:
  // Empty (no tenant, no name): a placeholder in a value being filled in.
  NamespaceId() = default;

  // "tenant/name"; invalid_argument naming what is wrong otherwise (no
  // '/', more than one, or a part that is not a valid name).
  static Result<NamespaceId> parse(std::string_view id);
  // From its parts; invalid_argument naming the part that is not valid.
  static Result<NamespaceId> of(std::string_view tenant, std::string_view name);
  // An id the store read back: it holds only ids checked on the way in.
  static NamespaceId trusted(std::string_view tenant, std::string_view name);
  // The same from "tenant/name" (split at the first '/').
  static NamespaceId trusted(std::string_view id);

  std::string_view tenant() const { return std::string_view(id_).substr(0, slash_); }
  std::string_view name() const { return std::string_view(id_).substr(slash_ + 1); }
  // "tenant/name", as the API and the wire spell it.
  const std::string& str() const { return id_; }

  friend bool operator==(const NamespaceId& a, const NamespaceId& b) { return a.id_ == b.id_; }
  // Ordered as the "tenant/name" strings are (a total order for maps and
  // sets; not the order of (tenant, name) pairs, as '-' sorts below '/').
  friend std::strong_ordering operator<=>(const NamespaceId& a, const NamespaceId& b) {
    return a.id_ <=> b.id_;
  }

 private:
  NamespaceId(std::string_view tenant, std::string_view name);

  std::string id_ = "/";
  size_t slash_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_NAMESPACE_ID_H_

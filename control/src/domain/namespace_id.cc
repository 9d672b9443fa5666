#include "domain/namespace_id.h"

#include <algorithm>

#include "domain/names.h"

namespace hotswap::control {

NamespaceId::NamespaceId(std::string_view tenant, std::string_view name)
    : id_(std::string(tenant) + "/" + std::string(name)), slash_(tenant.size()) {}

Result<NamespaceId> NamespaceId::of(std::string_view tenant, std::string_view name) {
  if (auto ok = check(check_name("tenant", tenant)); !ok) return std::unexpected(ok.error());
  if (auto ok = check(check_name("namespace", name)); !ok) return std::unexpected(ok.error());
  return NamespaceId(tenant, name);
}

Result<NamespaceId> NamespaceId::parse(std::string_view id) {
  const auto slash = id.find('/');
  if (slash == std::string_view::npos || id.find('/', slash + 1) != std::string_view::npos) {
    return std::unexpected(
        invalid_argument("namespace '" + std::string(id) + "' must be of the form tenant/name"));
  }
  return of(id.substr(0, slash), id.substr(slash + 1));
}

NamespaceId NamespaceId::trusted(std::string_view tenant, std::string_view name) {
  return NamespaceId(tenant, name);
}

NamespaceId NamespaceId::trusted(std::string_view id) {
  const auto slash = std::min(id.find('/'), id.size());
  return NamespaceId(id.substr(0, slash), id.substr(std::min(slash + 1, id.size())));
}

}  // namespace hotswap::control

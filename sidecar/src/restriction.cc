#include "restriction.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace hotswap::sidecar {
namespace {

Error bad(const std::string& flag, const std::string& why) {
  return Error{ErrorCode::invalid_argument, "--restricted '" + flag + "': " + why};
}

std::optional<gid_t> numeric_group(const std::string& text) {
  gid_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

std::optional<gid_t> named_group(const std::string& name) {
  std::vector<char> buf(16384);
  group entry{};
  group* found = nullptr;
  if (::getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return found->gr_gid;
}

// chown(2) lets an owner give a file only a group it belongs to.
bool may_use(gid_t group) {
  if (::geteuid() == 0 || ::getegid() == group) return true;
  const int count = ::getgroups(0, nullptr);
  if (count <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  const int got = ::getgroups(count, groups.data());
  return got > 0 && std::find(groups.begin(), groups.begin() + got, group) != groups.begin() + got;
}

}  // namespace

std::expected<Restriction, Error> parse_restriction(const std::string& flag,
                                                    const std::vector<std::string>& subscribed) {
  const auto eq = flag.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
    return std::unexpected(bad(flag, "expected NAMESPACE=GROUP"));
  }
  Restriction r{flag.substr(0, eq), 0};
  const std::string group = flag.substr(eq + 1);
  if (std::find(subscribed.begin(), subscribed.end(), r.ns) == subscribed.end()) {
    return std::unexpected(bad(flag, "namespace " + r.ns + " is not in --namespaces"));
  }
  auto id = numeric_group(group);
  if (!id) id = named_group(group);
  if (!id) return std::unexpected(bad(flag, "no group named " + group));
  if (!may_use(*id)) {
    return std::unexpected(bad(flag, "this process may not give files group " + group +
                                         " (it is not a member)"));
  }
  r.group = *id;
  return r;
}

}  // namespace hotswap::sidecar

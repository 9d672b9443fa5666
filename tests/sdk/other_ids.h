// Child processes that act as other users and groups, for tests of what
// segment permissions let another tenant do. Root gets them by forking;
// anyone else through a user namespace over their subordinate ids, so the
// tests run (and never skip) without root.
#ifndef HOTSWAP_TESTS_SDK_OTHER_IDS_H_
#define HOTSWAP_TESTS_SDK_OTHER_IDS_H_

#include <sys/types.h>

#include <expected>
#include <functional>
#include <string>

namespace hotswap::test {

// The highest user and group id a body of run_with_other_ids may take.
inline constexpr unsigned kHighestOtherId = 4243;

// Runs `body` in a child process that is root over user and group ids 0
// to kHighestOtherId: a plain child when this process runs as root; else a
// child in a new user namespace where the running user is root (id 0) and
// ids 1 and up are the user's subordinate ids (/etc/subuid, /etc/subgid),
// mapped by newuidmap and newgidmap (Debian package uidmap). Returns what
// `body` returned (empty: its checks held; else what failed), or an error
// naming what this machine lacks to make such a child.
std::expected<std::string, std::string> run_with_other_ids(
    const std::function<std::string()>& body);

// Runs `check` in a child process with user `uid`, group `gid` and no
// supplementary groups; its exit code, or -1 if it could not take the ids.
// For use inside a body of run_with_other_ids.
int exit_code_as(uid_t uid, gid_t gid, const std::function<int()>& check);

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_SDK_OTHER_IDS_H_

// Which control replica holds the leader lease, asked of PostgreSQL itself:
// the lease's session is named "hotswap-lease:<replica>" (docs/operations.md,
// "Replicas"), so the test needs nothing of control to know.
#ifndef HOTSWAP_TESTS_INTEGRATION_REPLICA_LEADER_H_
#define HOTSWAP_TESTS_INTEGRATION_REPLICA_LEADER_H_

#include <string>

#include "hotswap/harness/postgres_server.h"
#include "store/postgres_connection.h"

namespace hotswap::test {

// The leading replica's name in `database`; "" while none leads.
inline std::string leader_replica(const PostgresServer& postgres, const std::string& database) {
  return postgres.query(
      database,
      "SELECT substr(a.application_name, 15) FROM pg_locks l JOIN pg_stat_activity a "
      "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND "
      "((l.classid::bigint << 32) | l.objid::bigint) = " +
          std::to_string(control::sql::kLeaderLockKey));
}

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_INTEGRATION_REPLICA_LEADER_H_

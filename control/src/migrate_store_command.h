// `hotswap-control migrate-store`: the copy of a SQLite store into an
// empty PostgreSQL database (store/store_copy.h), with the audit chain
// verified on the target and a summary on stdout. A subcommand of control
// rather than a tool of its own: it copies only a store at the schema of
// the build that runs it, and the controls to start on PostgreSQL are the
// same build.
#ifndef HOTSWAP_CONTROL_MIGRATE_STORE_COMMAND_H_
#define HOTSWAP_CONTROL_MIGRATE_STORE_COMMAND_H_

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace hotswap::control {

struct MigrateStoreFlags {
  std::string from;  // sqlite:PATH
  std::string to;    // postgres://...
};

// Adds the subcommand to `app`, its flags bound to `flags`; the returned
// subcommand converts to true when the command line chose it.
CLI::App* add_migrate_store_command(CLI::App& app, MigrateStoreFlags& flags);

// Copies, verifies and prints the summary; the process's exit code (0
// copied and verified, 1 refused or failed, the reason on stderr).
int run_migrate_store(const MigrateStoreFlags& flags);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_MIGRATE_STORE_COMMAND_H_

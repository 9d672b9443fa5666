// hotswap-control: the central service. One SQLite file under --data-dir,
// the REST API for release tooling, and the RPC port sidecars attach to.
// `hotswap-control migrate-store` copies a SQLite store into PostgreSQL
// instead (migrate_store_command.h).
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <kj/async-unix.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "access/bootstrap.h"
#include "access/token_registry.h"
#include "approval/approval_service.h"
#include "audit/audit_log.h"
#include "catalog/catalog_service.h"
#include "domain/values.h"
#include "fleet/fleet_service.h"
#include "fleet/redis_liveness.h"
#include "health/health_ingest.h"
#include "health/health_windows.h"
#include "health/redis_health_windows.h"
#include "hotswap/protocol/kj_tls.h"
#include "hotswap/protocol/tls_files.h"
#include "hotswap/telemetry/log_format.h"
#include "metrics/control_metrics.h"
#include "migrate_store_command.h"
#include "notify/webhooks.h"
#include "replica/replication.h"
#include "rest/http_api.h"
#include "rollout/rollout_engine.h"
#include "rollout/rollout_gate.h"
#include "rpc/rpc_server.h"
#include "secrets/key_rotation.h"
#include "secrets/secret_box.h"
#include "store/postgres_connection.h"
#include "store/sql_approval_store.h"
#include "store/sql_db.h"
#include "store/sql_store.h"
#include "store/sqlite_wal_preallocation.h"

namespace {

using namespace hotswap::control;

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Splits "host:port"; port 0 means any free port.
bool split_address(const std::string& address, std::string& host, int& port) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  host = address.substr(0, colon);
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return false;
  }
  return port >= 0 && port <= 65535 && !host.empty();
}

// Runs `tick` every `period` on the event loop.
kj::Promise<void> every(kj::Timer& timer, std::chrono::milliseconds period,
                        std::function<void()> tick) {
  return timer.afterDelay(period.count() * kj::MILLISECONDS).then([&timer, period, tick]() {
    tick();
    return every(timer, period, tick);
  });
}

// Connections need a descriptor each: take every one the hard limit allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void add_ms_option(CLI::App& app, const std::string& name, std::chrono::milliseconds& value,
                   const std::string& what) {
  app.add_option_function<int64_t>(
         name, [&value](int64_t ms) { value = std::chrono::milliseconds(ms); }, what)
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000))
      ->default_str(std::to_string(value.count()));
}

void add_http_flags(CLI::App& app, HttpServer::Options& http) {
  app.add_option("--max-body-bytes", http.max_body_bytes, "largest accepted request body")
      ->capture_default_str();
  app.add_option("--http-max-connections", http.max_connections,
                 "REST connections open at once at most; beyond it new ones get 503")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24))
      ->capture_default_str();
  app.add_option("--http-max-header-bytes", http.max_header_bytes,
                 "largest request line and header fields together (431 beyond)")
      ->check(CLI::Range(size_t{256}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--http-max-header-fields", http.max_header_fields,
                 "most header fields in a request (431 beyond)")
      ->check(CLI::Range(size_t{1}, size_t{10000}))
      ->capture_default_str();
  add_ms_option(app, "--http-header-timeout-ms", http.header_timeout,
                "from a request's first byte to the end of its header (408 after)");
  add_ms_option(app, "--http-body-timeout-ms", http.body_timeout,
                "from the end of a request's header to the end of its body (408 after)");
  add_ms_option(app, "--http-idle-timeout-ms", http.idle_timeout,
                "an idle keep-alive connection is closed after this long");
  app.add_option("--http-threads", http.handler_threads,
                 "threads that run REST handlers (the I/O of all connections runs on one more)")
      ->check(CLI::Range(size_t{1}, size_t{256}))
      ->capture_default_str();
}

void add_rate_limit_flags(CLI::App& app, RateLimiter::Options& limit) {
  app.add_option("--rate-limit-per-s", limit.rate.per_second,
                 "REST requests per second per token (per client address without one); beyond "
                 "the burst they get 429 with Retry-After; 0 turns the limit off")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--rate-burst", limit.rate.burst,
                 "requests a token may send at once before --rate-limit-per-s applies")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  app.add_option("--rate-limit-keys", limit.max_keys,
                 "callers whose buckets are kept at most (idle ones are forgotten first)")
      ->check(CLI::Range(size_t{16}, size_t{1} << 24))
      ->capture_default_str();
}

void add_health_flags(CLI::App& app, HealthWindows::Options& health) {
  app.add_option_function<std::string>(
         "--health-retention",
         [&health](const std::string& text) {
           const auto ns = hotswap::control::parse_duration(text);
           if (!ns || *ns < 60'000'000'000 || *ns > int64_t{7} * 24 * 3'600'000'000'000) {
             throw CLI::ValidationError("--health-retention",
                                        "must be a duration from 1m to 168h, got '" + text + "'");
           }
           health.retention = std::chrono::milliseconds(*ns / 1'000'000);
         },
         "how long health report windows are kept (1m-168h)")
      ->default_str("1h");
  app.add_option("--health-max-windows", health.max_windows,
                 "health report windows held at most, oldest dropped first (about 360 bytes "
                 "each)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 32))
      ->capture_default_str();
}

void add_audit_flags(CLI::App& app, AuditLog::Options& audit) {
  app.add_option_function<std::string>(
         "--audit-retention",
         [&audit](const std::string& text) {
           const auto ns = hotswap::control::parse_duration(text);
           if (!ns || *ns < 1'000'000'000) {
             throw CLI::ValidationError("--audit-retention",
                                        "must be a duration of at least 1s (e.g. 61362h, 7 "
                                        "years), got '" +
                                            text + "'");
           }
           audit.retention = std::chrono::milliseconds(*ns / 1'000'000);
         },
         "audit rows older than this are pruned from the start of the log")
      ->default_str("61362h");
}

// This host's name ("localhost" when it has none).
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

struct Flags {
  std::string data_dir = env_or("HOTSWAP_DATA_DIR", "hotswap-data");
  // Where the durable state lives: "sqlite:PATH" or a postgres:// URL;
  // empty for the SQLite file in the data directory.
  std::string store = env_or("HOTSWAP_STORE", "");
  // This replica's name among those sharing a PostgreSQL store (default:
  // host:pid).
  std::string replica_id = env_or("HOTSWAP_REPLICA_ID", "");
  int64_t leader_lease_interval_ms = 500;
  std::string http_listen = env_or("HOTSWAP_HTTP_LISTEN", "127.0.0.1:7700");
  std::string rpc_listen = env_or("HOTSWAP_RPC_LISTEN", "127.0.0.1:7701");
  int64_t heartbeat_ms = 5000;
  int64_t instance_ttl_s = 15;
  int64_t instance_expiry_s = 3600;
  int64_t deployment_timeout_s = 300;
  size_t snapshot_cache_bytes = size_t{64} << 20;
  // SQLite only (store/sqlite_wal_preallocation.h).
  int64_t sqlite_wal_preallocate_mb = 16;
  HttpServer::Options http;
  // Per caller; a rate of 0 turns the limit off (docs/limits.md).
  RateLimiter::Options rate_limit{.rate = {.per_second = 2000, .burst = 4000}, .max_keys = 100000};
  size_t max_pushes_in_flight = 1024;
  size_t stage_ahead_max_nodes = 16;
  int64_t rollout_interval_ms = 200;
  HealthWindows::Options health;
  // Empty: health windows in memory (one control); else redis://... shared
  // by every replica.
  std::string redis = env_or("HOTSWAP_REDIS", "");
  AuditLog::Options audit;
  std::string log_level = env_or("HOTSWAP_LOG_LEVEL", "info");
  std::string log_format = env_or("HOTSWAP_LOG_FORMAT", "text");
  std::string master_key_file = env_or("HOTSWAP_MASTER_KEY_FILE", "");
  WebhookOptions notify;
  std::string tls_cert = env_or("HOTSWAP_TLS_CERT", "");
  std::string tls_key = env_or("HOTSWAP_TLS_KEY", "");
  std::string tls_client_ca = env_or("HOTSWAP_TLS_CLIENT_CA", "");
  std::chrono::milliseconds tls_handshake_timeout{10'000};
};

void add_tls_flags(CLI::App& app, Flags& flags) {
  app.add_option("--tls-cert", flags.tls_cert,
                 "PEM certificate chain (leaf first): TLS on the REST and RPC ports "
                 "(HOTSWAP_TLS_CERT; with --tls-key)");
  app.add_option("--tls-key", flags.tls_key,
                 "PEM private key of --tls-cert, unencrypted (HOTSWAP_TLS_KEY)");
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "PEM CA certificates: clients of both ports must present a certificate one of "
                 "them signed (mutual TLS; HOTSWAP_TLS_CLIENT_CA)");
  add_ms_option(app, "--tls-handshake-timeout-ms", flags.tls_handshake_timeout,
                "a TLS connection whose handshake has not ended after this long is closed");
}

// The TLS files, read and checked; nullopt when TLS is off. Refuses a
// half-given pair and a client CA without TLS.
std::expected<std::optional<HttpServer::Options::Tls>, std::string> tls_files(const Flags& flags) {
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return std::unexpected("--tls-cert and --tls-key go together");
  }
  if (flags.tls_cert.empty()) {
    if (!flags.tls_client_ca.empty()) return std::unexpected("--tls-client-ca needs --tls-cert");
    return std::nullopt;
  }
  auto identity = hotswap::protocol::load_tls_identity(flags.tls_cert, flags.tls_key);
  if (!identity) return std::unexpected(identity.error());
  HttpServer::Options::Tls tls{std::move(identity->cert_pem), std::move(identity->key_pem), {}};
  if (!flags.tls_client_ca.empty()) {
    auto cas = hotswap::protocol::load_tls_ca(flags.tls_client_ca);
    if (!cas) return std::unexpected(cas.error());
    tls.client_ca_pems = std::move(*cas);
  }
  return tls;
}

// The master keys: from the key file, else from HOTSWAP_MASTER_KEY, else
// none (null). The file is read again at each key rotation.
std::expected<std::shared_ptr<secrets::SecretBox>, std::string> master_keys(const Flags& flags) {
  const char* env = std::getenv("HOTSWAP_MASTER_KEY");
  const bool has_env = env != nullptr && *env != '\0';
  if (!flags.master_key_file.empty() && has_env) {
    return std::unexpected(
        "both --master-key-file and HOTSWAP_MASTER_KEY are set; give one of them");
  }
  if (!flags.master_key_file.empty()) {
    const std::string path = flags.master_key_file;
    return secrets::SecretBox::load([path] { return secrets::load_key_file(path); },
                                    "master key file '" + path + "'");
  }
  if (has_env) {
    const std::string value = env;
    return secrets::SecretBox::load(
        [value] { return secrets::parse_key_value(value, "HOTSWAP_MASTER_KEY"); },
        "HOTSWAP_MASTER_KEY");
  }
  return nullptr;
}

void add_notify_flags(CLI::App& app, WebhookOptions& notify) {
  app.add_option("--notify-url", notify.urls,
                 "URL to POST each event to (approvals, promotions, rollbacks, completions); "
                 "repeatable")
      ->envname("HOTSWAP_NOTIFY_URL");
  app.add_option("--notify-secret", notify.secret,
                 "HMAC-SHA256 key that signs notifications (prefer HOTSWAP_NOTIFY_SECRET: "
                 "flags show in ps)")
      ->envname("HOTSWAP_NOTIFY_SECRET");
  app.add_option("--notify-max-attempts", notify.max_attempts,
                 "attempts per notification and URL before it is given up")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  add_ms_option(app, "--notify-backoff-ms", notify.first_backoff,
                "wait before the first retry of a notification; doubles per attempt");
  add_ms_option(app, "--notify-max-backoff-ms", notify.max_backoff,
                "longest wait between attempts of a notification");
}

std::optional<std::string> env_secret(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// The tokens of the store at `path`, with the bootstrap ones made; a
// random admin secret is printed once, on stdout. Null after logging why.
std::optional<std::unique_ptr<TokenRegistry>> open_tokens(const std::string& path,
                                                          const Clock& clock) {
  auto store = TokenStore::open(path);
  if (!store) {
    spdlog::error("event=store_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(store.error().message));
    return std::nullopt;
  }
  auto tokens = TokenRegistry::open(std::move(*store), clock);
  if (!tokens) {
    spdlog::error("event=tokens_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(tokens.error().message));
    return std::nullopt;
  }
  auto shown = bootstrap_tokens(**tokens, {env_secret("HOTSWAP_BOOTSTRAP_TOKEN"),
                                           env_secret("HOTSWAP_BOOTSTRAP_NODE_TOKEN")});
  if (!shown) {
    spdlog::error("event=bootstrap_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(shown.error().message));
    return std::nullopt;
  }
  if (*shown) {
    std::printf(
        "hotswap-control bootstrap admin token (shown once; create others with it, then revoke "
        "it): %s\n",
        (*shown)->c_str());
    std::fflush(stdout);
  }
  return std::move(*tokens);
}

int run(Flags flags) {
  std::string http_host, rpc_host;
  int http_port = 0, rpc_port = 0;
  if (!split_address(flags.http_listen, http_host, http_port) ||
      !split_address(flags.rpc_listen, rpc_host, rpc_port)) {
    spdlog::error("event=bad_flag error=\"listen addresses must be host:port\"");
    return 2;
  }
  auto tls = tls_files(flags);
  if (!tls) {
    spdlog::error("event=tls_failed error=\"{}\"", hotswap::telemetry::escape_quoted(tls.error()));
    return 1;
  }
  std::optional<RedisAddress> redis;
  if (!flags.redis.empty()) {
    auto parsed = RedisAddress::parse(flags.redis);
    if (!parsed) {
      spdlog::error("event=bad_flag flag=--redis error=\"{}\"",
                    hotswap::telemetry::escape_quoted(parsed.error()));
      return 2;
    }
    redis = std::move(*parsed);
  }
  std::unique_ptr<kj::TlsContext> rpc_tls;
  if (*tls) {
    auto made = hotswap::protocol::kj_tls_server({(*tls)->cert_pem, (*tls)->key_pem},
                                                 (*tls)->client_ca_pems);
    if (!made) {
      spdlog::error("event=tls_failed error=\"{}\"",
                    hotswap::telemetry::escape_quoted(made.error()));
      return 1;
    }
    rpc_tls = std::move(*made);
    flags.http.tls = **tls;
    flags.http.handshake_timeout = flags.tls_handshake_timeout;
  }
  // Blocks the signals for the event loop to take, in this thread and so in
  // every thread started after it (the store's, the HTTP server's): first.
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  auto box = master_keys(flags);
  if (!box) {
    spdlog::error("event=master_key_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(box.error()));
    return 1;
  }
  const std::string store_location =
      flags.store.empty() ? "sqlite:" + flags.data_dir + "/control.db" : flags.store;
  auto store = SqlStore::open(store_location);
  if (!store) {
    spdlog::error("event=store_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(store.error().message));
    return 1;
  }
  const bool replicated = sql::is_postgres_location(store_location);
  if (!replicated && flags.sqlite_wal_preallocate_mb > 0) {
    auto laid_out = sqlite::preallocate_wal(sql::sqlite_path(store_location),
                                            flags.sqlite_wal_preallocate_mb << 20);
    if (!laid_out) {
      spdlog::error("event=store_failed error=\"{}\"",
                    hotswap::telemetry::escape_quoted(laid_out.error().message));
      return 1;
    }
  }
  if (replicated) {
    if (flags.replica_id.empty()) flags.replica_id = host_name() + ":" + std::to_string(::getpid());
    (*store)->set_replica(flags.replica_id);
  }
  if (auto secrets = (*store)->use_secrets(*box); !secrets) {
    spdlog::error("event=master_key_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(secrets.error().message));
    return 1;
  }
  if (*box != nullptr) {
    spdlog::info("event=master_keys source=\"{}\" primary={} keys={}",
                 hotswap::telemetry::escape_quoted((*box)->source()), (*box)->primary_id(),
                 (*box)->key_ids().size());
  }
  KeyRotation key_rotation(**store, *box);
  const Clock clock = [] { return static_cast<UnixTime>(std::time(nullptr)); };
  auto tokens = open_tokens(store_location, clock);
  if (!tokens) return 1;
  CatalogService catalog(
      **store, clock,
      {.snapshot_cache_bytes = flags.snapshot_cache_bytes, .secrets_enabled = *box != nullptr});
  // Over Redis, an instance's heartbeat reaches the store a quarter of the
  // expiry apart at most (a minute at most): expiry reads only the store.
  const auto store_heartbeat_every =
      std::clamp<std::chrono::seconds>(std::chrono::seconds(flags.instance_expiry_s / 4),
                                       std::chrono::seconds(1), std::chrono::minutes(1));
  FleetService fleet(**store, catalog,
                     {.instance_ttl = std::chrono::seconds(flags.instance_ttl_s),
                      .store_heartbeat_every = store_heartbeat_every,
                      .deployment_timeout = std::chrono::seconds(flags.deployment_timeout_s),
                      .shared_store = replicated},
                     clock);
  fleet.mark_all_disconnected();
  // Who is live: with Redis, a key per instance with the instance TTL that
  // every replica reads (docs/operations.md, "Redis"); else the store's
  // last_heartbeat, written at every heartbeat.
  std::unique_ptr<RedisLiveness> redis_liveness;
  if (redis) {
    redis_liveness = std::make_unique<RedisLiveness>(
        *redis, RedisLiveness::Options{.ttl = std::chrono::seconds(flags.instance_ttl_s)},
        system_now_ms);
    fleet.set_liveness(redis_liveness.get());
    spdlog::info("event=liveness kind=redis redis={} ttl_s={} store_every_s={}", redis->str(),
                 flags.instance_ttl_s, store_heartbeat_every.count());
  } else {
    spdlog::info("event=liveness kind=store ttl_s={}", flags.instance_ttl_s);
  }
  // What sidecars report of each version's health; the HealthSource a
  // rollout engine reads. In Redis, every replica's sidecars' windows are
  // read by each; a Redis that is down makes health unavailable (the gate
  // holds) and is tried again in the background.
  std::unique_ptr<HealthStore> health_store;
  if (redis) {
    health_store = std::make_unique<RedisHealthWindows>(
        *redis, RedisHealthWindows::Options{.retention = flags.health.retention}, system_now_ms);
    const HealthAvailability health = health_store->availability();
    spdlog::info("event=health_store kind=redis redis={} available={} reason=\"{}\"", redis->str(),
                 health.available, hotswap::telemetry::escape_quoted(health.reason));
  } else {
    health_store = std::make_unique<HealthWindows>(flags.health, system_now_ms);
  }
  HealthStore& health_windows = *health_store;
  HealthIngest health_ingest(catalog, health_windows);
  // Before the RPC server: its sessions, ending as it is destroyed, still
  // count themselves out.
  ControlMetrics metrics(**store, fleet, clock);

  auto io = kj::setupAsyncIo();
  RpcServer rpc(fleet, health_ingest, io,
                {.heartbeat_interval = std::chrono::milliseconds(flags.heartbeat_ms),
                 .max_pushes_in_flight = flags.max_pushes_in_flight,
                 .stage_ahead_max_nodes = flags.stage_ahead_max_nodes,
                 .node_tokens = tokens->get(),
                 .tls = rpc_tls.get(),
                 .tls_handshake_timeout = flags.tls_handshake_timeout});
  fleet.set_push_trigger(&rpc);
  rpc.set_metrics(&metrics);
  auto address = io.provider->getNetwork().parseAddress(rpc_host, rpc_port).wait(io.waitScope);
  auto listener = address->listen();

  // Staged rollouts: the engine moves them stage by stage on its thread,
  // judged by the statistical gate over the health windows.
  StatisticalGate gate;
  AuditLog audit(**store, system_now_ms, flags.audit);
  RolloutEngine rollouts(**store, health_windows, gate, system_now_ms,
                         {.interval = std::chrono::milliseconds(flags.rollout_interval_ms)});
  rollouts.set_push_trigger(&rpc);
  rollouts.set_audit(&audit);
  fleet.set_rollouts(&gate, system_now_ms);

  // Deployments of protected namespaces wait for approval; requests past
  // their deadline expire in the sweep below.
  SqlApprovalStore approval_store(**store);
  std::unique_ptr<Webhooks> webhooks;
  if (!flags.notify.urls.empty()) webhooks = std::make_unique<Webhooks>(flags.notify);
  ApprovalService approvals(**store, approval_store, fleet, catalog.schemas(), clock,
                            webhooks.get());
  fleet.set_notifier(webhooks.get());
  rollouts.set_notifier(webhooks.get());

  std::unique_ptr<RateLimiter> limiter;
  if (flags.rate_limit.rate.per_second > 0) {
    limiter = std::make_unique<RateLimiter>(flags.rate_limit);
  }
  HttpApi api(catalog, fleet, {health_windows, health_ingest}, &rollouts, **tokens, audit,
              &approvals, flags.http, &key_rotation, limiter.get());
  metrics.watch(&rollouts, &health_ingest);
  api.set_metrics(&metrics);
  auto bound = api.bind(http_host, http_port);
  if (!bound) {
    spdlog::error("event=http_listen_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(bound.error()));
    return 1;
  }
  auto http_done = kj::newPromiseAndCrossThreadFulfiller<void>();
  std::thread http([&api, done = http_done.fulfiller.get()] {
    api.serve();
    done->fulfill();
  });
  // Replicas on PostgreSQL: the others' changes heard, the engine and the
  // sweeps that must run once only on the leader.
  std::unique_ptr<Replication> replication;
  if (replicated) {
    replication = std::make_unique<Replication>(
        Replication::Options{
            .conninfo = store_location,
            .replica = flags.replica_id,
            .lease_interval = std::chrono::milliseconds(flags.leader_lease_interval_ms)},
        **store, rpc, **tokens);
    rollouts.set_step_runner(
        [&replication](const std::function<void()>& step) { replication->as_leader(step); });
    metrics.watch_leadership([&replication] { return replication->leading(); });
  }
  rollouts.start();
  // One line for scripts and tests that start control on port 0.
  std::printf("hotswap-control ready http=%s:%d rpc=%s:%u\n", http_host.c_str(), *bound,
              rpc_host.c_str(), listener->getPort());
  std::fflush(stdout);
  spdlog::info("event=ready http={}:{} rpc={}:{} tls={} mutual_tls={} store=\"{}\"", http_host,
               *bound, rpc_host, listener->getPort(), *tls ? "on" : "off",
               *tls && !(*tls)->client_ca_pems.empty() ? "on" : "off",
               hotswap::telemetry::escape_quoted(sql::redact_conninfo(store_location)));

  const auto expiry = std::chrono::seconds(flags.instance_expiry_s);
  // Retention prunes the audit log at start, then once a minute (every
  // second when the retention itself is under a minute).
  (void)audit.prune();
  const int prune_every = flags.audit.retention < std::chrono::minutes(1) ? 1 : 60;
  int tick = 0;
  auto sweep = every(io.provider->getTimer(), std::chrono::seconds(1),
                     [&fleet, &approvals, &health_windows, &health_ingest, &audit, &tokens, &tick,
                      &replication, expiry, prune_every] {
                       (*tokens)->flush_last_used();
                       health_windows.expire();
                       health_ingest.expire();
                       ++tick;
                       run_as_leader(replication.get(), [&] {
                         fleet.expire_instances(expiry);
                         approvals.expire_due();
                         fleet.fail_stalled_deployments();
                         if (tick % prune_every == 0) (void)audit.prune();
                       });
                     });
  auto stop = io.unixEventPort.onSignal(SIGTERM).exclusiveJoin(io.unixEventPort.onSignal(SIGINT));
  auto served =
      rpc.serve(*listener).exclusiveJoin(kj::mv(sweep)).then([]() -> siginfo_t { return {}; });
  const siginfo_t info = stop.exclusiveJoin(kj::mv(served)).wait(io.waitScope);
  spdlog::info("event=shutdown signal={}", info.si_signo);
  api.stop();
  // A handler still running may hand a push round to this loop: the loop
  // turns until the server has returned, which is after its last handler,
  // so that no hand-over reaches a server already gone.
  http_done.promise.wait(io.waitScope);
  http.join();
  // The same for the engine: a step may be handing a push round to the loop.
  auto engine_done = kj::newPromiseAndCrossThreadFulfiller<void>();
  std::thread engine([&rollouts, done = engine_done.fulfiller.get()] {
    rollouts.stop();
    done->fulfill();
  });
  engine_done.promise.wait(io.waitScope);
  engine.join();
  // The listener may be handing a push round to the loop: it stops while
  // the loop turns.
  auto replication_done = kj::newPromiseAndCrossThreadFulfiller<void>();
  std::thread replication_stop([&replication, done = replication_done.fulfiller.get()] {
    replication.reset();
    done->fulfill();
  });
  replication_done.promise.wait(io.waitScope);
  replication_stop.join();
  return 0;
}

}  // namespace

#if defined(HOTSWAP_WITH_JEMALLOC)
// jemalloc returns freed memory to the system only as later allocations
// pass by, so a control that answered a burst of large publishes and went
// quiet kept what they freed (82 MB resident for 70 once purged, after 60
// publishes of 10,000 keys in 3 s). A background thread purges it, as
// Redis configures its jemalloc; two arenas, as glibc's below.
extern "C" {
const char* malloc_conf = "background_thread:true,narenas:2";
}
#endif

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own heap (up to 8 per core)
  // and keeps what a large request freed in it: with the HTTP server's
  // threads parsing 600 KB documents, control held 85 MB more than with two
  // heaps, whatever its snapshot budget. Two keep RSS near that budget.
  mallopt(M_ARENA_MAX, 2);
  raise_descriptor_limit();
  CLI::App app{"hotswap-control: versioned configuration, pushed to every sidecar"};
  app.footer(
      "Access: every REST call but /healthz needs 'Authorization: Bearer <token>', and sidecars\n"
      "attach with a node token. On a store without API tokens control creates an admin token\n"
      "for every tenant: HOTSWAP_BOOTSTRAP_TOKEN if set (16-256 characters of "
      "[A-Za-z0-9._~+/=-]),\n"
      "else a random one printed once on stdout. HOTSWAP_BOOTSTRAP_NODE_TOKEN, if set, is made a\n"
      "node token for every tenant (for demos and tests).");
  Flags flags;
  app.add_option("--data-dir", flags.data_dir,
                 "directory of the embedded SQLite store (HOTSWAP_DATA_DIR)");
  app.add_option("--store", flags.store,
                 "the store: sqlite:PATH, or postgres://user@host:port/db shared by every "
                 "replica (HOTSWAP_STORE; default: the SQLite file in --data-dir)");
  app.add_option("--replica-id", flags.replica_id,
                 "this replica's name among those sharing a PostgreSQL store "
                 "(HOTSWAP_REPLICA_ID; default host:pid)");
  app.add_option("--leader-lease-interval-ms", flags.leader_lease_interval_ms,
                 "replicas: how often a follower tries to take the leader lease and the "
                 "leader checks it still holds it")
      ->check(CLI::Range(int64_t{50}, int64_t{60000}));
  app.add_option("--http-listen", flags.http_listen,
                 "REST address host:port (HOTSWAP_HTTP_LISTEN)");
  app.add_option("--rpc-listen", flags.rpc_listen,
                 "sidecar RPC address host:port (HOTSWAP_RPC_LISTEN)");
  app.add_option("--heartbeat-interval-ms", flags.heartbeat_ms, "sidecar heartbeat interval");
  app.add_option("--rollout-interval-ms", flags.rollout_interval_ms,
                 "how often every active staged rollout is looked at (its gate evaluated)")
      ->check(CLI::Range(int64_t{10}, int64_t{60000}));
  app.add_option("--instance-ttl", flags.instance_ttl_s, "seconds without heartbeat until stale");
  app.add_option("--instance-expiry", flags.instance_expiry_s,
                 "seconds without heartbeat until an instance is removed");
  app.add_option("--deployment-timeout", flags.deployment_timeout_s,
                 "seconds a deployment whose remaining targets are all gone may stand still "
                 "before it ends failed")
      ->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600));
  app.add_option("--sqlite-wal-preallocate-mb", flags.sqlite_wal_preallocate_mb,
                 "SQLite store: write the WAL's first this many MiB ahead of the commits, so that "
                 "they overwrite rather than append (0: off)")
      ->check(CLI::Range(int64_t{0}, int64_t{4096}))
      ->capture_default_str();
  app.add_option("--snapshot-cache-bytes", flags.snapshot_cache_bytes,
                 "memory for the snapshots of recent versions (pushes, delta bases)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 40))
      ->capture_default_str();
  add_http_flags(app, flags.http);
  add_rate_limit_flags(app, flags.rate_limit);
  app.add_option("--max-pushes-in-flight", flags.max_pushes_in_flight,
                 "pushes awaiting an answer at most, across all sidecars (the rest queue)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--stage-ahead-max-nodes", flags.stage_ahead_max_nodes,
                 "a publish that deploys to at most this many nodes sends them its version "
                 "staged while it commits, then activates it (0: never)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  add_health_flags(app, flags.health);
  app.add_option("--redis", flags.redis,
                 "redis://[:password@]host:port[/db]: health windows and instance liveness in "
                 "Redis, shared by every control replica (HOTSWAP_REDIS; default: in memory "
                 "and in the store)");
  add_audit_flags(app, flags.audit);
  app.add_option("--master-key-file", flags.master_key_file,
                 "key ring for secret entries: `ID BASE64 [primary]` per line, mode 0600 "
                 "(HOTSWAP_MASTER_KEY_FILE; or one key in HOTSWAP_MASTER_KEY=[ID:]BASE64)");
  add_notify_flags(app, flags.notify);
  add_tls_flags(app, flags);
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error (HOTSWAP_LOG_LEVEL)");
  app.add_option("--log-format", flags.log_format,
                 "text (key=value) or json, one object per line (HOTSWAP_LOG_FORMAT)");
  MigrateStoreFlags migrate_store;
  CLI::App* migrate_command = add_migrate_store_command(app, migrate_store);
  CLI11_PARSE(app, argc, argv);
  if (*migrate_command) return run_migrate_store(migrate_store);
  // Logs go to stderr: stdout carries only what scripts read.
  if (auto logging = hotswap::telemetry::configure_logging(flags.log_level, flags.log_format);
      !logging) {
    std::fprintf(stderr, "hotswap-control: %s\n", logging.error().c_str());
    return 2;
  }
  return run(flags);
}

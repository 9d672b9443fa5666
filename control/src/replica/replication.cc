#include "replica/replication.h"

#include <spdlog/spdlog.h>

#include "access/token_registry.h"
#include "domain/namespace_id.h"
#include "hotswap/telemetry/log_format.h"
#include "store/postgres_connection.h"
#include "store/store.h"

namespace hotswap::control {

namespace {

constexpr const char* kDesiredChannel = "hotswap_desired";
constexpr const char* kTokensChannel = "hotswap_tokens";

}  // namespace

Replication::Replication(Options options, Store& store, PushTrigger& push, TokenRegistry& tokens)
    : store_(store),
      push_(push),
      tokens_(tokens),
      lease_({.conninfo = options.conninfo,
              .replica = options.replica,
              .interval = options.lease_interval,
              .on_elected = {},
              .on_lost = {}}) {
  listener_ = std::make_unique<PgListener>(PgListener::Options{
      .conninfo = options.conninfo,
      .channels = {kDesiredChannel, kTokensChannel},
      .on_notify = [this](const std::string& channel,
                          const std::string& payload) { on_notify(channel, payload); },
      .on_resync = [this] { resync(); }});
}

Replication::~Replication() {
  listener_.reset();
}

bool Replication::as_leader(const std::function<void()>& work) const {
  if (!lease_.leading()) return false;
  sql::Fence fence(lease_.session_pid());
  work();
  return true;
}

void Replication::on_notify(const std::string& channel, const std::string& payload) {
  if (channel == kTokensChannel) {
    if (auto reloaded = tokens_.reload(); !reloaded) {
      spdlog::warn("event=tokens_reload_failed error=\"{}\"",
                   telemetry::escape_quoted(reloaded.error().message));
    }
    return;
  }
  auto id = NamespaceId::parse(payload);
  if (!id) return;  // not one of ours
  push_.namespace_changed(*id);
}

void Replication::resync() {
  (void)tokens_.reload();
  auto tenants = store_.list_tenants();
  if (!tenants) return;
  for (const Tenant& tenant : *tenants) {
    auto namespaces = store_.list_namespaces(tenant.name);
    if (!namespaces) continue;
    for (const Namespace& ns : *namespaces) push_.namespace_changed(ns.id);
  }
}

}  // namespace hotswap::control

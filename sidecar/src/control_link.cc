#include "control_link.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <kj/async-unix.h>
#include <random>

#include "health_wire.h"
#include "hotswap/protocol/rpc_connection.h"
#include "hotswap/telemetry/log_format.h"
#include "hotswap/telemetry/trace_context.h"
#include "hotswap/version.h"

namespace hotswap::sidecar {
namespace {

// An ACK is a few words: without a hint the RPC layer allocates (and
// zeroes) a default-sized first segment for every answer.
constexpr capnp::MessageSize kAnswerSize{16, 0};

// Serves control's calls on behalf of the applier. Each call runs under
// the trace control sent (its log lines carry it), which the answer echoes.
class SidecarImpl final : public wire::Sidecar::Server {
 public:
  SidecarImpl(Applier& applier, SidecarMetrics* metrics) : applier_(applier), metrics_(metrics) {}

  kj::Promise<void> push(PushContext context) override {
    auto params = context.getParams();
    answer(
        text(params.getTraceparent()), [&] { return applier_.apply(params.getSnapshot()); },
        context.getResults(kAnswerSize).initResult());
    // The last-known-good save waits until the loop has nothing else to do:
    // by then this ACK (and any other ready one) has been written to
    // control. The applier outlives the loop, and its destructor saves
    // whatever a dropped callback left behind.
    kj::evalLast([&applier = applier_] { applier.save_acked(); }).detach([](kj::Exception&& e) {
      spdlog::error("event=lkg_schedule_failed error=\"{}\"",
                    telemetry::escape_quoted(e.getDescription().cStr()));
    });
    return kj::READY_NOW;
  }

  kj::Promise<void> activate(ActivateContext context) override {
    auto params = context.getParams();
    answer(
        text(params.getTraceparent()),
        [&] { return applier_.activate(params.getNamespace(), params.getVersion()); },
        context.getResults(kAnswerSize).initResult());
    return kj::READY_NOW;
  }

 private:
  static std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

  template <class Apply>
  void answer(const std::string& traceparent, Apply&& apply, wire::ApplyResult::Builder out) {
    telemetry::TraceScope trace(telemetry::valid_traceparent(traceparent) ? traceparent : "");
    const auto started = std::chrono::steady_clock::now();
    const ApplyOutcome outcome = apply();
    if (outcome.ok) {
      out.initAck().setVersion(outcome.version);
    } else {
      auto nack = out.initNack();
      nack.setVersion(outcome.version);
      nack.setReason(outcome.reason);
    }
    out.setTraceparent(telemetry::current_traceparent());
    if (metrics_ != nullptr) {
      metrics_->applied(
          outcome,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      metrics_->holds(applier_);
    }
  }

  Applier& applier_;
  SidecarMetrics* metrics_;
};

void fill_node(const LinkOptions& options, const Applier& applier, wire::NodeInfo::Builder node) {
  node.setNodeId(options.node_id);
  node.setHost(options.host);
  node.setToken(options.token);
  node.setAgentVersion(HOTSWAP_VERSION);
  auto labels = node.initLabels(static_cast<unsigned>(options.labels.size()));
  unsigned i = 0;
  for (const auto& [key, value] : options.labels) {
    labels[i].setKey(key);
    labels[i].setValue(value);
    ++i;
  }
  auto namespaces = node.initNamespaces(static_cast<unsigned>(applier.namespaces().size()));
  for (unsigned n = 0; n < applier.namespaces().size(); ++n) {
    namespaces.set(n, applier.namespaces()[n]);
  }
  auto restricted = node.initRestricted(static_cast<unsigned>(applier.restricted().size()));
  for (unsigned n = 0; n < applier.restricted().size(); ++n) {
    restricted.set(n, applier.restricted()[n]);
  }
  const auto held = applier.held();
  auto out = node.initHeld(static_cast<unsigned>(held.size()));
  for (unsigned h = 0; h < held.size(); ++h) {
    out[h].setNamespace(held[h].ns);
    out[h].setVersion(held[h].version);
    out[h].setContentHash(kj::arrayPtr(held[h].content_hash.data(), held[h].content_hash.size()));
  }
}

kj::Promise<void> heartbeats(kj::Timer& timer, wire::Session::Client session,
                             uint32_t interval_ms) {
  return timer.afterDelay(interval_ms * kj::MILLISECONDS)
      .then([session]() mutable { return session.heartbeatRequest().send().ignoreResult(); })
      .then([&timer, session, interval_ms]() mutable {
        return heartbeats(timer, kj::mv(session), interval_ms);
      });
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Collects an interval every `health.interval`, attached or not.
kj::Promise<void> collect_health(kj::Timer& timer, const HealthLink& health) {
  return timer.afterDelay(health.interval.count() * kj::MILLISECONDS).then([&timer, &health] {
    health.monitor->collect(unix_ms_now(), health.prober ? health.prober->take() : HealthByKey{});
    return collect_health(timer, health);
  });
}

kj::Promise<void> send_health(kj::Timer& timer, wire::Session::Client session,
                              const HealthLink& health, bool warned);

kj::Promise<void> send_health_after(kj::Duration delay, kj::Timer& timer,
                                    wire::Session::Client session, const HealthLink& health,
                                    bool warned) {
  return timer.afterDelay(delay).then([&timer, session, &health, warned]() mutable {
    return send_health(timer, kj::mv(session), health, warned);
  });
}

// Sends the monitor's backlog, oldest first, one call at a time, for as
// long as the session lasts. Control counts an (epoch, sequence) once, so
// an interval resent after a lost answer is never counted twice. An
// answer below the sequence sent (control does not hold it) or a failed
// call is retried an interval later, warned about once per session; a
// lost connection ends the session.
kj::Promise<void> send_health(kj::Timer& timer, wire::Session::Client session,
                              const HealthLink& health, bool warned) {
  HealthMonitor& monitor = *health.monitor;
  const kj::Duration interval = health.interval.count() * kj::MILLISECONDS;
  if (monitor.backlog().empty()) {
    return send_health_after(kj::min(interval, 100 * kj::MILLISECONDS), timer, kj::mv(session),
                             health, warned);
  }
  const HealthInterval& next = monitor.backlog().front();
  const uint64_t sequence = next.sequence;
  auto request = session.reportHealthRequest();
  request.setEpoch(monitor.epoch());
  request.setSequence(sequence);
  fill_health_reports(next, request.initReports(static_cast<unsigned>(next.reports.size())));
  return request.send()
      .then(
          [&monitor, &health, sequence,
           warned](capnp::Response<wire::Session::ReportHealthResults> r) {
            const uint64_t accepted = r.getAcceptedThrough();
            monitor.acknowledge(accepted);
            if (health.metrics != nullptr) health.metrics->health_report(true);
            if (accepted >= sequence) return true;
            if (!warned) {
              spdlog::warn("event=health_not_accepted sequence={} accepted_through={} backlog={}",
                           sequence, accepted, monitor.backlog().size());
            }
            return false;
          },
          [&health, sequence, warned](kj::Exception&& e) {
            if (health.metrics != nullptr) health.metrics->health_report(false);
            if (e.getType() == kj::Exception::Type::DISCONNECTED)
              kj::throwFatalException(kj::mv(e));
            if (!warned) {
              spdlog::warn("event=health_report_failed sequence={} error=\"{}\"", sequence,
                           telemetry::escape_quoted(e.getDescription().cStr()));
            }
            return false;
          })
      .then([&timer, session, &health, interval](bool accepted) mutable {
        if (accepted) return send_health(timer, kj::mv(session), health, false);
        return send_health_after(interval, timer, kj::mv(session), health, true);
      });
}

// One attached session: resolves when the connection is lost (the caller
// reconnects); rejects when connecting, attaching or a heartbeat fails.
kj::Promise<void> session(kj::AsyncIoContext& io, const LinkOptions& options, Applier& applier,
                          const HealthLink& health, bool& attached) {
  auto connected =
      io.provider->getNetwork()
          .parseAddress(options.control_address, 7701)
          .then([](kj::Own<kj::NetworkAddress> address) {
            auto connected = address->connect();
            return connected.attach(kj::mv(address));
          })
          .then([&options](
                    kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
            if (!options.tls) return kj::mv(stream);
            return options.tls->wrapClient(kj::mv(stream), options.tls_server_name);
          });
  auto too_late = io.provider->getTimer()
                      .afterDelay(options.connect_timeout.count() * kj::MILLISECONDS)
                      .then([]() -> kj::Own<kj::AsyncIoStream> {
                        kj::throwFatalException(KJ_EXCEPTION(
                            DISCONNECTED, "connecting (with the TLS handshake) took too long"));
                      });
  return connected.exclusiveJoin(kj::mv(too_late))
      .then([&io, &options, &applier, &health, &attached](kj::Own<kj::AsyncIoStream> stream) {
        auto connection = kj::heap<protocol::RpcConnection>(
            kj::mv(stream), capnp::rpc::twoparty::Side::CLIENT, nullptr);
        auto control = connection->peer_bootstrap().castAs<wire::Control>();
        auto request = control.attachRequest();
        fill_node(options, applier, request.initNode());
        request.setSidecar(kj::heap<SidecarImpl>(applier, options.metrics));
        auto disconnected = connection->on_disconnect();
        return request.send()
            .then([&io, &options, &health,
                   &attached](capnp::Response<wire::Control::AttachResults> r) {
              const uint32_t interval = std::max<uint32_t>(r.getHeartbeatIntervalMs(), 100);
              attached = true;
              if (options.metrics != nullptr) options.metrics->attached();
              spdlog::info("event=attached control={} node={} heartbeat_ms={}",
                           options.control_address, options.node_id, interval);
              auto beating = heartbeats(io.provider->getTimer(), r.getSession(), interval);
              if (health.monitor == nullptr) return beating;
              return beating.exclusiveJoin(
                  send_health(io.provider->getTimer(), r.getSession(), health, false));
            })
            .exclusiveJoin(kj::mv(disconnected))
            .attach(kj::mv(connection));
      });
}

std::chrono::milliseconds jittered(std::chrono::milliseconds backoff) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  // Full jitter in [backoff/2, backoff]: reconnecting sidecars spread out.
  std::uniform_int_distribution<int64_t> d(backoff.count() / 2, backoff.count());
  return std::chrono::milliseconds(d(rng));
}

}  // namespace

int run_control_link(const LinkOptions& options, Applier& applier, HealthLink health) {
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  auto io = kj::setupAsyncIo();
  bool stopping = false;
  auto stop = io.unixEventPort.onSignal(SIGTERM)
                  .exclusiveJoin(io.unixEventPort.onSignal(SIGINT))
                  .then([&](siginfo_t info) {
                    spdlog::info("event=shutdown signal={}", info.si_signo);
                    stopping = true;
                  })
                  .fork();
  kj::Promise<void> collecting = kj::NEVER_DONE;
  if (health.monitor != nullptr) {
    collecting =
        collect_health(io.provider->getTimer(), health).eagerlyEvaluate([](kj::Exception&& e) {
          spdlog::error("event=health_collect_failed error=\"{}\"",
                        telemetry::escape_quoted(e.getDescription().cStr()));
        });
  }
  auto backoff = options.initial_backoff;
  while (!stopping) {
    bool attached = false;
    try {
      session(io, options, applier, health, attached)
          .exclusiveJoin(stop.addBranch())
          .wait(io.waitScope);
      if (!stopping) spdlog::warn("event=disconnected control={}", options.control_address);
    } catch (const kj::Exception& e) {
      spdlog::warn("event=connect_failed control={} error=\"{}\"", options.control_address,
                   telemetry::escape_quoted(e.getDescription().cStr()));
    }
    if (attached && options.metrics != nullptr) options.metrics->detached();
    if (stopping) break;
    if (attached) backoff = options.initial_backoff;
    const auto delay = jittered(backoff);
    spdlog::info("event=reconnect_in ms={}", delay.count());
    io.provider->getTimer()
        .afterDelay(delay.count() * kj::MILLISECONDS)
        .exclusiveJoin(stop.addBranch())
        .wait(io.waitScope);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
  return 0;
}

}  // namespace hotswap::sidecar

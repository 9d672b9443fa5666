#include "control_link.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <kj/async-unix.h>

#include <cstring>
#include <optional>

#include "control_rotation.h"
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
    save_after_answer();
    return kj::READY_NOW;
  }

  kj::Promise<void> activate(ActivateContext context) override {
    auto params = context.getParams();
    answer(
        text(params.getTraceparent()),
        [&] {
          return applier_.activate(params.getNamespace(), params.getVersion(),
                                   content_hash(params.getContentHash()));
        },
        context.getResults(kAnswerSize).initResult());
    save_after_answer();  // an activated version is the last-known-good one too
    return kj::READY_NOW;
  }

 private:
  // The last-known-good save waits until the loop has nothing else to do:
  // by then this ACK (and any other ready one) has been written to
  // control. The applier outlives the loop, and its destructor saves
  // whatever a dropped callback left behind.
  void save_after_answer() {
    kj::evalLast([&applier = applier_] { applier.save_acked(); }).detach([](kj::Exception&& e) {
      spdlog::error("event=lkg_schedule_failed error=\"{}\"",
                    telemetry::escape_quoted(e.getDescription().cStr()));
    });
  }

  static std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }
  // None when control sent no hash; a hash of the wrong size matches nothing.
  static std::optional<ContentHash> content_hash(capnp::Data::Reader d) {
    if (d.size() == 0) return std::nullopt;
    ContentHash hash{};
    if (d.size() == hash.size())
      std::memcpy(hash.data(), d.begin(), hash.size());
    else
      hash.fill(0xff);
    return hash;
  }

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

// `promise`, or a DISCONNECTED failure (`what`) once `limit` has passed:
// a peer that stops answering ends the session rather than holding it.
template <class T>
kj::Promise<T> within(kj::Timer& timer, kj::Duration limit, const char* what,
                      kj::Promise<T> promise) {
  return promise.exclusiveJoin(timer.afterDelay(limit).then(
      [what]() -> T { kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, what)); }));
}

// A heartbeat every `interval_ms`, each answered within `deadline` or the
// session ends.
kj::Promise<void> heartbeats(kj::Timer& timer, wire::Session::Client session, uint32_t interval_ms,
                             kj::Duration deadline) {
  return timer.afterDelay(interval_ms * kj::MILLISECONDS)
      .then([&timer, session, deadline]() mutable {
        return within(timer, deadline, "control left a heartbeat unanswered",
                      session.heartbeatRequest().send().ignoreResult());
      })
      .then([&timer, session, interval_ms, deadline]() mutable {
        return heartbeats(timer, kj::mv(session), interval_ms, deadline);
      });
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The health side of the link: what collect_health adds to the monitor's
// backlog wakes the session's sender, which otherwise sleeps (a sender
// that polled would wake every sidecar of a host many times a second for
// nothing).
class HealthFlow {
 public:
  explicit HealthFlow(const HealthLink& link) : link(link) {}

  // Resolves once the backlog has something (at once if it has now).
  kj::Promise<void> backlog_filled() {
    if (!link.monitor->backlog().empty()) return kj::READY_NOW;
    auto paf = kj::newPromiseAndFulfiller<void>();
    waiter_ = kj::mv(paf.fulfiller);  // a sender of an ended session leaves its own behind
    return kj::mv(paf.promise);
  }
  // After a collect: wakes the sender waiting, if the backlog has something.
  void collected() {
    if (link.monitor->backlog().empty()) return;
    KJ_IF_MAYBE (waiter, waiter_) {
      (*waiter)->fulfill();
      waiter_ = nullptr;
    }
  }

  const HealthLink& link;

 private:
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> waiter_;
};

// Collects an interval every `link.interval`, attached or not.
kj::Promise<void> collect_health(kj::Timer& timer, HealthFlow& flow) {
  return timer.afterDelay(flow.link.interval.count() * kj::MILLISECONDS).then([&timer, &flow] {
    const HealthLink& health = flow.link;
    health.monitor->collect(unix_ms_now(), health.prober ? health.prober->take() : HealthByKey{});
    flow.collected();
    return collect_health(timer, flow);
  });
}

kj::Promise<void> send_health(kj::Timer& timer, wire::Session::Client session, HealthFlow& flow,
                              bool warned);

kj::Promise<void> send_health_after(kj::Duration delay, kj::Timer& timer,
                                    wire::Session::Client session, HealthFlow& flow, bool warned) {
  return timer.afterDelay(delay).then([&timer, session, &flow, warned]() mutable {
    return send_health(timer, kj::mv(session), flow, warned);
  });
}

// Sends the monitor's backlog, oldest first, one call at a time, for as
// long as the session lasts. Control counts an (epoch, sequence) once, so
// an interval resent after a lost answer is never counted twice. An
// answer below the sequence sent (control does not hold it) or a failed
// call is retried an interval later, warned about once per session; a
// lost connection ends the session.
kj::Promise<void> send_health(kj::Timer& timer, wire::Session::Client session, HealthFlow& flow,
                              bool warned) {
  const HealthLink& health = flow.link;
  HealthMonitor& monitor = *health.monitor;
  const kj::Duration interval = health.interval.count() * kj::MILLISECONDS;
  if (monitor.backlog().empty()) {
    return flow.backlog_filled().then([&timer, session, &flow, warned]() mutable {
      return send_health(timer, kj::mv(session), flow, warned);
    });
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
      .then([&timer, session, &flow, interval](bool accepted) mutable {
        if (accepted) return send_health(timer, kj::mv(session), flow, false);
        return send_health_after(interval, timer, kj::mv(session), flow, true);
      });
}

// A connection whose attach control answered.
struct Attachment {
  kj::Own<protocol::RpcConnection> connection;
  kj::Promise<void> disconnected;
  wire::Session::Client session;
  uint32_t heartbeat_ms;
};

// Connects to `address` (with the TLS handshake) and attaches, within
// options.connect_timeout.
kj::Promise<Attachment> attach(kj::AsyncIoContext& io, const LinkOptions& options,
                               const std::string& address, Applier& applier) {
  const std::string server_name =
      options.tls_server_name.empty() ? host_of(address) : options.tls_server_name;
  auto attached =
      io.provider->getNetwork()
          .parseAddress(address, 7701)
          .then([](kj::Own<kj::NetworkAddress> address) {
            auto connected = address->connect();
            return connected.attach(kj::mv(address));
          })
          .then([&options, server_name](
                    kj::Own<kj::AsyncIoStream> stream) -> kj::Promise<kj::Own<kj::AsyncIoStream>> {
            if (!options.tls) return kj::mv(stream);
            return options.tls->wrapClient(kj::mv(stream), server_name);
          })
          .then([&options, &applier](kj::Own<kj::AsyncIoStream> stream) {
            auto connection = kj::heap<protocol::RpcConnection>(
                kj::mv(stream), capnp::rpc::twoparty::Side::CLIENT, nullptr);
            auto control = connection->peer_bootstrap().castAs<wire::Control>();
            auto request = control.attachRequest();
            fill_node(options, applier, request.initNode());
            request.setSidecar(kj::heap<SidecarImpl>(applier, options.metrics));
            auto disconnected = connection->on_disconnect();
            return request.send().then(
                [connection = kj::mv(connection), disconnected = kj::mv(disconnected)](
                    capnp::Response<wire::Control::AttachResults> r) mutable {
                  return Attachment{kj::mv(connection), kj::mv(disconnected), r.getSession(),
                                    std::max<uint32_t>(r.getHeartbeatIntervalMs(), 100)};
                });
          });
  return within(io.provider->getTimer(), options.connect_timeout.count() * kj::MILLISECONDS,
                "connecting (with the TLS handshake) and attaching took too long",
                kj::mv(attached));
}

// One attached session with control at `address`: resolves when the
// connection is lost (the caller dials again); rejects when connecting or
// attaching fails, or control stops answering heartbeats.
kj::Promise<void> session(kj::AsyncIoContext& io, const LinkOptions& options,
                          const std::string& address, Applier& applier, HealthFlow& flow,
                          bool& attached) {
  return attach(io, options, address, applier)
      .then([&io, &options, &address, &flow, &attached](Attachment a) {
        attached = true;
        if (options.metrics != nullptr) options.metrics->attached();
        spdlog::info("event=attached control={} node={} heartbeat_ms={}", address, options.node_id,
                     a.heartbeat_ms);
        kj::Timer& timer = io.provider->getTimer();
        const kj::Duration deadline =
            kj::max(uint64_t{options.heartbeat_misses} * a.heartbeat_ms * kj::MILLISECONDS,
                    options.connect_timeout.count() * kj::MILLISECONDS);
        auto beating = heartbeats(timer, a.session, a.heartbeat_ms, deadline);
        if (flow.link.monitor != nullptr) {
          beating = beating.exclusiveJoin(send_health(timer, a.session, flow, false));
        }
        return beating.exclusiveJoin(kj::mv(a.disconnected)).attach(kj::mv(a.connection));
      });
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
  HealthFlow flow(health);
  kj::Promise<void> collecting = kj::NEVER_DONE;
  if (health.monitor != nullptr) {
    collecting =
        collect_health(io.provider->getTimer(), flow).eagerlyEvaluate([](kj::Exception&& e) {
          spdlog::error("event=health_collect_failed error=\"{}\"",
                        telemetry::escape_quoted(e.getDescription().cStr()));
        });
  }
  ControlRotation rotation({.addresses = options.controls,
                            .base = options.backoff_base,
                            .max = options.backoff_max,
                            .seed = options.rotation_seed});
  while (!stopping) {
    // A copy: the rotation moves on before the session's log lines are written.
    const std::string address = rotation.current();
    bool attached = false;
    try {
      session(io, options, address, applier, flow, attached)
          .exclusiveJoin(stop.addBranch())
          .wait(io.waitScope);
      if (!stopping) spdlog::warn("event=disconnected control={}", address);
    } catch (const kj::Exception& e) {
      spdlog::warn("event=connect_failed control={} error=\"{}\"", address,
                   telemetry::escape_quoted(e.getDescription().cStr()));
    }
    if (attached && options.metrics != nullptr) options.metrics->detached();
    if (stopping) break;
    if (attached) rotation.attached();
    const ControlRotation::Step step = rotation.next();
    if (step.moved()) {
      spdlog::info("event=failover from={} to={} in_ms={}", step.from, step.to, step.delay.count());
    } else {
      spdlog::info("event=reconnect_in ms={}", step.delay.count());
    }
    io.provider->getTimer()
        .afterDelay(step.delay.count() * kj::MILLISECONDS)
        .exclusiveJoin(stop.addBranch())
        .wait(io.waitScope);
  }
  return 0;
}

}  // namespace hotswap::sidecar

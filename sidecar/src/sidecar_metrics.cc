#include "sidecar_metrics.h"

#include "hotswap/telemetry/prometheus_text.h"

namespace hotswap::sidecar {

SidecarMetrics::SidecarMetrics()
    : connected_(telemetry::register_family(prometheus::BuildGauge(), registry_,
                                            "hotswap_sidecar_connected",
                                            "1 while attached to control, else 0")
                     .Add({})),
      reconnects_(telemetry::register_family(prometheus::BuildCounter(), registry_,
                                             "hotswap_sidecar_reconnects_total",
                                             "Attaches to control after the first")
                      .Add({})),
      apply_seconds_(telemetry::register_family(
                         prometheus::BuildHistogram(), registry_,
                         "hotswap_sidecar_apply_duration_seconds",
                         "A push received to its answer (the version published or refused)")
                         .Add({}, telemetry::latency_buckets())),
      applies_(telemetry::register_family(prometheus::BuildCounter(), registry_,
                                          "hotswap_sidecar_applies_total",
                                          "Pushes and activations applied (ok) or refused (nack)")),
      versions_(telemetry::register_family(prometheus::BuildGauge(), registry_,
                                           "hotswap_sidecar_applied_version",
                                           "The version of each namespace that applications read")),
      segment_bytes_(telemetry::register_family(
          prometheus::BuildGauge(), registry_, "hotswap_sidecar_segment_bytes",
          "Shared memory each namespace holds: head and resident versions")),
      health_reports_(telemetry::register_family(
          prometheus::BuildCounter(), registry_, "hotswap_sidecar_health_reports_total",
          "Health report calls to control, sent or failed")) {
  telemetry::add_build_info(registry_, "sidecar");
  for (const char* result : {"ok", "nack"}) applies_.Add({{"result", result}});
  for (const char* result : {"sent", "failed"}) health_reports_.Add({{"result", result}});
}

void SidecarMetrics::attached() {
  connected_.Set(1);
  if (attached_before_) reconnects_.Increment();
  attached_before_ = true;
}

void SidecarMetrics::detached() {
  connected_.Set(0);
}

void SidecarMetrics::applied(const ApplyOutcome& outcome, double seconds) {
  applies_.Add({{"result", outcome.ok ? "ok" : "nack"}}).Increment();
  apply_seconds_.Observe(seconds);
}

void SidecarMetrics::holds(const Applier& applier) {
  bool every_one = true;
  for (const std::string& ns : applier.namespaces()) {
    // The segment's own word: a version activated without its content
    // held here is still the one applications read.
    const std::optional<uint64_t> active = applier.active_version(ns);
    if (active) versions_.Add({{"namespace", ns}}).Set(static_cast<double>(*active));
    every_one = every_one && active.has_value();
    segment_bytes_.Add({{"namespace", ns}}).Set(static_cast<double>(applier.resident_bytes(ns)));
  }
  ready_.store(every_one, std::memory_order_release);
}

void SidecarMetrics::health_report(bool sent) {
  health_reports_.Add({{"result", sent ? "sent" : "failed"}}).Increment();
}

std::string SidecarMetrics::scrape() const {
  return telemetry::prometheus_text(registry_);
}

}  // namespace hotswap::sidecar

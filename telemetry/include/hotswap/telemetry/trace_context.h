// W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00: the
// `traceparent` that follows one change from the REST call that made it,
// through the push to every sidecar, to their ACKs and the audit row.
//
// A `TraceScope` makes a traceparent the current one of its thread for its
// lifetime; log lines written meanwhile carry its trace id (log_format.h),
// and code that hands work to another thread reads `current_traceparent()`
// to carry it along.
#ifndef HOTSWAP_TELEMETRY_TRACE_CONTEXT_H_
#define HOTSWAP_TELEMETRY_TRACE_CONTEXT_H_

#include <string>
#include <string_view>

namespace hotswap::telemetry {

// Whether `t` is a version-00 traceparent, lowercase:
// "00-<32 hex>-<16 hex>-<2 hex>", neither id all zeros.
bool valid_traceparent(std::string_view t);

// `sent` lowercased when it is a valid traceparent, else a new one with a
// random trace id and parent id (flags 00: not sampled by anyone yet).
std::string traceparent_or_new(std::string_view sent);

// The 32 hex digits of a valid traceparent's trace id; empty otherwise.
std::string_view trace_id_of(std::string_view traceparent);

// The current thread's traceparent while a scope is open; empty when none.
const std::string& current_traceparent();

// Makes `traceparent` (empty: none) current on this thread until
// destroyed, then restores the one before. Not movable: a scope belongs to
// the block that opened it.
class TraceScope {
 public:
  explicit TraceScope(std::string traceparent);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace hotswap::telemetry

#endif  // HOTSWAP_TELEMETRY_TRACE_CONTEXT_H_

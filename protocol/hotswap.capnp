@0x9c89780247468c67;
# The wire protocol between control and sidecars.
#
# A sidecar connects to control's RPC port and calls Control.attach with
# its identity and a Sidecar capability. Control then pushes: it calls
# Sidecar.push whenever the instance's desired version of a namespace
# changes, and the sidecar's answer is the ACK (applied) or NACK (reason).
# No polling anywhere. Both ends read every message with size and
# traversal limits (protocol/README.md).

$import "/capnp/c++.capnp".namespace("hotswap::wire");

struct Value {
  union {
    int64 @0 :Int64;
    float64 @1 :Float64;
    boolean @2 :Bool;
    string @3 :Text;
    json @4 :Text;
    durationNs @5 :Int64;
  }
}

struct Entry {
  key @0 :Text;
  value @1 :Value;
}

# One version of one namespace, whole or as a delta against a version the
# sidecar holds. contentHash is the SHA-256 of the full version's canonical
# encoding (protocol/src/content_hash.cc): the sidecar recomputes it after
# applying a delta and NACKs on mismatch.
struct Snapshot {
  namespace @0 :Text;
  version @1 :UInt64;
  contentHash @2 :Data;
  union {
    full @3 :List(Entry);
    delta :group {
      baseVersion @4 :UInt64;
      upserts @5 :List(Entry);
      removals @6 :List(Text);
    }
  }
  # Stage without activating (blue-green pre-staging).
  stageOnly @7 :Bool;
}

struct Label {
  key @0 :Text;
  value @1 :Text;
}

struct HeldVersion {
  namespace @0 :Text;
  version @1 :UInt64;
  contentHash @2 :Data;
}

struct NodeInfo {
  nodeId @0 :Text;
  host @1 :Text;
  labels @2 :List(Label);
  namespaces @3 :List(Text);   # subscriptions
  held @4 :List(HeldVersion);  # last-known-good versions, to resume from
  token @5 :Text;              # node credential (checked once auth lands)
  agentVersion @6 :Text;
  restricted @7 :List(Text);   # subscriptions whose shared memory only the
                               # application's group reads: they get secrets
}

struct ApplyResult {
  union {
    ack :group {
      version @0 :UInt64;
    }
    nack :group {
      version @1 :UInt64;
      reason @2 :Text;
    }
  }
  # The W3C traceparent of the push or activate answered, echoed: one id
  # from the REST call that caused the change to every node's answer.
  traceparent @3 :Text;
}

# Outcomes applications recorded, per (namespace, version they read),
# summed by the sidecar over one window [windowStart, windowEnd): counts of
# that window only, not running totals. Used by rollout gates.
struct HealthReport {
  namespace @0 :Text;
  version @1 :UInt64;
  windowStartUnixMs @2 :Int64;
  windowEndUnixMs @3 :Int64;
  okCount @4 :UInt64;
  errorCount @5 :UInt64;
  # Derived from `latency`, for readers that do not merge histograms.
  latencyP50Us @6 :UInt64;
  latencyP99Us @7 :UInt64;
  # Every outcome of the window (ok and error) by latency bucket, non-zero
  # buckets only, by ascending index (vocabulary/latency_histogram.hpp).
  latency @8 :List(LatencyBucket);
  # Errors by the class the app gave them (those without one are not listed).
  errorClasses @9 :List(ErrorClassCount);
  # Of errorCount, those the sidecar's own HTTP probe of the app counted.
  probeErrorCount @10 :UInt64;
  probeOkCount @11 :UInt64;
}

struct LatencyBucket {
  index @0 :UInt16;
  count @1 :UInt64;
}

struct ErrorClassCount {
  name @0 :Text;
  count @1 :UInt64;
}

# Implemented by the sidecar; control holds it for the session.
# `traceparent` (W3C Trace Context) names the change that caused the call:
# the sidecar logs it with what it does and echoes it in its answer.
interface Sidecar {
  push @0 (snapshot :Snapshot, traceparent :Text) -> (result :ApplyResult);
  # Make a resident version active (blue-green flip, rollback, or one
  # staged before control's commit). With `contentHash`, only if the
  # resident version has that content (the sidecar NACKs otherwise and
  # control pushes the version); without, whatever the version holds.
  activate @1 (namespace :Text, version :UInt64, traceparent :Text, contentHash :Data)
      -> (result :ApplyResult);
}

# Returned by attach; dropping it (or the connection) ends the session.
interface Session {
  heartbeat @0 (held :List(HeldVersion)) -> ();
  # One interval's reports. `epoch` is fixed for the life of a sidecar
  # process and `sequence` counts its intervals from 1: control counts a
  # (epoch, sequence) once, so a sidecar that resends after a reconnect
  # never double-counts, and one that keeps unanswered reports never drops
  # a window. Answers the highest sequence control holds for the epoch.
  reportHealth @1 (reports :List(HealthReport), epoch :UInt64, sequence :UInt64)
      -> (acceptedThrough :UInt64);
}

# Control's bootstrap capability.
interface Control {
  attach @0 (node :NodeInfo, sidecar :Sidecar)
      -> (session :Session, heartbeatIntervalMs :UInt32);
}

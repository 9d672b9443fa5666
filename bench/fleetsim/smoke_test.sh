#!/bin/sh
# The fleet sim, small: 200 sims on one control (SQLite), then 300 on two
# replicas sharing a PostgreSQL and a Redis the sim starts; 3 releases
# each. Checks the JSON line's fields and counts (every sim applied every
# release); no timing is judged.
# Usage: smoke_test.sh PATH/TO/hotswap-fleet-sim WORK_DIR
set -eu
sim=$1
dir=$2
mkdir -p "$dir"

# run NAME SIDECARS REPLICAS STORE: runs the sim and checks its last line.
run() {
  name=$1 sidecars=$2 replicas=$3 store=$4
  if ! "$sim" --sidecars "$sidecars" --replicas "$replicas" --publishes 3 --threads 2 \
      --spacing-ms 0 >"$dir/$name.json" 2>"$dir/$name.log" </dev/null; then
    echo "hotswap-fleet-sim ($name) failed; its log:"
    tail -n 40 "$dir/$name.log"
    exit 1
  fi
  tail -n 1 "$dir/$name.json" | python3 -c '
import json, sys
sidecars, replicas, store = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = json.loads(sys.stdin.read())
fields = ["sidecars", "replicas", "store", "sidecars_each", "p50_ms", "p99_ms", "publishes",
          "all_applied_publishes", "applies", "refusals", "apply_p50_ms", "apply_p99_ms",
          "control_rss_mb", "control_rss_mb_each", "control_rss_mb_per_1000",
          "control_cpu_ms_per_publish", "control_cpu_ms_per_publish_each",
          "control_cpu_ms_per_publish_per_1000", "load_average"]
if store == "postgres":
    fields += ["postgres_pss_mb", "postgres_cpu_ms_per_publish"]
for f in fields:
    assert f in r, "missing field " + f
assert r["sidecars"] == sidecars and r["replicas"] == replicas and r["store"] == store, r
assert sum(r["sidecars_each"]) == sidecars and len(r["sidecars_each"]) == replicas, r
assert max(r["sidecars_each"]) - min(r["sidecars_each"]) <= 1, r
assert r["publishes"] == 3 and r["all_applied_publishes"] == 3, r
assert r["applies"] == sidecars * 3, r
assert r["refusals"] == 0, r
assert len(r["control_rss_mb_each"]) == replicas and min(r["control_rss_mb_each"]) > 0, r
assert abs(sum(r["control_rss_mb_each"]) - r["control_rss_mb"]) < 0.1 * replicas + 0.01, r
assert len(r["control_cpu_ms_per_publish_each"]) == replicas, r
if store == "postgres":
    assert r["postgres_pss_mb"] > 0, r
else:
    assert "postgres_pss_mb" not in r, r
print("ok:", json.dumps(r))
' "$sidecars" "$replicas" "$store"
}

run one 200 1 sqlite
run replicas 300 2 postgres

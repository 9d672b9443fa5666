#!/bin/sh
# The fleet sim, small: 200 sims, 3 releases. Checks the JSON line's fields
# and counts (every sim applied every release); no timing is judged.
# Usage: smoke_test.sh PATH/TO/hotswap-fleet-sim WORK_DIR
set -eu
sim=$1
dir=$2
mkdir -p "$dir"
if ! "$sim" --sidecars 200 --publishes 3 --threads 2 --spacing-ms 0 \
    >"$dir/out.json" 2>"$dir/log.txt" </dev/null; then
  echo "hotswap-fleet-sim failed; its log:"
  tail -n 40 "$dir/log.txt"
  exit 1
fi
tail -n 1 "$dir/out.json" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
for f in ("sidecars", "replicas", "p50_ms", "p99_ms", "control_rss_mb", "publishes",
          "all_applied_publishes", "applies", "refusals", "apply_p50_ms", "apply_p99_ms",
          "control_cpu_ms_per_publish_per_1000", "control_rss_mb_per_1000", "load_average"):
    assert f in r, "missing field " + f
assert r["sidecars"] == 200, r
assert r["replicas"] == 1, r
assert r["publishes"] == 3 and r["all_applied_publishes"] == 3, r
assert r["applies"] == 200 * 3, r
assert r["refusals"] == 0, r
assert r["control_rss_mb"] > 0, r
print("ok:", json.dumps(r))
'

#!/bin/bash
# The fan-out curve of docs/benchmarks.md: hotswap-fleet-sim at each fleet
# size, one JSON line per run appended to DATA, then the table (markdown, on
# stdout) and the plot (PNG, gnuplot) regenerated from all of DATA.
#
#   bench/fleetsim/curve.sh BUILD_DIR DATA PNG [SIZES...] [-- SIM_FLAGS...]
#   bench/fleetsim/curve.sh --render DATA PNG    # table and plot only
#
# SIZES default to 1000 5000 10000; SIM_FLAGS go to every run (default
# --publishes 20). Needs python3 and gnuplot (apt-get install gnuplot-nox).
set -euo pipefail

render() {
  local data=$1 png=$2
  python3 - "$data" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| sidecars | replicas | all applied p50 | p99 | per-sim apply p50 / p99 | control RSS | RSS per 1,000 | control CPU per release per 1,000 | CPU to all applied: control / sims | load average before / after |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["replicas"], r["sidecars"])):
    print(f'| {r["sidecars"]:,} | {r["replicas"]} | {r["p50_ms"]:.0f} ms | {r["p99_ms"]:.0f} ms '
          f'| {r["apply_p50_ms"]:.0f} / {r["apply_p99_ms"]:.0f} ms | {r["control_rss_mb"]:.0f} MB '
          f'| {r["control_rss_mb_per_1000"]:.1f} MB | {r["control_cpu_ms_per_publish_per_1000"]:.0f} ms '
          f'| {r.get("control_fanout_cpu_ms_per_publish", "-")} / {r.get("sim_fanout_cpu_ms_per_publish", "-")} ms '
          f'| {r.get("load_average_before", "-")} / {r["load_average"]} |')
with open(sys.argv[1] + ".dat", "w") as out:
    for r in sorted(rows, key=lambda r: r["sidecars"]):
        out.write(f'{r["sidecars"]} {r["p50_ms"]} {r["p99_ms"]} {r["control_rss_mb"]}\n')
PY
  gnuplot <<GP
set terminal pngcairo size 900,520 font ",11"
set output "$png"
set title "hotswap-fleet-sim: publish -> every sidecar applied (one control, SQLite, 2 cores)"
set xlabel "sidecars"
set ylabel "time to all applied (ms)"
set y2label "control RSS (MB)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key left top
set grid
plot "$data.dat" using 1:2 with linespoints lw 2 title "all applied, p50", \
     "$data.dat" using 1:3 with linespoints lw 2 title "all applied, p99", \
     "$data.dat" using 1:4 axes x1y2 with linespoints dt 2 lw 2 title "control RSS (right)", \
     1000 with lines dt 3 lc rgb "red" title "bound: 1 s"
GP
  rm -f "$data.dat"
}

if [[ ${1:-} == --render ]]; then
  render "$2" "$3"
  exit 0
fi

build=$1 data=$2 png=$3
shift 3
sizes=()
while [[ $# -gt 0 && $1 != -- ]]; do sizes+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
flags=("$@")
[[ ${#sizes[@]} -eq 0 ]] && sizes=(1000 5000 10000)
[[ ${#flags[@]} -eq 0 ]] && flags=(--publishes 20)

for n in "${sizes[@]}"; do
  echo "== $n sidecars (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$build/bench/fleetsim/hotswap-fleet-sim" --sidecars "$n" "${flags[@]}" | tail -n 1 >>"$data"
done
render "$data" "$png"

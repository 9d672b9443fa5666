#!/bin/bash
# The fan-out curve of docs/benchmarks.md: hotswap-fleet-sim at each fleet
# size, one JSON line per run appended to DATA, then the tables (markdown,
# on stdout) and the plot (PNG, gnuplot) regenerated from DATA.
#
#   bench/fleetsim/curve.sh BUILD_DIR DATA PNG [SIZES...] [-- SIM_FLAGS...]
#   bench/fleetsim/curve.sh --render DATA PNG    # tables and plot only
#
# SIZES default to 1000 5000 10000; SIM_FLAGS go to every run (default
# --publishes 20), --replicas R and --store among them. The tables and the
# plot show the latest run of each (replicas, store, sidecars), one row
# each, one curve per (replicas, store); DATA keeps every run. Needs
# python3 and gnuplot (apt-get install gnuplot-nox).
set -euo pipefail

render() {
  local data=$1 png=$2 work
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  python3 - "$data" "$png" "$work" <<'PY'
import json, sys
data, png, work = sys.argv[1:4]
latest = {}
for line in open(data):
    if not line.strip():
        continue
    r = json.loads(line)
    r.setdefault("store", "sqlite")  # runs from before --store were all on SQLite
    latest[(r["replicas"], r["store"], r["sidecars"])] = r
# By replicas, SQLite before PostgreSQL, then by size.
rows = [latest[k] for k in sorted(latest, key=lambda k: (k[0], k[1] != "sqlite", k[2]))]
store_name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
def group(r):
    return f'{r["replicas"]} {"replica" if r["replicas"] == 1 else "replicas"}, {store_name[r["store"]]}'
def each(r, field):  # each replica's value; one control's runs have only the whole
    return r.get(field + "_each", [r[field]])
def fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"

print("| sidecars | replicas, store | releases | all applied p50 | p99 | per-sim apply p50 / p99 | control RSS | RSS per 1,000 | control CPU per release per 1,000 | CPU to all applied: control / sims | PostgreSQL PSS / CPU per release | load average before / after |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    postgres = (f'{r["postgres_pss_mb"]:.0f} MB / {r["postgres_cpu_ms_per_publish"]:.0f} ms'
                if "postgres_pss_mb" in r else "-")
    print(f'| {r["sidecars"]:,} | {group(r)} | {r["publishes"]} | {r["p50_ms"]:.0f} ms | {r["p99_ms"]:.0f} ms '
          f'| {r["apply_p50_ms"]:.0f} / {r["apply_p99_ms"]:.0f} ms | {r["control_rss_mb"]:.0f} MB '
          f'| {r["control_rss_mb_per_1000"]:.1f} MB | {r["control_cpu_ms_per_publish_per_1000"]:.0f} ms '
          f'| {r.get("control_fanout_cpu_ms_per_publish", "-")} / {r.get("sim_fanout_cpu_ms_per_publish", "-")} ms '
          f'| {postgres} | {r.get("load_average_before", "-")} / {r["load_average"]} |')

# Each replica: the sidecars it held, its memory, its CPU per release,
# and that CPU per 1,000 of its own sidecars.
print()
print("| sidecars | replicas, store | each replica: sidecars | RSS (idle + per 1,000 of its sidecars) | CPU per release | CPU per release per 1,000 of its sidecars |")
print("|---|---|---|---|---|---|")
for r in rows:
    held = r.get("sidecars_each", [r["sidecars"]])
    rss = each(r, "control_rss_mb")
    idle = each(r, "control_idle_rss_mb")
    cpu = each(r, "control_cpu_ms_per_publish")
    per_1000 = [(m - i) / (n / 1000) for m, i, n in zip(rss, idle, held)]
    cpu_1000 = [c / (n / 1000) for c, n in zip(cpu, held)]
    join = lambda values, unit, d=0: " / ".join(fmt(v, d) for v in values) + unit
    print(f'| {r["sidecars"]:,} | {group(r)} | {join(held, "")} '
          f'| {join(rss, " MB")} ({join(idle, " MB")} + {join(per_1000, " MB", 1)}) '
          f'| {join(cpu, " ms")} | {join(cpu_1000, " ms")} |')

# The plot: one colour per (replicas, store); p50 solid, p99 dashed,
# control RSS (all replicas) dotted on the right axis. Times on a log
# scale: they span milliseconds to minutes.
groups = {}
for r in rows:
    groups.setdefault((r["replicas"], r["store"]), []).append(r)
plots = []
for i, (key, members) in enumerate(sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] != "sqlite"))):
    path = f"{work}/{i}.dat"
    with open(path, "w") as out:
        for r in sorted(members, key=lambda r: r["sidecars"]):
            out.write(f'{r["sidecars"]} {r["p50_ms"]} {r["p99_ms"]} {r["control_rss_mb"]}\n')
    name = group(members[0])
    colour = i + 1
    plots += [f'"{path}" using 1:2 with linespoints lw 2 lc {colour} pt 7 title "{name}: all applied p50"',
              f'"{path}" using 1:3 with linespoints lw 2 lc {colour} dt 2 pt 7 title "{name}: p99"',
              f'"{path}" using 1:4 axes x1y2 with linespoints lw 1 lc {colour} dt 3 pt 6 title "{name}: control RSS (right)"']
plots.append('1000 with lines dt 3 lc rgb "red" title "bound: 1 s"')
with open(f"{work}/plot.gp", "w") as gp:
    gp.write(f'''set terminal pngcairo size 960,640 font ",11"
set output "{png}"
set title "hotswap-fleet-sim: publish -> every sidecar applied (controls, store and sims on 2 cores)"
set xlabel "sidecars"
set ylabel "time to all applied (ms, log scale)"
set logscale y
set y2label "control RSS, all replicas (MB)"
set ytics nomirror
set y2tics
set yrange [50:*]
set y2range [0:*]
set key below font ",9" maxrows 4
set grid
plot {", ".join(plots)}
''')
PY
  gnuplot "$work/plot.gp"
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
  echo "== $n sidecars, ${flags[*]} (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$build/bench/fleetsim/hotswap-fleet-sim" --sidecars "$n" "${flags[@]}" | tail -n 1 >>"$data"
done
render "$data" "$png"

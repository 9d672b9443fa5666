#!/usr/bin/env bash
# hotswap against etcd, side by side in one run. Starts an etcd of its own
# (free loopback ports, a fresh data directory, fsync on as by default),
# then runs ROUNDS rounds of hotswap-bench-propagation and
# hotswap-bench-etcd, alternating which goes first, so that a slow phase of
# the machine falls on both alike:
#   single  1 sidecar  / 1 `etcdctl watch` process
#   fleet   200 sidecars / 200 `etcdctl watch` processes
# Further flags go to both benchmarks (--runs, --warmup, --keys, --timeout,
# --gap-ms). Both pace their releases alike: each starts --gap-ms (50 unless
# given) after the previous one reached its last consumer, and hotswap's
# also after control showed its deployment ended (about 20 ms). Back to
# back, etcd would find its caches warm and its CPUs awake while hotswap's
# release came after that wait: etcd's own p50 moves from 1.3-1.4 ms back
# to back to 2.3-2.7 ms with 35-50 ms between puts (docs/benchmarks.md).
# Prints one JSON line per run, then the median over the rounds of each
# one's p50 and p99 and whether hotswap's are at or below etcd's. Every
# run's samples and log are kept in BUILD_DIR/vs-etcd-MODE/.
# Exit 0: both at or below etcd's; 1: not; 2: usage or a run failed.
#
#   bench/vs_etcd.sh BUILD_DIR ROUNDS single|fleet [benchmark flags...]
#   bench/vs_etcd.sh build 3 single
#   bench/vs_etcd.sh build 2 fleet
set -euo pipefail
usage() {
  awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}
[ $# -ge 3 ] || usage
build=$1 rounds=$2 mode=$3
shift 3
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage
# Both get --gap-ms 50 unless it was given (as `--gap-ms N` or `--gap-ms=N`).
gap_given=no
for flag in "$@"; do [[ $flag == --gap-ms || $flag == --gap-ms=* ]] && gap_given=yes; done
[ "$gap_given" = yes ] || set -- --gap-ms 50 "$@"
case $mode in
  single) hotswap_flags=() etcd_flags=(--watchers 1) ;;
  fleet) hotswap_flags=(--sidecars 200) etcd_flags=(--watchers 200) ;;
  *) usage ;;
esac
hotswap_bench=$build/bench/hotswap-bench-propagation
etcd_bench=$build/bench/hotswap-bench-etcd
for b in "$hotswap_bench" "$etcd_bench"; do
  [ -x "$b" ] || { echo "vs_etcd: no $b (build it first)" >&2; exit 2; }
done
for tool in etcd etcdctl curl; do
  command -v "$tool" >/dev/null || { echo "vs_etcd: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done
out=$build/vs-etcd-$mode
mkdir -p "$out"

tmp=$(mktemp -d)
etcd_pid="" bench_pid=""
# SIGTERM lets a benchmark stop its own processes; SIGKILL after a bound.
stop() {
  local pid=$1 bound=$2
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((bound * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$bench_pid" 60
  stop "$etcd_pid" 10
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port nothing accepts on; etcd is restarted on others if it
# still loses a race for one.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

start_etcd() {
  local attempt client peer
  for attempt in 1 2 3 4 5; do
    client=$(free_port) peer=$(free_port)
    [ "$client" != "$peer" ] || continue
    rm -rf "$tmp/etcd"
    etcd --name vs-etcd --data-dir "$tmp/etcd" \
      --listen-client-urls "http://127.0.0.1:$client" \
      --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" \
      --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "vs-etcd=http://127.0.0.1:$peer" \
      --logger zap --log-level warn >"$tmp/etcd.log" 2>&1 &
    etcd_pid=$!
    for _ in $(seq 1 300); do
      if curl -sf "http://127.0.0.1:$client/health" 2>/dev/null | grep -q '"health":"true"'; then
        endpoint=127.0.0.1:$client
        echo "vs_etcd: etcd $(etcd --version | sed -n 's/^etcd Version: //p') on $endpoint" \
          "(pid $etcd_pid, data in a fresh directory)" >&2
        return
      fi
      kill -0 "$etcd_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop "$etcd_pid" 10
    etcd_pid=""
    echo "vs_etcd: etcd did not start on $client/$peer (attempt $attempt):" >&2
    tail -3 "$tmp/etcd.log" >&2
  done
  echo "vs_etcd: giving up on starting etcd" >&2
  exit 2
}

# Waits (at most 30 s) until the machine has been quiet for a second: what
# the previous run started (200 processes in fleet mode) has exited and
# nothing else runs, so that neither system's run starts in the other's
# wake.
settle() {
  local quiet=0 running
  for _ in $(seq 1 300); do
    running=$(awk '/^procs_running/ { print $2 }' /proc/stat)
    if ((running <= 2)); then quiet=$((quiet + 1)); else quiet=0; fi
    ((quiet < 10)) || return 0
    sleep 0.1
  done
}

# run SYSTEM ROUND [flags...]: one benchmark run; its result line on stdout.
run() {
  local system=$1 round=$2 load result
  local file=$out/$system-$round
  shift 2
  settle
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  if [ "$system" = hotswap ]; then
    "$hotswap_bench" "${hotswap_flags[@]}" "$@" --out "$file.json" >"$file.stdout" 2>"$file.log" &
  else
    "$etcd_bench" --endpoint "$endpoint" --etcdctl "$(command -v etcdctl)" "${etcd_flags[@]}" \
      "$@" --out "$file.json" >"$file.stdout" 2>"$file.log" &
  fi
  bench_pid=$!
  if ! wait "$bench_pid"; then
    bench_pid=""
    echo "vs_etcd: $system round $round failed; the end of $file.log:" >&2
    tail -5 "$file.log" >&2
    exit 2
  fi
  bench_pid=""
  result=$(tail -1 "$file.stdout")
  echo "{\"round\":$round,\"system\":\"$system\",\"load_average\":\"$load\",\"result\":$result}"
  field "$result" p50_us >>"$tmp/$system.p50"
  field "$result" p99_us >>"$tmp/$system.p99"
}

field() {
  sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"
}

median() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

start_etcd
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$rounds"); do
  if ((round % 2)); then order=(hotswap etcd); else order=(etcd hotswap); fi
  for system in "${order[@]}"; do run "$system" "$round" "$@"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

hp50=$(median "$tmp/hotswap.p50") hp99=$(median "$tmp/hotswap.p99")
ep50=$(median "$tmp/etcd.p50") ep99=$(median "$tmp/etcd.p99")
verdict() { awk -v h="$1" -v e="$2" 'BEGIN { print (h <= e ? "yes" : "NO") }'; }
p50_met=$(verdict "$hp50" "$ep50") p99_met=$(verdict "$hp99" "$ep99")
flags="$*"
awk -v mode="$mode" -v rounds="$rounds" -v flags="$flags" -v hp50="$hp50" -v hp99="$hp99" -v ep50="$ep50" \
  -v ep99="$ep99" -v lb="$load_before" -v la="$load_after" 'BEGIN {
  printf "\n%s, %d round(s), medians over the rounds; load average %s before, %s after\n",
    mode, rounds, lb, la
  printf "flags given to both: %s\n", flags
  printf "| %-13s | %10s | %10s |\n", "", "p50 (ms)", "p99 (ms)"
  printf "|---------------|------------|------------|\n"
  printf "| %-13s | %10.2f | %10.2f |\n", "hotswap", hp50 / 1000, hp99 / 1000
  printf "| %-13s | %10.2f | %10.2f |\n", "etcd", ep50 / 1000, ep99 / 1000
  printf "| %-13s | %9.2fx | %9.2fx |\n", "hotswap/etcd", hp50 / ep50, hp99 / ep99
}'
echo "hotswap p50 at or below etcd's: $p50_met; p99 at or below etcd's: $p99_met"
echo "samples and logs: $out"
[ "$p50_met" = yes ] && [ "$p99_met" = yes ]

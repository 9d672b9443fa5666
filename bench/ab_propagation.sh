#!/usr/bin/env bash
# Interleaved comparison of the propagation benchmark between two or more
# builds: each round runs every build's hotswap-bench-propagation (each
# starts its own control and sidecars), the order rotating by one build
# each round, so that a slow phase of the machine falls on all alike.
# Prints one JSON line per run.
#
#   bench/ab_propagation.sh BUILD_A BUILD_B [BUILD_C ...] ROUNDS [benchmark flags...]
#   bench/ab_propagation.sh ../before/build build 6 --runs 200
#   bench/ab_propagation.sh ../before/build ../mid/build build 24 --runs 200
#   bench/ab_propagation.sh ../before/build build 4 --sidecars 200 --runs 50
set -euo pipefail
usage() {
  sed -n '2,11p' "$0" >&2
  exit 2
}
builds=()
while [ $# -gt 0 ] && ! [[ $1 =~ ^[0-9]+$ ]]; do
  builds+=("$1")
  shift
done
[ ${#builds[@]} -ge 2 ] && [ $# -ge 1 ] || usage
rounds=$1
shift
for build in "${builds[@]}"; do
  [ -x "$build/bench/hotswap-bench-propagation" ] || {
    echo "no $build/bench/hotswap-bench-propagation" >&2
    exit 2
  }
done
n=${#builds[@]}
for round in $(seq 1 "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    build=${builds[$(((round - 1 + k) % n))]}
    result=$("$build/bench/hotswap-bench-propagation" "$@" 2>/dev/null | tail -1)
    echo "{\"round\":$round,\"build\":\"$build\",\"result\":$result}"
  done
done

#!/usr/bin/env bash
# Interleaved A/B of the propagation benchmark between two builds: each
# round runs both builds' hotswap-bench-propagation (each starts its own
# control and sidecars), alternating which goes first, so that a slow
# phase of the machine falls on both alike. Prints one JSON line per run.
#
#   bench/ab_propagation.sh BUILD_A BUILD_B ROUNDS [benchmark flags...]
#   bench/ab_propagation.sh ../before/build build 6 --runs 200
#   bench/ab_propagation.sh ../before/build build 4 --sidecars 200 --runs 50
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
a=$1 b=$2 rounds=$3
shift 3
for build in "$a" "$b"; do
  [ -x "$build/bench/hotswap-bench-propagation" ] || {
    echo "no $build/bench/hotswap-bench-propagation" >&2
    exit 2
  }
done
for round in $(seq 1 "$rounds"); do
  if ((round % 2)); then order=("$a" "$b"); else order=("$b" "$a"); fi
  for build in "${order[@]}"; do
    result=$("$build/bench/hotswap-bench-propagation" "$@" 2>/dev/null | tail -1)
    echo "{\"round\":$round,\"build\":\"$build\",\"result\":$result}"
  done
done

#!/bin/sh
# Usage: run_fuzzer.sh FUZZER CORPUS WORK_DIR
# Runs a libFuzzer target for HOTSWAP_FUZZ_SECONDS (default 10; 0 only
# replays CORPUS), starting from CORPUS, which it only reads: the inputs it
# finds go to WORK_DIR/new (emptied first), a crashing input to
# WORK_DIR/crash-<sha1> (tests/fuzz/README.md says what to do with one).
set -eu
if [ $# -ne 3 ]; then
  echo "usage: $0 FUZZER CORPUS WORK_DIR" >&2
  exit 2
fi
fuzzer=$1 corpus=$2 work=$3
seconds=${HOTSWAP_FUZZ_SECONDS:-10}
case $seconds in
  '' | *[!0-9]*)
    echo "HOTSWAP_FUZZ_SECONDS must be a whole number of seconds, got '$seconds'" >&2
    exit 2
    ;;
esac
rm -rf "$work"
mkdir -p "$work/new"
if [ "$seconds" -eq 0 ]; then
  set -- -runs=0
else
  set -- -max_total_time="$seconds"
fi
# A small ASan quarantine: with the default 256 MB every allocation comes
# from fresh pages, whose faults cut executions per second 1.3x (snapshot)
# to 6x (lkg_cache) on a virtual machine. Options in ASAN_OPTIONS win.
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# -timeout: one input taking 10 s is a hang. -malloc_limit_mb: an input of
# at most 4 KiB that makes the code allocate 64 MiB at once is a bug (a
# tiny file or message must not reserve what its header claims). ASan's
# quarantine stays well below -rss_limit_mb.
# The targets' own files (lkg_cache) go to a directory removed afterwards,
# also when the target crashed.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
TMPDIR=$scratch "$fuzzer" "$@" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus"

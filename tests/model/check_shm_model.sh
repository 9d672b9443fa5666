#!/usr/bin/env bash
# Model-checks the shared-memory protocol (docs/shm-protocol.pml) with Spin.
#
#   check_shm_model.sh MODEL properties   every property holds, exhaustively
#   check_shm_model.sh MODEL mutations    the checker finds each planted bug
#
# Each check generates the verifier (spin -a), compiles it and runs it
# over the whole state space. A search that ends early (memory bound,
# depth bound) fails the check: a property "holds" only over every state.
# A mutation passes when the verifier reports the violation expected of it.
# Fails when spin or a C compiler is missing (scripts/install-deps.sh
# installs spin).
set -euo pipefail

model=${1:?usage: check_shm_model.sh MODEL properties|mutations}
what=${2:?usage: check_shm_model.sh MODEL properties|mutations}
[ -f "$model" ] || { echo "check_shm_model: no model at $model" >&2; exit 2; }
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
command -v spin >/dev/null || {
  echo "check_shm_model: spin not found (Debian package 'spin'; scripts/install-deps.sh)" >&2
  exit 2
}
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "check_shm_model: no C compiler '$cc'" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The configurations of the model (see its header).
one_thread="-DNTHREADS=1 -DMAXDEATH=1 -DMAXTRANSIENT=1"
recovery="-DNTHREADS=1 -DMAXDEATH=2 -DMAXTRANSIENT=1 -DNOPS=2"
two_threads="-DNTHREADS=2 -DMAXDEATH=0 -DMAXTRANSIENT=0 -DNOPS=3"
liveness="-DNTHREADS=1 -DMAXDEATH=1 -DMAXTRANSIENT=1 -DREADS_ON_CHANGE"
safety_cc="-DSAFETY -DNOCLAIM"
pan_flags="-m1000000 -w22"
small="-m1000000 -w19" # the mutations' searches stop at their first error

passed=0
failed=0

# run NAME SPIN_DEFINES CC_DEFINES PAN_FLAGS: leaves the verifier's output
# in $work/NAME/out.
run() {
  local dir=$work/$1
  mkdir -p "$dir"
  (cd "$dir" && spin $2 -a "$model" >spin.out 2>&1) || {
    cat "$dir/spin.out" >&2
    return 1
  }
  (cd "$dir" && "$cc" -O0 -w -DMEMLIM=2048 $3 -o pan pan.c) || return 1
  (cd "$dir" && ./pan $4 >out 2>&1) || true
}

# A one-line account: states, depth, time.
account() {
  local out=$1
  local states depth secs
  states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$out" | head -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$out" | head -1)
  secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds/\1/p' "$out" | head -1)
  echo "${states:-?} states, depth ${depth:-?}, ${secs:-?} s"
}

complete() {
  ! grep -qE 'Search not completed|reached -DMEMLIM bound|max search depth too small|out of memory' "$1"
}

# holds NAME WHAT SPIN_DEFINES CC_DEFINES PAN_FLAGS
holds() {
  local name=$1 what=$2
  if ! run "$name" "$3" "$4" "$5"; then
    echo "FAIL $what: the verifier did not build"
    failed=$((failed + 1))
    return
  fi
  local out=$work/$name/out
  if grep -q 'errors: 0' "$out" && complete "$out"; then
    echo "ok   $what: $(account "$out")"
    passed=$((passed + 1))
  else
    echo "FAIL $what: $(account "$out")"
    grep -E 'pan:|violated|acceptance|invalid end|error' "$out" | head -5 | sed 's/^/     /'
    # the last steps of the counterexample, if one was written
    local trail
    trail=$(ls "$work/$name"/*.trail 2>/dev/null | head -1) || true
    if [ -n "$trail" ]; then
      (cd "$work/$name" && ./pan -r "$trail" 2>&1 | grep -E '^ *[0-9]+:.*proc' | tail -30 |
        sed 's/^/     /') || true
    fi
    failed=$((failed + 1))
  fi
}

# caught NAME WHAT SPIN_DEFINES CC_DEFINES PAN_FLAGS EXPECTED: the verifier
# reports an error whose line contains EXPECTED.
caught() {
  local name=$1 what=$2 expected=$6
  if ! run "$name" "$3" "$4" "$5"; then
    echo "FAIL $what: the verifier did not build"
    failed=$((failed + 1))
    return
  fi
  local out=$work/$name/out found
  found=$(grep -E '^pan:[0-9]+: ' "$out" | head -1 | sed 's/^pan:[0-9]*: //; s/ (at depth [0-9]*)//')
  if grep -qE 'errors: [1-9]' "$out" && [[ "$found" == *"$expected"* ]]; then
    echo "ok   $what: found '$found' ($(account "$out"))"
    passed=$((passed + 1))
  else
    echo "FAIL $what: expected '$expected', got '${found:-no error}' ($(account "$out"))"
    failed=$((failed + 1))
  fi
}

case "$what" in
  properties)
    holds safety "safety, one reader thread, a writer dying once anywhere" \
      "$one_thread" "$safety_cc" "$pan_flags"
    holds recovery "safety, a writer dying twice (again while it recovers), two pushes" \
      "$recovery" "$safety_cc" "$pan_flags"
    holds threads "safety, two threads sharing a Handle" \
      "$two_threads" "$safety_cc" "$pan_flags"
    holds liveness "liveness: the writer finishes, every unneeded segment goes" \
      "$liveness" "" "-a $pan_flags"
    ;;
  mutations)
    caught release "BUG_RELEASE_ORDER: a reader reads a half-written segment" \
      "$one_thread -DBUG_RELEASE_ORDER" "$safety_cc" "$small" "seg_state[dname]==2"
    caught reclaim "BUG_EARLY_RECLAIM: a reader is directed to an unlinked version" \
      "$one_thread -DBUG_EARLY_RECLAIM" "$safety_cc" "$small" "word!=before"
    caught release_ref "BUG_EARLY_RELEASE: a thread reads a mapping its process released" \
      "$two_threads -DBUG_EARLY_RELEASE" "$safety_cc" "$small" "seg_refs[rseg]>0"
    caught seqlock "BUG_SEQLOCK_ORDER: a Handle returns another version's value" \
      "$two_threads -DBUG_SEQLOCK_ORDER" "$safety_cc" "$small" "hbits==act_ver"
    caught gc "BUG_NO_GC: a killed writer's leftover is never reclaimed" \
      "$liveness -DBUG_NO_GC" "" "-a -A $small" "acceptance cycle"
    caught free_slot "CXX_FREE_SLOT: the writer rewrites the slot readers are directed to" \
      "$one_thread -DCXX_FREE_SLOT" "$safety_cc" "$small" "s!=(word%4)"
    caught relaxed "CXX_RELAXED_SLOT_STORES: a reader accepts a torn descriptor" \
      "$one_thread -DCXX_RELAXED_SLOT_STORES" "$safety_cc" "$small" "dsum==dname"
    ;;
  *)
    echo "check_shm_model: '$what' is neither 'properties' nor 'mutations'" >&2
    exit 2
    ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

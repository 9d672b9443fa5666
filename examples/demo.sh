#!/usr/bin/env bash
# make demo: the whole system on this machine. hotswap-control on a
# temporary data dir, one hotswap-sidecar, and an application
# (hotswap-example-app) that prints its configuration on every change;
# hotswapctl publishes and deploys versions 1, 2 and 3. Everything shuts
# down cleanly; the script exits 0 only if the app saw all three versions.
set -euo pipefail

build=${1:-build}
work=$(mktemp -d)
scope="demo-$$"  # own shared-memory names: nothing else on the host is touched
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work" "/dev/shm/hs@${scope}+"* 2>/dev/null || true
}
trap cleanup EXIT

# Waits (bounded) until FILE contains PATTERN.
await() {
  local file=$1 pattern=$2
  for _ in $(seq 1 300); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "demo: timed out waiting for '$pattern' in $file" >&2
  return 1
}

step() { printf '\n== %s\n' "$*"; }

step "start hotswap-control (data in a temporary directory)"
"$build/control/hotswap-control" --data-dir "$work/control" --http-listen 127.0.0.1:0 \
  --rpc-listen 127.0.0.1:0 --heartbeat-interval-ms 500 --log-level warn >"$work/control.out" &
pids+=($!)
await "$work/control.out" "hotswap-control ready"
cat "$work/control.out"
http=$(sed -n 's/.*http=\([^ ]*\).*/\1/p' "$work/control.out")
rpc=$(sed -n 's/.*rpc=\([^ ]*\).*/\1/p' "$work/control.out")
export HOTSWAP_URL="http://$http" HOTSWAP_AUTHOR=demo

ctl() {
  echo "\$ hotswapctl $*"
  "$build/cli/hotswapctl" "$@"
}

step "create the namespace and publish version 1"
ctl tenant create demo
ctl ns create demo/checkout
ctl set demo/checkout rate_limit 100 --type int64
ctl set demo/checkout banner "welcome" --type string
ctl set demo/checkout timeout 250ms --type duration
ctl publish demo/checkout -m "launch"

step "start a sidecar subscribed to demo/checkout, and deploy version 1"
"$build/sidecar/hotswap-sidecar" --control "$rpc" --node-id demo-node \
  --namespaces demo/checkout --cache-dir "$work/cache" --scope "$scope" --log-level warn &
pids+=($!)
ctl deploy demo/checkout 1 --wait

step "start the app: it prints its configuration on every change"
HOTSWAP_SCOPE="$scope" "$build/examples/hotswap-example-app" demo/checkout \
  --until-version 3 >"$work/app.out" &
app=$!
pids+=($app)
await "$work/app.out" "version 1:"
cat "$work/app.out"

step "version 2"
ctl set demo/checkout rate_limit 250 --type int64
ctl set demo/checkout banner "spring sale" --type string
ctl publish demo/checkout -m "spring sale"
ctl deploy demo/checkout 2 --wait
await "$work/app.out" "version 2:"
tail -n 1 "$work/app.out"

step "version 3 (a whole document, as CI pipelines publish)"
cat >"$work/v3.json" <<'JSON'
{"rate_limit": 500, "banner": "spring sale: last day",
 "timeout": {"type": "duration", "value": "400ms"}}
JSON
ctl apply demo/checkout -f "$work/v3.json" -m "last day"
ctl deploy demo/checkout 3 --wait
await "$work/app.out" "version 3:"
tail -n 1 "$work/app.out"

step "history and the instance as control sees them"
ctl versions demo/checkout
ctl diff demo/checkout 1 3
ctl instances

wait "$app"
echo
echo "demo: the app saw versions 1, 2 and 3; shutting down"
# SIGTERM the sidecar, then control: each must exit 0.
for pid in "${pids[1]}" "${pids[0]}"; do
  kill -TERM "$pid"
  if ! wait "$pid"; then
    echo "demo: a process did not shut down cleanly" >&2
    exit 1
  fi
done
pids=()
echo "demo: done"

#!/usr/bin/env bash
# make demo: the whole system on this machine. hotswap-control on a
# temporary data dir, one hotswap-sidecar, and an application
# (hotswap-example-app) that prints its configuration on every change;
# hotswapctl publishes and deploys versions 1, 2 and 3. Then a fleet of four
# sidecars, each with a service recording its requests' outcomes: a canary
# of a version that fails requests is caught by the health gate and rolled
# back in its first stage, and a good version promotes through every
# stage. Everything shuts down cleanly; the script exits 0 only if all of
# that happened.
set -euo pipefail

build=${1:-build}
work=$(mktemp -d)
scope="demo-$$"  # own shared-memory names: nothing else on the host is touched
pids=()
services=()

cleanup() {
  for pid in "${services[@]}" "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${services[@]}" "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work" "/dev/shm/hs@${scope}"* 2>/dev/null || true
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
# The admin token control creates on its first start, and a node token for
# the sidecars; hotswapctl sends HOTSWAP_TOKEN, sidecars HOTSWAP_NODE_TOKEN.
random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
export HOTSWAP_BOOTSTRAP_TOKEN="hs_demo_admin_$(random_secret)"
export HOTSWAP_BOOTSTRAP_NODE_TOKEN="hs_demo_node_$(random_secret)"
export HOTSWAP_TOKEN="$HOTSWAP_BOOTSTRAP_TOKEN" HOTSWAP_NODE_TOKEN="$HOTSWAP_BOOTSTRAP_NODE_TOKEN"
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
echo "demo: the app saw versions 1, 2 and 3"

step "a fleet of four: three more sidecars, and a service on each recording its requests' outcomes"
services=()
for n in 1 2 3 4; do
  node="demo-node"
  node_scope="$scope"
  if [ "$n" -gt 1 ]; then
    node="demo-node-$n"
    node_scope="$scope-$n"
    "$build/sidecar/hotswap-sidecar" --control "$rpc" --node-id "$node" \
      --namespaces demo/checkout --cache-dir "$work/cache-$n" --scope "$node_scope" \
      --health-interval-ms 500 --log-level warn &
    pids+=($!)
  fi
  "$build/examples/hotswap-example-service" demo/checkout --rps 500 --scope "$node_scope" \
    >"$work/service-$n.out" &
  services+=($!)
done
for n in 1 2 3 4; do await "$work/service-$n.out" "service: version 3"; done
ctl instances

step "version 4 fails a quarter of its requests: a canary catches it in its first stage"
ctl set demo/checkout error_rate 0.25 --type double
ctl publish demo/checkout -m "a bad change"
set +e
ctl deploy demo/checkout 4 --strategy canary --stages 25,50,100 --bake 4s --wait
bad=$?
set -e
if [ "$bad" -ne 8 ]; then
  echo "demo: the bad canary was not rolled back (exit $bad)" >&2
  exit 1
fi
bad_id=$("$build/cli/hotswapctl" deployments --namespace demo/checkout -o json |
  sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
ctl rollout status "$bad_id"
ctl rollout gate "$bad_id" --limit 3

step "version 5 is good: it promotes through every stage"
ctl set demo/checkout error_rate 0 --type double
ctl publish demo/checkout -m "the fix"
ctl deploy demo/checkout 5 --strategy canary --stages 25,50,100 --bake 3s --wait
good_id=$("$build/cli/hotswapctl" deployments --namespace demo/checkout -o json |
  sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -n 1)
ctl rollout gate "$good_id" --limit 3
ctl health demo/checkout --window 1m

echo
echo "demo: the bad version was rolled back in its first stage, the good one released; shutting down"
for pid in "${services[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
# SIGTERM the sidecars, then control: each must exit 0.
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
  pid=${pids[$i]}
  [ "$pid" = "$app" ] && continue
  kill -TERM "$pid"
  if ! wait "$pid"; then
    echo "demo: a process did not shut down cleanly" >&2
    exit 1
  fi
done
pids=()
echo "demo: done"

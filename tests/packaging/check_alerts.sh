#!/usr/bin/env bash
# The alert rules with promtool: `check rules` and `check config` (the
# Prometheus configuration of the compose stack, which loads them), then
# `test rules` with alerts_test.yml (each alert fires on the series that
# should fire it and not on the others). Then the same unit tests over
# broken copies of the rules, each of which they must fail.
# Usage: check_alerts.sh SOURCE_DIR SCRATCH_DIR
set -euo pipefail
src=$1
scratch=$2
rules=$src/docker/prometheus/alerts.yml
command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus; scripts/install-deps.sh)" >&2; exit 1; }

promtool check rules "$rules"
promtool check config "$src/docker/prometheus/prometheus.yml"
(cd "$src/tests/packaging" && promtool test rules alerts_test.yml)

# Broken copies: the tests read ../../docker/prometheus/alerts.yml from a
# copy of themselves in the same layout.
rm -rf "$scratch"
mkdir -p "$scratch/docker/prometheus" "$scratch/tests/packaging"
cp "$src/tests/packaging/alerts_test.yml" "$scratch/tests/packaging/"
missed=0
mutate() {
  local what=$1 expr=$2
  sed "$expr" "$rules" >"$scratch/docker/prometheus/alerts.yml"
  if cmp -s "$rules" "$scratch/docker/prometheus/alerts.yml"; then
    echo "alerts: the mutation '$what' changed nothing (the rules changed; update it)" >&2
    missed=1
  elif (cd "$scratch/tests/packaging" && promtool test rules alerts_test.yml >/dev/null 2>&1); then
    echo "alerts: the unit tests pass on broken rules ($what)" >&2
    missed=1
  fi
}
mutate "a typo in a metric name" 's/hotswap_sidecar_connected/hotswap_sidecar_conected/'
mutate "a typo in a label value" 's/status="stale"/status="stal"/'
mutate "rollback threshold raised" 's/) > 0.25/) > 0.75/'
mutate "a for: too long" 's/for: 5m/for: 30m/'
mutate "a first failure missed" 's/ offset 15m/ offset 1m/'
mutate "NACKs counted as ACKs" 's/result="nack"/result="ack"/'
mutate "severity changed" 's/severity: critical/severity: warning/'
mutate "a leader counted where none is" 's/sum(hotswap_control_leader) < 1/sum(hotswap_control_leader) < 0/'
rm -rf "$scratch"
if [ "$missed" -ne 0 ]; then exit 1; fi
echo "alerts: rules valid, unit tests pass, 8 broken copies refused"

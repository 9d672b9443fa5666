#!/usr/bin/env bash
# Installs the Debian packages hotswap builds and tests with. Idempotent: when
# every package is already present it does nothing (no apt-get update).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libboost-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # The fuzz targets (tests/fuzz): clang 16 and its libFuzzer and sanitizer
  # runtimes; llvm-16 for llvm-symbolizer-16, which those runtimes look for
  # by that name to put functions and lines in their reports.
  clang-16 libclang-rt-16-dev llvm-16
  capnproto libcapnp-dev
  libspdlog-dev nlohmann-json3-dev libcli11-dev
  # control's reader of publish bodies (control/src/rest/publish_body.h)
  libsimdjson-dev
  # /metrics of control and the sidecar (telemetry/); promtool (in
  # prometheus) checks their scrapes in tests/integration, and checks and
  # unit-tests the alert rules in tests/packaging
  prometheus-cpp-dev prometheus
  libcurl4-openssl-dev libcpp-httplib-dev libvalijson-dev
  libsqlite3-dev libpq-dev libssl-dev libhiredis-dev
  # control's and the fleet simulator's allocator (CMakeLists.txt)
  libjemalloc-dev
  # tests: a PostgreSQL server of the tests' own (initdb at run time) for
  # the PostgreSQL store and replicas
  postgresql
  curl
  # tests: certificates made at run time (harness/src/test_pki.cc)
  openssl
  # docs/operations.md: the sqlite3 shell backs up and checks control's
  # store; tests/docs runs that procedure
  sqlite3
  # bench/vs_etcd.sh: the baseline, an etcd of its own on free ports (the
  # system service the server package may start is not used)
  etcd-server etcd-client
  # harness/redis_server.h: control's Redis back-ends and the scale-out
  # fault tests start a real redis-server on a loopback port of their own
  # (the system service the package may start is not used)
  redis-server
  # tests/model: the Promela model checker
  spin
  # tests/sdk tenant isolation without root: newuidmap/newgidmap
  uidmap
  # tests/cli: hotswapctl's live status drawn in a real terminal
  tmux
  # tests/install: the installed SDK built by clang as well as gcc
  clang
  # tests/console: the web console tested in a real browser, headless
  # (playwright-core drives it; it downloads no browser of its own)
  chromium
  # client-sdk/python: pip-installed into a virtual environment (setuptools
  # is its build backend) and tested with pytest
  python3 python3-venv python3-pip python3-setuptools python3-pytest
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs the Debian packages hotswap builds and tests with. Idempotent: when
# every package is already present it does nothing (no apt-get update).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libboost-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev
  capnproto libcapnp-dev
  libspdlog-dev nlohmann-json3-dev libcli11-dev
  libcurl4-openssl-dev libcpp-httplib-dev libvalijson-dev
  libsqlite3-dev libpq-dev libssl-dev libhiredis-dev
  curl
  uidmap
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

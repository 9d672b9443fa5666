#!/usr/bin/env bash
# Installs the package the way users do (pip, into a fresh virtual
# environment, nothing compiled, nothing downloaded) and runs its tests
# against a real control and sidecar of BUILD_DIR, loading BUILD_DIR's
# libhotswap.so.
#
#   client-sdk/python/run_tests.sh BUILD_DIR RELEASE [pytest args...]
set -euo pipefail
build=$(cd "$1" && pwd)
release=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
python=${HOTSWAP_PYTHON:-/usr/bin/python3}

venv=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-python-XXXXXX")
trap 'rm -rf "$venv"' EXIT
# pytest and setuptools (the build backend) come from the system's packages.
"$python" -m venv --system-site-packages "$venv"
# pip builds in the directory it is given: a copy, so the source tree
# gains no build/ or egg-info of a previous run.
cp -r "$here" "$venv/source"
rm -rf "$venv/source/build" "$venv/source/src/"*.egg-info
"$venv/bin/pip" install --quiet --no-index --no-build-isolation --no-cache-dir "$venv/source" >/dev/null
cd "$venv"  # not the source tree: the installed package is imported
HOTSWAP_LIBRARY="$build/client-sdk/dist/libhotswap.so" HOTSWAP_BUILD_DIR="$build" \
  HOTSWAP_RELEASE="$release" \
  "$venv/bin/python" -m pytest -p no:cacheprovider -q "$here/tests" "$@"

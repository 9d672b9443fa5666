#!/bin/sh
# The compiler launcher of every build (CMakeLists.txt): ccache with paths
# taken relative to the checkout, so that a build in one clone reuses what
# a build of the same sources compiled in another (a CI clone, a worktree).
root=$(cd "$(dirname "$0")/.." && pwd)
CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1 exec ccache "$@"

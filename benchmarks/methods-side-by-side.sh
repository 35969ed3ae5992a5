#!/usr/bin/env bash
# Two builds of Amalgam side by side on the methods.sh models and configurations, one interleaved round: each method
# merged by the old build, then the new, each timed and its output hashed (the two hashes must agree).
#
#   benchmarks/methods-side-by-side.sh OLD_ROOT [WORK_DIR] [METHODS...]
#
# OLD_ROOT is another checkout whose ./amalgam jar is built (e.g. a git worktree of the commit before a change);
# WORK_DIR (default /tmp/amalgam-identity) must hold the models and YAMLs that methods.sh writes. Prints
# "method build seconds sha256-prefix" lines.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
old="$(cd "$1" && pwd)"
work="${2:-/tmp/amalgam-identity}"
shift $(($# >= 2 ? 2 : 1))
methods="${*:-della arcee_fusion sce karcher nuslerp multislerp nearswap ties}"
cd "$work"
for m in $methods; do
  for build in "$old" "$root"; do
    rm -rf side-by-side.out
    t0=$(date +%s.%N)
    AMALGAM_NO_BUILD=1 "$build/amalgam" merge "$m.yml" side-by-side.out --no-progress --no-fsync --random-seed 1 \
      > /dev/null
    t1=$(date +%s.%N)
    label=$([ "$build" = "$old" ] && echo old || echo new)
    echo "$m $label $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') \
$(sha256sum < side-by-side.out/model.safetensors | cut -c1-16)"
  done
done
rm -rf side-by-side.out

#!/usr/bin/env bash
# The cost of reading inputs with positional reads instead of memory mappings (issue 14), measured side by side in
# one run on the docs/performance.md §5.2 pair:
#
#   OLD=/path/to/checkout-before benchmarks/read-path.sh [WORK_DIR]      (default /tmp/amalgam-e2e)
#   RUNS=5 COLD=1 OLD=... benchmarks/read-path.sh                          (COLD=1 also drops the page cache; root)
#
# Each round, in turn: the raw read paths (benchmarks/read-paths.c: pread vs a touched mapping of both inputs), the
# I/O floor (cat both inputs, dd an output-sized file), then `amalgam merge` of the SLERP config with --no-fsync by
# the old checkout's launcher (memory-mapped inputs), by this one's (positional reads, non-finite values counted)
# and by this one's with --on-nonfinite ignore (no counting: the cost of counting). With COLD=1 all of it again,
# each after `echo 3 > /proc/sys/vm/drop_caches`. Prints median, best and range of each.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-e2e}"
runs="${RUNS:-5}"
old="${OLD:?set OLD to a checkout of the code before issue 14 (its jar built)}"
mkdir -p "$work"
# shellcheck source=benchmarks/e2e-setup.sh
source "$root/benchmarks/e2e-setup.sh"

inputs=("$work/a/model.safetensors" "$work/b/model.safetensors")
out_bytes=$(stat -c %s "$work/a/model.safetensors")
cc -O2 -o "$work/read-paths" "$root/benchmarks/read-paths.c"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
floor_run() {
  rm -f "$work/floor.bin"
  local t0 t1
  t0=$(now)
  cat "${inputs[@]}" > /dev/null
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes status=none
  t1=$(now)
  rm -f "$work/floor.bin"
  elapsed "$t0" "$t1"
  echo
}
merge_run() { # $1 = checkout, then extra merge options
  local checkout="$1"
  shift
  rm -rf "$work/out"
  local t0 t1
  t0=$(now)
  AMALGAM_NO_BUILD=1 "$checkout/amalgam" merge "$work/slerp.yml" "$work/out" --no-progress --no-fsync "$@" \
    > "$work/merge.log"
  t1=$(now)
  rm -rf "$work/out"
  elapsed "$t0" "$t1"
  echo
}

cat "${inputs[@]}" > /dev/null
merge_run "$old" > /dev/null
merge_run "$root" > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); runs: $runs"
modes=(warm)
[ "${COLD:-0}" = 1 ] && modes+=(cold)
for mode in "${modes[@]}"; do
  for k in pread mmap floor old new ignore; do : > "$work/rp.$mode.$k"; done
  for _ in $(seq "$runs"); do
    for way in pread mmap; do
      [ "$mode" = cold ] && drop
      "$work/read-paths" "$way" "${inputs[@]}" | awk '{print $2}' >> "$work/rp.$mode.$way"
    done
    [ "$mode" = cold ] && drop
    floor_run >> "$work/rp.$mode.floor"
    [ "$mode" = cold ] && drop
    merge_run "$old" >> "$work/rp.$mode.old"
    [ "$mode" = cold ] && drop
    merge_run "$root" >> "$work/rp.$mode.new"
    [ "$mode" = cold ] && drop
    merge_run "$root" --on-nonfinite ignore >> "$work/rp.$mode.ignore"
  done
  f=$(median < "$work/rp.$mode.floor")
  for k in pread mmap floor old new ignore; do
    m=$(median < "$work/rp.$mode.$k")
    printf '%-5s %-6s median %.2f s, best %.2f (%s), median / floor median %.2f\n' "$mode" "$k" "$m" \
      "$(best < "$work/rp.$mode.$k")" "$(range < "$work/rp.$mode.$k")" "$(awk -v m="$m" -v f="$f" 'BEGIN {print m / f}')"
  done
done
echo "last merge: $(cat "$work/merge.log")"

#!/usr/bin/env bash
# End-to-end merge benchmark against the I/O floor, measured side by side in one run.
#
#   benchmarks/e2e-merge.sh [WORK_DIR]        (default /tmp/amalgam-e2e; needs ~7 GB free)
#   RUNS=7 THREADS=2 benchmarks/e2e-merge.sh
#   LAYERS=32 benchmarks/e2e-merge.sh /tmp/amalgam-e2e-32     (a 2 x 3.3 GB pair: peak RSS must not grow)
#
# Generates the docs/performance.md §5.2 pair (two Llama-shaped bf16 models of ~1.67 GB) once, warms the page cache,
# then alternates, RUNS times each:
#   floor  plain tools doing the unavoidable I/O: cat both inputs to /dev/null, dd one output-sized file
#   merge  ./amalgam merge (the launcher users run) of a SLERP config (t = 0.4) into a fresh directory, JVM
#          start-up included
# in two modes: "nosync" (floor without fsync, merge --no-fsync) and "sync" (dd conv=fdatasync, merge default,
# which fdatasyncs every shard before the rename). Prints median, best and range of each, the ratios merge /
# floor of the medians and of the bests, and the merge's peak RSS. On VMs the first touch of freed memory makes
# any writer randomly 2-4x slower (docs/performance.md §1), so a run's best is the steadier comparison.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-e2e}"
runs="${RUNS:-5}"
threads="${THREADS:-0}"
mkdir -p "$work"

# shellcheck source=benchmarks/e2e-setup.sh
source "$root/benchmarks/e2e-setup.sh"

inputs=("$work/a/model.safetensors" "$work/b/model.safetensors")
out_bytes=$(stat -c %s "$work/a/model.safetensors")
cat "${inputs[@]}" > /dev/null # warm the page cache

floor_run() { # $1 = sync|nosync
  rm -f "$work/floor.bin"
  local conv=""
  [ "$1" = sync ] && conv="conv=fdatasync"
  local t0 t1
  t0=$(now)
  cat "${inputs[@]}" > /dev/null
  # shellcheck disable=SC2086
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes $conv status=none
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}
merge_run() { # $1 = sync|nosync; prints "seconds peak_rss_kb"
  rm -rf "$work/out"
  local flags=(--no-progress --threads "$threads")
  [ "$1" = nosync ] && flags+=(--no-fsync)
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$root/amalgam" merge "$work/slerp.yml" "$work/out" \
    "${flags[@]}" > "$work/merge.log" 2> "$work/merge.err"
  cat "$work/time.txt"
}

# warm-ups: the first write into fresh page-cache memory is slow on VMs (docs/performance.md §1), for both contenders
floor_run nosync > /dev/null
merge_run nosync > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "inputs: 2 x $(awk -v b="$out_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB; runs: $runs; threads: ${threads/#0/all}"
for mode in nosync sync; do
  : > "$work/floor.$mode"; : > "$work/merge.$mode"; : > "$work/rss.$mode"
  for _ in $(seq "$runs"); do
    floor_run "$mode" >> "$work/floor.$mode"
    read -r secs rss < <(merge_run "$mode")
    echo "$secs" >> "$work/merge.$mode"
    echo "$rss" >> "$work/rss.$mode"
  done
  f=$(median < "$work/floor.$mode"); m=$(median < "$work/merge.$mode")
  fb=$(best < "$work/floor.$mode"); mb=$(best < "$work/merge.$mode")
  printf '%-6s floor median %.2f s, best %.2f (%s) | merge median %.2f s, best %.2f (%s) | ratio median %.2f,' \
    "$mode" "$f" "$fb" "$(range < "$work/floor.$mode")" "$m" "$mb" "$(range < "$work/merge.$mode")" \
    "$(awk -v m="$m" -v f="$f" 'BEGIN {print m / f}')"
  printf ' best %.2f | merge peak RSS %d MB\n' "$(awk -v m="$mb" -v f="$fb" 'BEGIN {print m / f}')" \
    "$(( $(sort -g "$work/rss.$mode" | tail -n 1) / 1024 ))"
done
echo "last merge: $(cat "$work/merge.log")"
rm -rf "$work/out" "$work/floor.bin"

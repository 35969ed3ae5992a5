#!/usr/bin/env bash
# Task-arithmetic family throughput on three inputs, side by side with the I/O floor in one run:
#
#   benchmarks/ta-merge.sh [WORK_DIR]        (default /tmp/amalgam-e2e, shared with e2e-merge.sh; ~7 GB free)
#   RUNS=7 THREADS=2 METHODS="ties dare_ties" benchmarks/ta-merge.sh
#
# Model A (base), B and C (A plus two different 10% noises) of the docs/performance.md §5.2 shape, 1.67 GB each
# in bf16.
# Each round: the floor (cat the three inputs, dd an output-sized file), then `./amalgam merge --no-fsync` of each
# method (weights 0.5 / 0.5, density 0.5, --random-seed 1) into a fresh directory. Prints median and best of each,
# the ratio to the floor, and peak RSS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-e2e}"
runs="${RUNS:-5}"
threads="${THREADS:-0}"
methods="${METHODS:-task_arithmetic ties dare_ties}"
mkdir -p "$work"
# shellcheck source=benchmarks/e2e-setup.sh
source "$root/benchmarks/e2e-setup.sh"
java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/a" "$work/b" "${LAYERS:-16}" "$work/c"

for m in $methods; do
  cat > "$work/$m.yml" <<YAML
merge_method: $m
base_model: $work/a
models:
  - model: $work/b
    parameters: {weight: 0.5, density: 0.5}
  - model: $work/c
    parameters: {weight: 0.5, density: 0.5}
dtype: bfloat16
YAML
done

inputs=("$work/a/model.safetensors" "$work/b/model.safetensors" "$work/c/model.safetensors")
out_bytes=$(stat -c %s "$work/a/model.safetensors")
cat "${inputs[@]}" > /dev/null
run_merge() { # $1 = method; prints "seconds peak_rss_kb"
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$root/amalgam" merge "$work/$1.yml" "$work/out" --no-progress \
    --no-fsync --threads "$threads" --random-seed 1 > "$work/merge.log" 2> "$work/merge.err"
  cat "$work/time.txt"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "inputs: 3 x $(awk -v b="$out_bytes" 'BEGIN {printf "%.2f", b / 1e9}') GB; runs: $runs; threads: ${threads/#0/all}"
for m in $methods; do run_merge "$m" > /dev/null; : > "$work/$m.t"; : > "$work/$m.rss"; done # warm-ups
: > "$work/floor.t"
for _ in $(seq "$runs"); do
  rm -f "$work/floor.bin"
  t0=$(now)
  cat "${inputs[@]}" > /dev/null
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes status=none
  t1=$(now)
  elapsed "$t0" "$t1" >> "$work/floor.t"; echo >> "$work/floor.t"
  for m in $methods; do
    read -r s r < <(run_merge "$m"); echo "$s" >> "$work/$m.t"; echo "$r" >> "$work/$m.rss"
  done
done
f=$(grep . "$work/floor.t" | median); fb=$(grep . "$work/floor.t" | best)
echo "floor median $f s, best $fb s"
for m in $methods; do
  md=$(median < "$work/$m.t"); b=$(best < "$work/$m.t")
  printf '%-16s median %.2f s, best %.2f s | / floor: median %.2f, best %.2f | %.2f GB/s read | peak RSS %d MB\n' \
    "$m" "$md" "$b" "$(awk -v m="$md" -v f="$f" 'BEGIN {print m / f}')" \
    "$(awk -v m="$b" -v f="$fb" 'BEGIN {print m / f}')" "$(awk -v x="$out_bytes" -v s="$md" 'BEGIN {print 3 * x / 1e9 / s}')" \
    "$(( $(sort -g "$work/$m.rss" | tail -n 1) / 1024 ))"
done
echo "last merge: $(cat "$work/merge.log")"
rm -rf "$work/out" "$work/floor.bin"

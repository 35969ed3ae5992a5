#!/usr/bin/env bash
# Every merge method on the benchmark models, beside the I/O floor of its own passes, measured in one run:
#
#   benchmarks/methods.sh [WORK_DIR]                 (default /tmp/amalgam-identity, shared with byte-identity.sh)
#   RUNS=3 METHODS="della sce" benchmarks/methods.sh
#
# Models A (base), B and C (A plus two different 10% noises) of the docs/performance.md §5.2 shape (LAYERS, default
# 16: 1.67 GB each in bf16), and the configurations byte-identity.sh hashes (benchmarks/method-configs.sh): two or
# three inputs as each method needs. Each round first times the floors (`cat` of A and B, then of A, B and C, plus
# `dd` of an output-sized file), then `amalgam merge --no-fsync --random-seed 1` of each method, warm. Prints a
# markdown table: median and best of each method, its inputs, the passes its algorithm makes over them, and the
# median over the floor of its inputs and over that floor times its passes (issue 15's target: 2x or less).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-identity}"
runs="${RUNS:-3}"
layers="${LAYERS:-16}"
mkdir -p "$work"
bench_jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$bench_jar" ] || (cd "$root" && mvn -B -q -DskipTests package >&2)
java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/a" "$work/b" "$layers" "$work/c" >&2
# shellcheck source=benchmarks/method-configs.sh
source "$root/benchmarks/method-configs.sh"
write_method_configs "$work" "$layers"
methods="${METHODS:-$METHODS_ALL}"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
best() { sort -g | head -n 1; }
out_bytes=$(stat -c %s "$work/a/model.safetensors")
inputs_of() { # the models a method's configuration reads
  local m=() x
  for x in a b c; do grep -qE "model: $x\$" "$work/$1.yml" && m+=("$x"); done
  printf '%s\n' "${m[@]}"
}
floor() { # $@ = models; cat them, dd an output-sized file
  local files=() x t0 t1
  for x in "$@"; do files+=("$work/$x/model.safetensors"); done
  rm -f "$work/floor.bin"
  t0=$(now)
  cat "${files[@]}" > /dev/null
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes status=none
  t1=$(now)
  rm -f "$work/floor.bin"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}
merge() { # $1 = method
  local t0 t1
  rm -rf "$work/out"
  t0=$(now)
  (cd "$work" && AMALGAM_NO_BUILD=1 "$root/amalgam" merge "$1.yml" out --no-progress --no-fsync --random-seed 1 \
    > /dev/null)
  t1=$(now)
  rm -rf "$work/out"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}

cat "$work"/{a,b,c}/model.safetensors > /dev/null
: > "$work/floor2"; : > "$work/floor3"
for m in $methods; do : > "$work/t.$m"; done
for _ in $(seq "$runs"); do
  floor a b >> "$work/floor2"
  floor a b c >> "$work/floor3"
  for m in $methods; do merge "$m" >> "$work/t.$m"; done
done
f2=$(median < "$work/floor2"); f3=$(median < "$work/floor3")
# Reads of the inputs each method makes (its class comment): the floor of its own passes is the floor of its inputs
# times this, and the issue's target is twice that. sce counts 3: its second pass reads the variance keys it kept,
# not the inputs, for every tensor of up to 16 Mi elements (all but the two 65 Mi-element embeddings here).
declare -A PASSES=([linear]=1 [slerp]=2 [nuslerp]=2 [multislerp]=2 [karcher]=2 [task_arithmetic]=1 [ties]=3
  [dare_ties]=2 [dare_linear]=2 [breadcrumbs]=3 [breadcrumbs_ties]=3 [della]=2 [della_linear]=2 [model_stock]=2
  [sce]=3 [ram]=1 [ramplus_tl]=2 [nearswap]=1 [arcee_fusion]=3 [passthrough]=1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); runs: $runs; $(date -u +%F)"
printf '| method | inputs | passes | median (best) | / floor of its inputs | / floor of its passes |\n'
printf '|---|---|---:|---:|---:|---:|\n'
printf '| floor, 2 inputs | a b | 1 | %.2f s | - | - |\n| floor, 3 inputs | a b c | 1 | %.2f s | - | - |\n' "$f2" "$f3"
for m in $methods; do
  n=$(inputs_of "$m" | wc -l)
  f=$([ "$n" -ge 3 ] && echo "$f3" || echo "$f2")
  p=${PASSES[$m]:-1}
  md=$(median < "$work/t.$m")
  printf '| %s | %s | %d | %.2f s (%.2f) | %.1fx | %.1fx |\n' "$m" "$(inputs_of "$m" | xargs)" "$p" "$md" \
    "$(best < "$work/t.$m")" "$(awk -v m="$md" -v f="$f" 'BEGIN {print m / f}')" \
    "$(awk -v m="$md" -v f="$f" -v p="$p" 'BEGIN {print m / (f * p)}')"
done

#!/usr/bin/env bash
# GGUF benchmarks, each measured side by side with its reference in one run:
#
#   benchmarks/gguf.sh [WORK_DIR]        (default /tmp/amalgam-e2e, shared with e2e-merge.sh; needs ~10 GB free)
#   RUNS=7 THREADS=2 benchmarks/gguf.sh
#
# 1. Conversion: `amalgam convert` of model A (HF, bf16, 1.67 GB) to GGUF bf16 and to GGUF Q8_0, RUNS rounds,
#    beside the floor of reading the input and writing an input-sized file (cat + dd).
# 2. Read throughput: `cat FILE > /dev/null` (the floor) against GgufRead's zero-copy raw pass and its f32 decode
#    pass (BF16 widened; Q8_0 dequantized), RUNS alternating rounds, page cache warm.
# 3. Merge to GGUF against merge to HF: the e2e SLERP config (t = 0.4, dtype bfloat16) merged with --no-fsync into
#    a fresh HF directory and into a fresh GGUF bf16 file, alternating, RUNS rounds each; medians, bests, and the
#    I/O floor of e2e-merge.sh (cat both inputs, dd an output-sized file) in the same rounds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-e2e}"
runs="${RUNS:-5}"
threads="${THREADS:-0}"
mkdir -p "$work"

# shellcheck source=benchmarks/e2e-setup.sh
source "$root/benchmarks/e2e-setup.sh"


echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
cat "$work/a/model.safetensors" > /dev/null
echo "== 1. convert (HF bf16 $(awk -v b="$(stat -c %s "$work/a/model.safetensors")" 'BEGIN {printf "%.2f", b / 1e9}') GB, --no-fsync, runs: $runs)"
a_bytes=$(stat -c %s "$work/a/model.safetensors")
: > "$work/cfloor.t"; : > "$work/cbf16.t"; : > "$work/cq8_0.t"
for _ in $(seq "$runs"); do
  rm -f "$work/floor.bin"
  t0=$(now)
  cat "$work/a/model.safetensors" > /dev/null
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$a_bytes" iflag=count_bytes status=none
  t1=$(now)
  elapsed "$t0" "$t1" >> "$work/cfloor.t"; echo >> "$work/cfloor.t"
  for t in bf16 q8_0; do
    rm -f "$work/a-$t.gguf"
    t0=$(now)
    "$root/amalgam" convert "$work/a" "$work/a-$t.gguf" --type "$t" --no-progress --no-fsync --threads "$threads" \
      > "$work/convert.log"
    t1=$(now)
    elapsed "$t0" "$t1" >> "$work/c$t.t"; echo >> "$work/c$t.t"
  done
done
rm -f "$work/floor.bin"
f=$(grep . "$work/cfloor.t" | median); fb=$(grep . "$work/cfloor.t" | best)
echo "floor (cat input, dd an input-sized file): median $f s, best $fb s"
for t in bf16 q8_0; do
  m=$(grep . "$work/c$t.t" | median); b=$(grep . "$work/c$t.t" | best)
  printf 'convert -> %s: median %.2f s, best %.2f s (%.2f GB written) | / floor: median %.2f, best %.2f\n' "$t" "$m" "$b" \
    "$(awk -v x="$(stat -c %s "$work/a-$t.gguf")" 'BEGIN {print x / 1e9}')" \
    "$(awk -v m="$m" -v f="$f" 'BEGIN {print m / f}')" "$(awk -v m="$b" -v f="$fb" 'BEGIN {print m / f}')"
done

echo "== 2. GGUF read throughput (runs: $runs)"
for t in bf16 q8_0; do
  f="$work/a-$t.gguf"
  cat "$f" > /dev/null
  : > "$work/cat.times"
  for _ in $(seq "$runs"); do
    t0=$(now); cat "$f" > /dev/null; t1=$(now)
    elapsed "$t0" "$t1" >> "$work/cat.times"; echo >> "$work/cat.times"
  done
  bytes=$(stat -c %s "$f")
  m=$(grep . "$work/cat.times" | median); b=$(grep . "$work/cat.times" | best)
  printf '%s cat: %.2f GB in median %.3f s (%.2f GB/s), best %.3f s (%.2f GB/s)\n' "$(basename "$f")" \
    "$(awk -v x="$bytes" 'BEGIN {print x / 1e9}')" "$m" "$(awk -v x="$bytes" -v s="$m" 'BEGIN {print x / 1e9 / s}')" \
    "$b" "$(awk -v x="$bytes" -v s="$b" 'BEGIN {print x / 1e9 / s}')"
  java -cp "$bench_jar" dev.amalgam.bench.GgufRead "$runs" "$f"
done

echo "== 3. merge to HF vs merge to GGUF bf16 (--no-fsync, runs: $runs, threads: ${threads/#0/all})"
inputs=("$work/a/model.safetensors" "$work/b/model.safetensors")
out_bytes=$(stat -c %s "$work/a/model.safetensors")
cat "${inputs[@]}" > /dev/null
: > "$work/floor.t"; : > "$work/hf.t"; : > "$work/gguf.t"; : > "$work/hf.rss"; : > "$work/gguf.rss"
run_merge() { # $1 = hf|gguf
  rm -rf "$work/out" "$work/out.gguf"
  local target="$work/out" extra=()
  [ "$1" = gguf ] && { target="$work/out.gguf"; extra=(--out-type bf16); }
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$root/amalgam" merge "$work/slerp.yml" "$target" --no-progress \
    --no-fsync --threads "$threads" "${extra[@]}" > "$work/merge.log" 2> "$work/merge.err"
  cat "$work/time.txt"
}
run_merge hf > /dev/null; run_merge gguf > /dev/null # warm-ups
for _ in $(seq "$runs"); do
  rm -f "$work/floor.bin"
  t0=$(now)
  cat "${inputs[@]}" > /dev/null
  dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes status=none
  t1=$(now)
  elapsed "$t0" "$t1" >> "$work/floor.t"; echo >> "$work/floor.t"
  read -r s r < <(run_merge hf); echo "$s" >> "$work/hf.t"; echo "$r" >> "$work/hf.rss"
  read -r s r < <(run_merge gguf); echo "$s" >> "$work/gguf.t"; echo "$r" >> "$work/gguf.rss"
done
f=$(grep . "$work/floor.t" | median); fb=$(grep . "$work/floor.t" | best)
for k in hf gguf; do
  m=$(median < "$work/$k.t"); mb=$(best < "$work/$k.t")
  printf '%-4s merge median %.2f s, best %.2f | floor median %.2f, best %.2f | ratio median %.2f, best %.2f | peak RSS %d MB\n' \
    "$k" "$m" "$mb" "$f" "$fb" "$(awk -v m="$m" -v f="$f" 'BEGIN {print m / f}')" \
    "$(awk -v m="$mb" -v f="$fb" 'BEGIN {print m / f}')" "$(( $(sort -g "$work/$k.rss" | tail -n 1) / 1024 ))"
done
echo "gguf / hf, medians: $(awk -v g="$(median < "$work/gguf.t")" -v h="$(median < "$work/hf.t")" 'BEGIN {printf "%.2f", g / h}')"
echo "last merge: $(cat "$work/merge.log")"
rm -rf "$work/out" "$work/out.gguf" "$work/floor.bin"

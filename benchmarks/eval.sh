#!/usr/bin/env bash
# `amalgam eval` generation throughput against the java-llama.cpp binding's own speed on the same prompts:
#
#   benchmarks/eval.sh [WORK_DIR]          (default /tmp/amalgam-evalbench)
#   RUNS=3 LIMIT=20 benchmarks/eval.sh
#
# Models: the repository's models/stories260K.gguf and a 219M-parameter Llama-shaped F16 GGUF with random weights
# (GenerateModels with 2 layers, converted), so that generation, not overhead, dominates.
# Per model and round: `amalgam eval --task mts-dialog --limit LIMIT` (greedy, --max-tokens MAXTOK, --threads 2)
# reports tokens/s in metrics.json; then BindingGeneration generates the same prompts in one JVM through the binding.
# Data: $AMALGAM_DATA (a folder holding mts-dialog/), default the repository's 40-example slice (LIMIT <= 40).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-evalbench}"
runs="${RUNS:-3}"
limit="${LIMIT:-20}"
maxtok="${MAXTOK:-64}"
data="${AMALGAM_DATA:-$root/examples/data}"
mkdir -p "$work"
bench_jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$bench_jar" ] || (cd "$root" && mvn -B -q -DskipTests package >&2)

if [ ! -f "$work/small.gguf" ]; then
  java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/small-hf" "$work/small-hf-b" 2 >&2
  "$root/amalgam" convert "$work/small-hf" "$work/small.gguf" --type f16 >&2
  rm -rf "$work/small-hf-b"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for model in "$root/models/stories260K.gguf" "$work/small.gguf"; do
  name=$(basename "$model" .gguf)
  for r in $(seq "$runs"); do
    out="$work/eval-$name-$r"
    rm -rf "$out"
    t0=$(date +%s.%N)
    "$root/amalgam" eval "$model" --task mts-dialog --data "$data" --limit "$limit" --max-tokens "$maxtok" \
      --threads 2 --ctx 2048 --metrics rouge,bleu,meteor --out "$out" --no-progress > /dev/null
    t1=$(date +%s.%N)
    harness=$(python3 -c "import json,sys; t=json.load(open('$out/metrics.json'))['timings']; \
print(f\"{t['tokens_per_s']:.1f} tokens/s (generation {t['generation_s']:.2f} s, load {t['load_s']:.2f} s, scoring {t['scoring_s']:.2f} s)\")")
    binding=$(java -cp "$bench_jar" dev.amalgam.bench.BindingGeneration "$model" "$out/predictions.jsonl" "$maxtok" \
      2048 2 2>/dev/null | grep "^binding:")
    echo "$name round $r: eval $harness, wall $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s | $binding"
  done
done

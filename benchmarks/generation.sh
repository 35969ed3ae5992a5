#!/usr/bin/env bash
# Batched in-process generation: aggregate tokens/s of `amalgam eval --parallel N` beside the java-llama.cpp
# binding on the same prompts, in interleaved rounds (this machine is shared and noisy: every round runs the binding
# and each N once, so ratios within a round are side by side), greedy outputs against --parallel 1, and model load /
# first-token latency.
#
#   benchmarks/generation.sh [WORK_DIR]                          (default /tmp/amalgam-genbench)
#   RUNS=3 LIMIT=16 MAXTOK=64 PARALLEL="1 4 8 16" CTX=2048 benchmarks/generation.sh
#
# Models: the repository's models/stories260K.gguf and a 219M-parameter Llama-shaped F16 GGUF with random weights
# (GenerateModels with 2 layers, converted; random weights rarely emit end-of-sequence, so examples generate about
# MAXTOK tokens). `amalgam eval --task mts-dialog --limit LIMIT --max-tokens MAXTOK --threads 2 --ctx CTX
# --parallel N` (tokens/s = generated tokens / generation wall time, prompt processing included, from metrics.json);
# BindingGeneration generates the same prompts through the binding, one at a time, in one JVM (its tokens/s counts
# the time inside generate(), also prompts included).
# Data: $AMALGAM_DATA (a folder holding mts-dialog/), default the repository's 40-example slice (LIMIT <= 40).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-genbench}"
runs="${RUNS:-3}"
limit="${LIMIT:-16}"
maxtok="${MAXTOK:-64}"
parallels="${PARALLEL:-1 4 8 16}"
ctx="${CTX:-2048}"
data="${AMALGAM_DATA:-$root/examples/data}"
mkdir -p "$work"
bench_jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$bench_jar" ] || (cd "$root" && mvn -B -q -DskipTests package >&2)

if [ ! -f "$work/small.gguf" ]; then
  java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/small-hf" "$work/small-hf-b" 2 >&2
  "$root/amalgam" convert "$work/small-hf" "$work/small.gguf" --type f16 >&2
  rm -rf "$work/small-hf" "$work/small-hf-b"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for model in "$root/models/stories260K.gguf" "$work/small.gguf"; do
  name=$(basename "$model" .gguf)
  for r in $(seq "$runs"); do
    line="$name round $r:"
    for n in $parallels; do
      out="$work/eval-$name-p$n"
      rm -rf "$out"
      "$root/amalgam" eval "$model" --task mts-dialog --data "$data" --limit "$limit" --max-tokens "$maxtok" \
        --threads 2 --ctx "$ctx" --parallel "$n" --metrics rouge --out "$out" --no-progress > /dev/null 2>&1
      line="$line $(python3 - "$out" "$work/eval-$name-p1" "$n" <<'PY'
import json, sys
out, ref, n = sys.argv[1], sys.argv[2], sys.argv[3]
t = json.load(open(out + "/metrics.json"))["timings"]
def preds(d):
    return [json.loads(l)["prediction"] for l in open(d + "/predictions.jsonl") if l.strip()]
diff = sum(1 for a, b in zip(preds(out), preds(ref)) if a != b)
print(f"p{n} {t['tokens_per_s']:.1f} tok/s ({diff} differ) |", end="")
PY
)"
    done
    binding=$(java -cp "$bench_jar" dev.amalgam.bench.BindingGeneration "$model" "$work/eval-$name-p1/predictions.jsonl" \
      "$maxtok" "$ctx" 2 2>/dev/null | grep "^binding:" | sed 's/.*-> //')
    echo "$line binding $binding"
  done
  java -cp "$bench_jar" dev.amalgam.bench.GenerationLatency "$model" 5 2 2>/dev/null | grep "^latency:" \
    | sed "s/^/$name /"
done

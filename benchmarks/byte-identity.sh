#!/usr/bin/env bash
# Output hashes of every merge method, to prove that a refactoring changed no output byte:
#
#   benchmarks/byte-identity.sh [WORK_DIR] > before.txt      (default /tmp/amalgam-identity)
#   ... change the code, rebuild ...
#   benchmarks/byte-identity.sh [WORK_DIR] > after.txt && diff before.txt after.txt
#
# Models: A (base), B and C (A plus two different 10% noises) of the benchmark shape (docs/performance.md §5.2),
# LAYERS layers (default 16: 1.67 GB each in bf16, ~6 GB of disk with the outputs; LAYERS=2 for a quick check).
# Every one of the 20 methods merges them into a Hugging Face folder (--random-seed 1); linear, slerp, ties and
# dare_ties also merge straight to GGUF (bf16 and q8_0), and the repository's stories260K.gguf is SLERP-merged with
# a perturbed copy of itself, GGUF to GGUF. Prints one "name sha256" line per output file. The merges run in the
# work folder with relative model paths, so the hashes do not depend on where it is (GGUF outputs record the
# configuration).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-identity}"
layers="${LAYERS:-16}"
mkdir -p "$work"
amalgam() { "$root/amalgam" "$@"; }
bench_jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$bench_jar" ] || (cd "$root" && mvn -B -q -DskipTests package >&2)
java -cp "$bench_jar" dev.amalgam.bench.GenerateModels "$work/a" "$work/b" "$layers" "$work/c" >&2

# shellcheck source=benchmarks/method-configs.sh
source "$root/benchmarks/method-configs.sh"
write_method_configs "$work" "$layers"

merge() { # $1 = config name, $2 = output, rest = options
  local name="$1" out="$2"
  shift 2
  rm -rf "$out"
  (cd "$work" && amalgam merge "$name.yml" "$out" --no-progress --no-fsync --random-seed 1 "$@" > /dev/null)
}
hash_out() { # $1 = label, $2 = output folder or file
  if [ -d "$2" ]; then
    (cd "$2" && sha256sum -- *.safetensors *.json) | awk -v l="$1" '{print l "/" $2, $1}'
  else
    echo "$1 $(sha256sum < "$2" | cut -c1-64)"
  fi
  rm -rf "$2"
}
for name in $METHODS_ALL; do
  echo "merging $name" >&2
  merge "$name" "$work/out"
  hash_out "$name" "$work/out"
done
for name in linear slerp ties dare_ties; do
  for type in bf16 q8_0; do
    echo "merging $name to GGUF $type" >&2
    merge "$name" "$work/out.gguf" --out-type "$type"
    hash_out "$name.$type.gguf" "$work/out.gguf"
  done
done

cp "$root/models/stories260K.gguf" "$work/stories260K.gguf"
java -cp "$bench_jar" dev.amalgam.bench.PerturbGguf "$work/stories260K.gguf" "$work/stories-perturbed.gguf" >&2
printf 'merge_method: slerp\nbase_model: %s\nmodels:\n  - model: %s\n  - model: %s\nparameters:\n  t: 0.5\n' \
  stories260K.gguf stories260K.gguf stories-perturbed.gguf > "$work/stories.yml"
merge stories "$work/out.gguf"
hash_out stories-slerp.gguf "$work/out.gguf"

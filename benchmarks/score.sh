#!/usr/bin/env bash
# `amalgam score` throughput, end to end (JVM start, WordNet load, reading, scoring, printing):
#
#   AMALGAM_DATA=DIR benchmarks/score.sh [WORK_DIR]   (default /tmp/amalgam-score)
#   AMALGAM_DATA=DIR RUNS=7 benchmarks/score.sh
#
# DIR holds the full MTS-Dialog data set as mts-dialog/ (https://github.com/abachaa/MTS-Dialog).
#
# Pairs: 1,000 MTS-Dialog training-set section texts, each scored against the next row's text (real clinical
# vocabulary and lengths, no repeated pair), plus the 400 golden pairs for reference.
# 1. ROUGE + BLEU + METEOR on the 1,000 pairs (the issue's target: at most 2 s on 2 cores), RUNS rounds.
# 2. BERTScore alone on the same pairs (bundled all-MiniLM-L6-v2 through onnxruntime), RUNS rounds; pairs/s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-score}"
runs="${RUNS:-5}"
data="${AMALGAM_DATA:?set AMALGAM_DATA to a folder holding the MTS-Dialog data set as mts-dialog/}"
mkdir -p "$work"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
best() { sort -g | head -n 1; }

python3 - "$data/mts-dialog/Main-Dataset/MTS-Dialog-TrainingSet.csv" "$work/pairs.jsonl" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for i in range(1000):
        out.write(json.dumps({"pred": rows[i + 1]["section_text"], "ref": rows[i]["section_text"]}) + "\n")
words = sum(len(json.loads(l)["pred"].split()) for l in open(sys.argv[2], encoding="utf-8"))
print(f"pairs: 1000, mean prediction length {words / 1000:.1f} words")
PY

"$root/amalgam" score --data "$work/pairs.jsonl" --pred pred --ref ref --metrics rouge > /dev/null # build + CDS
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for label in "rouge,bleu,meteor" "bertscore"; do
  : > "$work/t"
  for _ in $(seq "$runs"); do
    t0=$(now)
    "$root/amalgam" score --data "$work/pairs.jsonl" --pred pred --ref ref --metrics "$label" --json > "$work/out.json"
    t1=$(now)
    elapsed "$t0" "$t1" >> "$work/t"; echo >> "$work/t"
  done
  med=$(median < "$work/t"); b=$(best < "$work/t")
  echo "== --metrics $label, 1000 pairs: median $med s, best $b s (runs: $runs) -> $(awk -v m="$med" \
    'BEGIN {printf "%.0f", 1000 / m}') pairs/s"
done

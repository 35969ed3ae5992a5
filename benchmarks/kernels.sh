#!/usr/bin/env bash
# Runs the kernel benchmarks (KernelBench) and prints GB/s with kernel/bandwidth-reference ratios.
# Usage: benchmarks/kernels.sh [JMH options...]
#   quick run:  benchmarks/kernels.sh -wi 2 -i 3 -f 1
#   one size:   benchmarks/kernels.sh -p n=67108864
#   a subset:   BENCH='KernelBench.(lerp|copyNative)' benchmarks/kernels.sh
# Environment: BENCH (JMH include pattern, default: every KernelBench benchmark), RESULTS (JSON output, default
# benchmarks/target/kernels.json), JAVA (default: java).
# Builds benchmarks/target/benchmarks.jar first if it is missing. 512Mi elements need ~3.2 GB of free memory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/target/benchmarks.jar"
results="${RESULTS:-$here/target/kernels.json}"
java="${JAVA:-java}"
bench="${BENCH:-dev.amalgam.bench.KernelBench}"

if [[ ! -f "$jar" ]]; then
  (cd "$here/.." && mvn -B -q -DskipTests package)
fi
mkdir -p "$(dirname "$results")"
"$java" -jar "$jar" "$bench" -rf json -rff "$results" "$@"
echo
"$java" -cp "$jar" dev.amalgam.bench.BandwidthTable "$results"

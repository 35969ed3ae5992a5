#!/usr/bin/env bash
# The CUDA path's tests and benchmarks, for a machine with a GPU (docs/native.md §6.6). Prints the card and driver,
# then:
#   1. the GPU tests: every kernel test with each usable GPU added, CudaMirrorTest (1, 31, 4096, 2^20 + 7 and 2^28
#      elements against the best CPU path), CudaDeviceTest and the CLI's DeviceOptionTest (merge --device cuda
#      against the CPU's bytes);
#   2. CudaBench (JMH): device-pointer lerp, SLERP and dot3 GB/s beside a device-to-device copy of the same run,
#      and the staged host lerp with the pipeline on and off;
#   3. end to end: a SLERP of a synthetic 8B-shaped pair (SHAPE=8b: 32 layers, hidden 4096, intermediate 14336,
#      vocab 128256; 2 x 16 GB, generated once in WORK) on cpu, cuda, and cuda with the pipeline off, each
#      beside the host I/O floor of the same run (cat both inputs, dd one output), RUNS times, interleaved.
# Targets: lerp and SLERP >= 0.8x the device copy; the 8B merge on cuda <= 1.2x the floor.
#
#   benchmarks/cuda.sh [WORK_DIR]          (default /tmp/amalgam-cuda; needs ~50 GB free for step 3)
#   STEPS="1 2" benchmarks/cuda.sh         (skip the end-to-end runs)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/amalgam-cuda}"
runs="${RUNS:-3}"
steps="${STEPS:-1 2 3}"
mkdir -p "$work"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.current,pcie.link.width.current \
    --format=csv
else
  echo "nvidia-smi not found: no NVIDIA driver here; the GPU steps will report why they skip" >&2
fi

if [[ " $steps " == *" 1 "* ]]; then
  echo "== 1. GPU tests"
  (cd "$root" && mvn -B -q -Damalgam.fuzz.skip=true \
    -Dtest='Cuda*Test,KernelEquivalenceTest,MethodKernelTest,SceKernelTest,TaskArithmeticKernelTest,GramKernelTest,DellaRowTest,ConversionTest,BlockKernelTest,NonFiniteCountTest,PhiloxTest,DeviceOptionTest' \
    -Dsurefire.failIfNoSpecifiedTests=false -Damalgam.test.heap=8g test 2>&1 | grep -E "Tests run|FAIL|skipped|Skipped" || true)
fi

jar="$root/benchmarks/target/benchmarks.jar"
if [[ ! -f "$jar" ]]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi

if [[ " $steps " == *" 2 "* ]]; then
  echo "== 2. CudaBench (ms per call; GB/s = bytes moved / time: copy 4, lerp 6, SLERP 10, dot3 4 bytes per element)"
  java -jar "$jar" dev.amalgam.bench.CudaBench -rf json -rff "$work/cuda-bench.json" -f 1 -wi 2 -i 5 \
    | grep -E "^# device|^CudaBench|Benchmark"
fi

if [[ " $steps " == *" 3 "* ]]; then
  echo "== 3. End to end: SLERP of an 8B-shaped pair"
  SHAPE=8b java -cp "$jar" dev.amalgam.bench.GenerateModels "$work/a" "$work/b"
  cat > "$work/slerp.yml" <<YAML
merge_method: slerp
base_model: $work/a
models:
  - model: $work/a
  - model: $work/b
parameters:
  t: 0.4
dtype: bfloat16
YAML
  now() { date +%s.%N; }
  inputs=("$work"/a/*.safetensors "$work"/b/*.safetensors)
  out_bytes=$(cat "$work"/a/*.safetensors | wc -c)
  run() { # label, command...
    local label="$1"; shift
    rm -rf "$work/out" "$work/floor.bin"
    local t0 t1
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN {printf "%s %.2f\n", l, b - a}'
  }
  floor() {
    cat "${inputs[@]}" >/dev/null
    dd if=/dev/zero of="$work/floor.bin" bs=8M count="$out_bytes" iflag=count_bytes status=none
  }
  merge() { AMALGAM_NO_BUILD=1 "$root/amalgam" merge "$work/slerp.yml" "$work/out" --no-progress --no-fsync "$@"; }
  cat "${inputs[@]}" >/dev/null
  for ((i = 1; i <= runs; i++)); do
    run floor floor
    run cpu merge --device cpu
    run cuda merge --device cuda
    AMALGAM_JAVA_OPTS="-Xmx512m -Damalgam.cuda.pipeline=false" run cuda-no-pipeline merge --device cuda
  done | tee "$work/e2e.txt"
  awk '{t[$1] = t[$1] " " $2} END {for (k in t) print k ":" t[k]}' "$work/e2e.txt"
fi

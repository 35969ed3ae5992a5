#!/usr/bin/env bash
# Configures, builds and installs the native libraries with CMake.
# Usage: native/build.sh OUT_DIR [ON|OFF] [kernels|llama|all]
#   OUT_DIR   install prefix; the libraries land in OUT_DIR/lib
#   ON|OFF    try to build the CUDA library (default ON; it is skipped anyway without nvcc or CUDA sources)
#   kernels   libamalgam.so (amalgam-core), llama: libamalgam_llama.so (amalgam-eval), all: both (default)
# Environment: AMALGAM_CMAKE_ARGS (extra configure arguments), AMALGAM_BUILD_JOBS (default: nproc).
# Logs are kept in OUT_DIR/build and printed only on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: build.sh OUT_DIR [ON|OFF]}"
cuda="${2:-ON}"
libraries="${3:-all}"
case "$libraries" in
  kernels) kernels=ON; llama=OFF ;;
  llama) kernels=OFF; llama=ON ;;
  all) kernels=ON; llama=ON ;;
  *) echo "amalgam native build: unknown library set '$libraries' (kernels, llama or all)" >&2; exit 2 ;;
esac
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="$out/build"
mkdir -p "$build"

if ! command -v cmake >/dev/null 2>&1; then
  echo "amalgam native build: cmake not found. Install cmake (3.18+) and a C++17 compiler," >&2
  echo "or build without native kernels: mvn -Damalgam.native.skip=true package" >&2
  exit 1
fi

jobs="${AMALGAM_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
run() {
  local log="$1"; shift
  if ! "$@" >"$log" 2>&1; then
    echo "amalgam native build failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

# shellcheck disable=SC2086
run "$build/configure.log" cmake -S "$here" -B "$build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$out" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DAMALGAM_WITH_CUDA="$cuda" \
  -DAMALGAM_BUILD_KERNELS="$kernels" \
  -DAMALGAM_BUILD_LLAMA_BRIDGE="$llama" \
  ${AMALGAM_CMAKE_ARGS:-}
run "$build/build.log" cmake --build "$build" --parallel "$jobs"
run "$build/install.log" cmake --install "$build"
grep -E '^-- amalgam:' "$build/configure.log" | sed 's/^-- /[native] /' || true

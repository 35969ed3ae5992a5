#!/usr/bin/env bash
# Builds the kernel library, the llama bridge and their self-tests with AddressSanitizer and UndefinedBehaviorSanitizer
# and runs every native test (ctest, except the ~1 minute exhaustive f32 sweep). Any report fails the run.
# Usage: native/sanitize.sh [BUILD_DIR] (default native/build-sanitize)
# Environment: AMALGAM_SANITIZE (default address,undefined), AMALGAM_BUILD_JOBS (default: nproc),
#   AMALGAM_TEST_LLAMA_LIBRARY and AMALGAM_TEST_LLAMA_MODEL (a llama.cpp library and a GGUF model for the bridge
#   test; by default java-llama.cpp's libjllama.so from the local Maven repository and models/stories260K.gguf).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${1:-$here/build-sanitize}"
jobs="${AMALGAM_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
started=$(date +%s)

llama_library="${AMALGAM_TEST_LLAMA_LIBRARY:-}"
llama_model="${AMALGAM_TEST_LLAMA_MODEL:-$root/models/stories260K.gguf}"
if [[ -z "$llama_library" ]]; then
  jar="${MAVEN_REPOSITORY:-$HOME/.m2/repository}/de/kherud/llama/4.2.0/llama-4.2.0.jar"
  if [[ -f "$jar" ]] && command -v unzip >/dev/null 2>&1; then
    mkdir -p "$build/jllama"
    unzip -o -q -j "$jar" 'de/kherud/llama/Linux/x86_64/libjllama.so' -d "$build/jllama" 2>/dev/null || true
    [[ -f "$build/jllama/libjllama.so" ]] && llama_library="$build/jllama/libjllama.so"
  fi
fi
[[ -f "$llama_model" ]] || llama_library=""
if [[ -z "$llama_library" ]]; then
  echo "[sanitize] no llama.cpp library or model: the bridge test checks null handles only"
  llama_model=""
fi

mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DAMALGAM_SANITIZE="${AMALGAM_SANITIZE:-address,undefined}" \
  -DAMALGAM_BUILD_TESTS=ON -DAMALGAM_WITH_CUDA=OFF \
  -DAMALGAM_TEST_LLAMA_LIBRARY="$llama_library" -DAMALGAM_TEST_LLAMA_MODEL="$llama_model" >"$build/sanitize-configure.log" 2>&1 ||
  { cat "$build/sanitize-configure.log" >&2; exit 1; }
cmake --build "$build" --parallel "$jobs" >"$build/sanitize-build.log" 2>&1 || { cat "$build/sanitize-build.log" >&2; exit 1; }
built=$(date +%s)

# Leaks count as failures; a report stops the process (no recovery) with a stack trace.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" -LE exhaustive --output-on-failure
finished=$(date +%s)
echo "[sanitize] ${AMALGAM_SANITIZE:-address,undefined}: build $((built - started)) s, tests $((finished - built)) s"

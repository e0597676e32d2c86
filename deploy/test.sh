#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian 12, as root),
# builds Salvo twice — optimised, and with AddressSanitizer + UBSan — and runs
# the whole test suite in both builds. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

jobs="${SALVO_JOBS:-2}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

build_and_test() {  # build_and_test DIR CMAKE_ARGS...
  local dir="$1"; shift
  echo "== configure $dir"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "== test $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300
}

# Precompiled headers (SALVO_PCH) and unity batches (CMAKE_UNITY_BUILD) cut
# the clean-build time on CI's 2 cores; the release build carries no debug
# info for the same reason. Everyday builds (ccache, no unity) still compile
# every file alone, which catches a missing #include.
start=$SECONDS
fast_build=(-DSALVO_PCH=ON -DCMAKE_UNITY_BUILD=ON)
build_and_test build/release -DCMAKE_BUILD_TYPE=Release "${fast_build[@]}"
build_and_test build/asan -DCMAKE_BUILD_TYPE=Debug -DSALVO_SANITIZE=ON -DSALVO_BUILD_BENCH=OFF \
  "${fast_build[@]}"
echo "== all tests passed in both builds ($((SECONDS - start)) s)"

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

# Precompiled headers (SALVO_PCH) cut the clean-build time on CI's 2 cores;
# the release build is -O2 without debug info for the same reason.
start=$SECONDS
build_and_test build/release -DCMAKE_BUILD_TYPE=Release -DSALVO_PCH=ON
build_and_test build/asan -DCMAKE_BUILD_TYPE=Debug -DSALVO_SANITIZE=ON -DSALVO_BUILD_BENCH=OFF \
  -DSALVO_PCH=ON
echo "== all tests passed in both builds ($((SECONDS - start)) s)"

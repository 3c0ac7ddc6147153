#!/usr/bin/env bash
# Builds and runs the whole test suite: optimised (g++ -O2), then g++ -O0
# with AddressSanitizer and UndefinedBehaviorSanitizer. Every TEST_CASE is its
# own CTest; tests run one at a time so the timing checks see an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

for preset in release asan; do
  echo "=== $preset ==="
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j"$(nproc)"
  ctest --preset "$preset"
done

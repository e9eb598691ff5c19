#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# On a machine with an NVIDIA GPU: builds manycore, runs every GPU test (skips become failures),
# then the GPU tests again under compute-sanitizer's memcheck, and prints a short table.
# Logs go to ${OUT:-build/gpu}.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu}
mkdir -p "$out"
export MANYCORE_REQUIRE_GPU=1 PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

$python -m pip install -q --no-build-isolation . >"$out/build.log" 2>&1
build=$?
if [ $build -ne 0 ]; then
  # The build needs Boost.Context and the xxHash header beside CUDA; say which is missing.
  grep -E "Could not find|REQUIRED|not found" "$out/build.log" | head -n 5
fi
$python -m manycore info >"$out/info.log" 2>&1
timeout 300 $python -m pytest tests/python -m gpu -q -ra -o addopts= -p no:cacheprovider >"$out/gpu-tests.log" 2>&1
tests=$?
sanitizer=skipped
if command -v compute-sanitizer >/dev/null; then
  timeout 240 compute-sanitizer --tool memcheck --error-exitcode 9 \
      $python -m pytest tests/python/test_launch_api.py tests/python/test_kernel_language.py \
      -m gpu -q -x -o addopts= -p no:cacheprovider >"$out/memcheck.log" 2>&1
  sanitizer=$?
fi
printf '\n| step | status | log |\n|---|---|---|\n'
printf '| build | %s | build.log |\n' "$build"
printf '| GPU tests | %s (%s) | gpu-tests.log |\n' "$tests" "$(tail -n 1 "$out/gpu-tests.log")"
printf '| memcheck | %s | memcheck.log |\n' "$sanitizer"

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# On a machine with an NVIDIA GPU: builds manycore, runs every GPU test (skips become failures),
# the GPU tests again under compute-sanitizer's memcheck, the GPU benchmarks, and prints a short
# table. Logs go to ${OUT:-build/gpu}.
#   tools/run_gpu_tests.sh                 every step
#   tools/run_gpu_tests.sh build tests     only the steps named (build cpp tests mpi memcheck bench
#                                          profile mpibench pycuda pycudasuite labs sweep multigpu)
# Each step has a time limit (CPP_BUILD_TIMEOUT, CPP_TIMEOUT, TESTS_TIMEOUT, MPI_TIMEOUT, MEMCHECK_TIMEOUT, BENCH_TIMEOUT,
# ARRAYS_BENCH_TIMEOUT, MPI_BENCH_TIMEOUT, PROFILE_TIMEOUT, in seconds) so that steps can be split over calls of a
# bounded length. mpibench (the MPI benchmarks, heat2d scaling on 1 to 16 ranks) runs only when
# named: it measures the host's cores, not the GPU. pycuda (real PyCUDA built from
# .offline-deps/pycuda, the course-style programs and the launch cost with it and with manycore
# pycuda, side by side) and pycudasuite (PyCUDA's own tests with both) run only when named too
# (PYCUDA_TIMEOUT, PYCUDA_SUITE_TIMEOUT). labs (the course's labs as scripts, at the default
# size on the GPU; LABS=4,5,6 for some, LABS_TIMEOUT) also runs only when named; its results
# gather in build/labs-gpu across calls, and labs-results.md, the table of all of them with the
# device and the date, is copied to the output folder each time. sweep (bench/arrays/sweep.py:
# every array operation against CuPy at 2^28 and 2^16 elements, SWEEP_TIMEOUT) and multigpu (the
# multi-GPU tests, the MPI suite with one rank per GPU on 2 and 4 GPUs, the heat example's
# scaling over 1, 2, 4 GPUs on 16384^2 float32, MULTIGPU_TIMEOUT; skipped on a machine with one
# GPU) run only when named too.
# A machine without network access and without Boost.Context builds against .offline-deps/,
# made beforehand by tools/pack_offline_deps.sh on a machine that has the Debian packages.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu}
mkdir -p "$out"
export MANYCORE_REQUIRE_GPU=1 PYTHONUNBUFFERED=1
python=${PYTHON:-python3}
steps=${*:-build cpp tests mpi memcheck bench profile}
wants() { [[ " $steps " == *" $1 "* ]]; }

has_boost_context() {
  compgen -G "/usr/lib/*/cmake/boost_context-*" >/dev/null ||
    compgen -G "/usr/local/lib/cmake/boost_context-*" >/dev/null
}

declare -A status
cmake_args=()
if ! has_boost_context && [ -d .offline-deps ]; then
  deps=$(pwd)/.offline-deps
  boost_dir=$(ls -d "$deps"/lib/*/cmake/Boost-* | head -n 1)
  cmake_args=(-DBoost_DIR="$boost_dir" -DXXHASH_INCLUDE_DIR="$deps/include")
  export CMAKE_ARGS="${cmake_args[*]}"
  echo "building against $deps (this machine has no Boost.Context)"
fi
if wants build; then
  $python -m pip install -q --no-build-isolation . >"$out/build.log" 2>&1
  status[build]=$?
  if [ "${status[build]}" -ne 0 ]; then
    grep -E "Could not find|REQUIRED|not found|error" "$out/build.log" | head -n 8
  fi
fi
$python -m manycore info >"$out/info.log" 2>&1

if wants cpp; then
  # The C++ suite's GPU tests (GoogleTest, no Python): every test labelled gpu, the GPU
  # instances of the device-parametrised suites included. GoogleTest is built from the source
  # in .offline-deps/googletest where the machine has none.
  gtest_args=()
  [ -f .offline-deps/googletest/CMakeLists.txt ] &&
    gtest_args=(-DMANYCORE_GTEST_SOURCE_DIR="$(pwd)/.offline-deps/googletest")
  if cmake -S . -B build/gpu-cpp -G Ninja -DMANYCORE_BUILD_TESTS=ON "${cmake_args[@]}" "${gtest_args[@]}" \
       >"$out/cpp.log" 2>&1 &&
     timeout ${CPP_BUILD_TIMEOUT:-420} cmake --build build/gpu-cpp >>"$out/cpp.log" 2>&1; then
    timeout ${CPP_TIMEOUT:-150} ctest --test-dir build/gpu-cpp -L gpu --output-on-failure >>"$out/cpp.log" 2>&1
    status[cpp]=$?
  else
    status[cpp]="not built (see cpp.log)"
  fi
fi

# pytest-timeout may be missing on the GPU machine, and the project's config (--strict-config,
# timeout =) names it; PYTEST_ADDOPTS reaches the pytest runs the MPI launcher starts too.
pytest_args=(-q -ra -o addopts= -p no:cacheprovider)
if ! $python -c "import pytest_timeout" 2>/dev/null; then
  export PYTEST_ADDOPTS="-o addopts=-ra"
fi
if wants tests; then
  timeout ${TESTS_TIMEOUT:-420} $python -m pytest tests/python -m gpu "${pytest_args[@]}" >"$out/gpu-tests.log" 2>&1
  status[tests]=$?
fi
if wants mpi; then
  # The MPI suite on 1, 2 and 4 ranks; with a GPU present its GPU-array cases run too.
  timeout ${MPI_TIMEOUT:-300} $python -m pytest tests/python/test_dist_launch.py -k mpi_suite "${pytest_args[@]}" \
      >"$out/mpi-tests.log" 2>&1
  status[mpi]=$?
fi
if wants memcheck; then
  if command -v compute-sanitizer >/dev/null; then
    # Every GPU test, one sanitizer process per test file, all at once: the tool's cost is
    # mostly host work (patching each module it loads, checking each launch), and the machine
    # has a core for each. Left out: the deliberate device fault (an assert that loses the
    # context) and the deliberate out-of-memory, which memcheck rightly reports as errors, and
    # the test that starts compute-sanitizer itself.
    : >"$out/memcheck.log"
    memcheck_timeout=""
    $python -c "import pytest_timeout" 2>/dev/null &&
      memcheck_timeout="-o timeout=$(( ${MEMCHECK_TIMEOUT:-300} * 2 / 3 )) -o timeout_method=thread"
    declare -A memcheck_pid
    for file in tests/python/test_*.py; do
      name=$(basename "$file" .py)
      case $name in test_dist*|test_cli|test_bench_smoke|test_compile_cache) continue ;; esac
      # A test that hangs under the tool prints every thread's stack (pytest-timeout).
      timeout ${MEMCHECK_TIMEOUT:-300} compute-sanitizer --tool memcheck --error-exitcode 9 \
          $python -m pytest "$file" -m gpu -k "not context_is_lost and not out_of_memory and not with_the_sanitizer" "${pytest_args[@]}" \
          $memcheck_timeout >"$out/memcheck-$name.part" 2>&1 &
      memcheck_pid[$name]=$!
    done
    failed=()
    for name in "${!memcheck_pid[@]}"; do
      wait "${memcheck_pid[$name]}"
      rc=$?
      # 5: no GPU test in that file.
      [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && failed+=("$name (exit $rc)")
      { echo "==== $name: exit $rc"; cat "$out/memcheck-$name.part"; } >>"$out/memcheck.log"
      rm -f "$out/memcheck-$name.part"
    done
    errors=$(grep -h "ERROR SUMMARY" "$out/memcheck.log" | awk '{s += $4} END {print s + 0}')
    if [ ${#failed[@]} -eq 0 ]; then
      status[memcheck]="0 ($errors errors in ${#memcheck_pid[@]} files)"
    else
      status[memcheck]="1 ($errors errors; failed: ${failed[*]})"
    fi
  else
    status[memcheck]="no compute-sanitizer"
  fi
fi
if wants bench; then
  timeout ${BENCH_TIMEOUT:-300} $python bench/gpu/run.py --out "$out/gpu-bench.md" >"$out/gpu-bench.log" 2>&1
  status[bench]=$?
  # The array layer's benchmarks, CPU and GPU rows (add, sum, ReductionKernel dot, scan), and
  # the GPU scan's tile shapes.
  timeout ${ARRAYS_BENCH_TIMEOUT:-240} $python bench/arrays/run.py --out "$out" >"$out/arrays-bench.log" 2>&1 ||
    status[bench]="${status[bench]}, arrays failed"
  timeout 120 $python bench/arrays/scan_tiles.py >"$out/scan-tiles.md" 2>&1 ||
    status[bench]="${status[bench]}, scan tiles failed"
fi

if wants profile; then
  # The memory profile's counts against Nsight Compute's on the same kernels (sectors, shared
  # wavefronts and bank conflicts): the comparison table goes to profile-ncu.md.
  timeout ${PROFILE_TIMEOUT:-480} $python bench/profile/ncu_compare.py --out "$out/profile-ncu.md" \
      >"$out/profile-ncu.log" 2>&1
  status[profile]=$?
fi

if wants sweep; then
  timeout ${SWEEP_TIMEOUT:-540} $python bench/arrays/sweep.py --device cuda --out "$out" >"$out/sweep.log" 2>&1
  status[sweep]=$?
fi

if wants multigpu; then
  gpus=$($python -c "import manycore as mc; print(sum(d.kind == 'cuda' for d in mc.devices()))" 2>/dev/null)
  if [ "${gpus:-0}" -lt 2 ]; then
    status[multigpu]="skipped: ${gpus:-0} GPU on this machine; the step needs 2 or more"
  else
    multigpu_timeout=${MULTIGPU_TIMEOUT:-180}
    timeout $multigpu_timeout $python -m pytest tests/python/test_multigpu.py -m gpu "${pytest_args[@]}" \
        >"$out/multigpu-tests.log" 2>&1
    tests_rc=$?
    # The MPI suite with one rank per GPU: each rank's default device is its own GPU.
    : >"$out/multigpu-mpi.log"
    mpi_rc=0
    for ranks in 2 4; do
      [ "$ranks" -le "$gpus" ] || continue
      echo "==== $ranks ranks" >>"$out/multigpu-mpi.log"
      timeout $multigpu_timeout $python -m manycore run -n "$ranks" --timeout $((multigpu_timeout - 10)) -m pytest \
          --with-mpi -m mpi tests/python/test_dist.py -p no:cacheprovider -q -x -o addopts= \
          >>"$out/multigpu-mpi.log" 2>&1 || mpi_rc=1
    done
    timeout $multigpu_timeout $python bench/mpi/heat_gpus.py --out "$out" >"$out/heat-gpus.log" 2>&1
    heat_rc=$?
    status[multigpu]="tests $tests_rc, mpi $mpi_rc, heat scaling $heat_rc ($gpus GPUs)"
  fi
fi

if wants mpibench; then
  timeout ${MPI_BENCH_TIMEOUT:-400} $python bench/mpi/run.py --max-ranks "${MPI_BENCH_RANKS:-16}" \
      --grid "${MPI_BENCH_GRID:-2048}" >"$out/mpi-bench.log" 2>&1
  status[mpibench]=$?
  written=$(sed -n 's/^wrote //p' "$out/mpi-bench.log")
  [ -n "$written" ] && cp "$written" "$out/"
fi

if wants pycuda; then
  timeout ${PYCUDA_TIMEOUT:-560} $python tools/pycuda_compare.py programs "$out" >"$out/pycuda.log" 2>&1
  status[pycuda]=$?
  written=$(sed -n 's/^wrote //p' "$out/pycuda-bench.log" 2>/dev/null)
  [ -n "$written" ] && cp "$written" "$out/"
fi
if wants pycudasuite; then
  timeout ${PYCUDA_SUITE_TIMEOUT:-590} $python tools/pycuda_compare.py suites "$out" >"$out/pycuda-suite.log" 2>&1
  status[pycudasuite]=$?
fi

if wants labs; then
  # The labs' optional anchors (Numba, the profilers), from wheels that
  # tools/pack_offline_deps.sh put in .offline-deps/wheels; a lab skips, saying so, without them.
  if [ -d .offline-deps/wheels ]; then
    # One at a time: a wheel that was not packed (Numba, unless LABS_NUMBA=1) leaves the others.
    : >"$out/labs-deps.log"
    for anchor in numba line_profiler memory_profiler; do
      $python -m pip install -q --no-index --find-links .offline-deps/wheels "$anchor" >>"$out/labs-deps.log" 2>&1 ||
        echo "labs: $anchor not installed (labs-deps.log); the labs skip what needs it"
    done
  fi
  timeout ${LABS_TIMEOUT:-560} $python -m manycore labs run "${LABS:-all}" --size "${LABS_SIZE:-default}" \
      --device "${LABS_DEVICE:-cuda}" --out build/labs-gpu >"$out/labs.log" 2>&1
  status[labs]=$?
  # Stopped by the time limit, the runner wrote no table: the labs that finished still count.
  [ "${status[labs]}" -eq 124 ] &&
    $python -c "import pathlib, manycore.labs.command as c; c.write_results_table(pathlib.Path('build/labs-gpu'))" \
        >/dev/null 2>&1
  cp build/labs-gpu/labs-results.md build/labs-gpu/lab*.json "$out/" 2>/dev/null
fi

printf '\n| step | status | log |\n|---|---|---|\n'
for step in build cpp tests mpi memcheck bench profile mpibench pycuda pycudasuite labs sweep multigpu; do
  wants "$step" || continue
  detail=""
  case $step in
    cpp) detail=" ($(grep -m1 'tests passed' "$out/cpp.log" 2>/dev/null))" ;;
    tests) detail=" ($(tail -n 1 "$out/gpu-tests.log"))" ;;
    mpi) detail=" ($(tail -n 1 "$out/mpi-tests.log"))" ;;
    multigpu) [ -f "$out/multigpu-tests.log" ] && detail=" ($(tail -n 1 "$out/multigpu-tests.log"))" ;;
  esac
  printf '| %s | %s%s | %s |\n' "$step" "${status[$step]}" "$detail" \
    "$(case $step in build) echo build.log;; cpp) echo cpp.log;; mpi) echo mpi-tests.log;; tests) echo gpu-tests.log;; memcheck) echo memcheck.log;; bench) echo gpu-bench.md;; profile) echo profile-ncu.md;; mpibench) echo mpi-bench.log;; pycuda) echo pycuda-side-by-side.md;; pycudasuite) echo pycuda-suite-*.md;; labs) echo "labs.log, labs-results.md";; sweep) echo sweep.log;; multigpu) echo "multigpu-*.log, heat-gpus.log";; esac)"
done
[ -f "$out/gpu-bench.md" ] && cat "$out/gpu-bench.md"
[ -f "$out/scan-tiles.md" ] && cat "$out/scan-tiles.md"
[ -f "$out/pycuda-side-by-side.md" ] && cat "$out/pycuda-side-by-side.md"
wants labs && [ -f "$out/labs.log" ] && grep -A 30 '^lab  title' "$out/labs.log"
wants sweep && cat "$out"/*-sweep.md 2>/dev/null
wants multigpu && [ -f "$out/heat-gpus.log" ] && cat "$out/heat-gpus.log"
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Sets up everything a fresh clone needs, then runs the tour or the tests.
#   tools/dev.sh tour    install what is missing, then the tour of the course labs (CPU)
#   tools/dev.sh test    install what is missing, then every test (C++ with ctest, then pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
export CMAKE_BUILD_PARALLEL_LEVEL=$jobs

say() { printf '\n== %s\n' "$*"; }

apt_packages=(g++ cmake ninja-build python3-venv libboost-context-dev libxxhash-dev libgtest-dev
              libbenchmark-dev libopenmpi-dev openmpi-bin)
# For the tests only: a real SLURM for tests/python/test_slurm.py, which starts and stops its
# own one-node cluster (slurmd brings SLURM's PMIx plugin, which Debian's Open MPI needs).
test_packages=(slurmctld slurmd slurm-client munge)
install_system_packages() {  # arguments: more packages than apt_packages
  local missing=()
  for p in "${apt_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # python3-venv is only needed when the interpreter lacks venv.
  if python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
  fi
  local wanted=()
  for p in "${missing[@]}"; do [ -n "$p" ] && wanted+=("$p"); done
  [ ${#wanted[@]} -eq 0 ] && return
  say "installing system packages: ${wanted[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${wanted[@]}" >/dev/null
}

install_python_env() {
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q "scikit-build-core>=0.11" "nanobind==3.1.0" "numpy>=1.24" \
      "pytest>=7" "pytest-timeout>=2" "mpi4py>=3.1" "tqdm>=4.64"
  # The checkers, pinned so that their verdicts do not drift (nanobind too: it writes the stub).
  .venv/bin/python -m pip install -q "mypy==2.4.1"
  # The labs: notebooks (jupytext, nbclient, an IPython kernel) and the anchors their variants
  # compare with (Numba, the line and memory profilers, matplotlib).
  .venv/bin/python -m pip install -q "jupytext>=1.16" "nbclient>=0.10" "ipykernel>=6" \
      "numba>=0.60" "line_profiler>=4" "memory_profiler>=0.61" "matplotlib>=3.6"
  say "building and installing manycore into .venv"
  .venv/bin/python -m pip install -q --no-build-isolation .
}

build_cpp() {
  say "building the C++ core and its tests"
  cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release -DMANYCORE_BUILD_TESTS=ON >/dev/null
  cmake --build build/cpp
}

command=${1:-}
case "$command" in
  tour)
    install_system_packages
    install_python_env
    shift
    exec .venv/bin/python -m manycore tour "$@"
    ;;
  test)
    install_system_packages "${test_packages[@]}"
    install_python_env
    say "type checks (mypy)"
    .venv/bin/mypy
    build_cpp
    say "C++ tests"
    (cd build/cpp && ctest --output-on-failure -j "$jobs")
    say "Python tests"
    exec .venv/bin/python -m pytest tests/python
    ;;
  *)
    echo "usage: tools/dev.sh tour|test" >&2
    exit 2
    ;;
esac

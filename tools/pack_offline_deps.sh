#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Packs the build dependencies an offline machine may lack -- Boost.Context (the static
# library, its CMake package and the headers it includes), the xxHash header and GoogleTest's
# source (for the C++ tests) -- into .offline-deps/, from this machine's Debian packages
# (libboost-context-dev, libxxhash-dev, libgtest-dev);
# and, into .offline-deps/pycuda/, PyCUDA's source distribution and the wheels of its Python
# dependencies for CPython 3.12 on x86_64 Linux, for tools/pycuda_compare.py to build the real
# PyCUDA on the GPU machine (tools/run_gpu_tests.sh pycuda).
# tools/run_gpu_tests.sh builds against that folder when the machine it runs on has no
# Boost.Context of its own. It also downloads, from PyPI, wheels of the labs' optional anchors
# (the line and memory profilers; Numba too with LABS_NUMBA=1) for the GPU machine's Python,
# which the labs step of run_gpu_tests.sh installs. About 8 MiB in all (70 MiB with Numba);
# never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.offline-deps
arch=$(gcc -print-multiarch)
libdir=/usr/lib/$arch
cmakedir=$libdir/cmake
boost_version=$(basename "$(ls -d "$cmakedir"/boost_context-* | head -n 1)" | sed 's/boost_context-//')
[ -n "$boost_version" ] || { echo "no Boost.Context CMake package under $cmakedir; apt-get install libboost-context-dev" >&2; exit 1; }
[ -f /usr/include/xxhash.h ] || { echo "no /usr/include/xxhash.h; apt-get install libxxhash-dev" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/include" "$out/lib/$arch/cmake/boost_context-$boost_version"
# The headers the fiber switcher includes, and nothing else of Boost.
probe=$(mktemp --suffix=.cpp)
trap 'rm -f "$probe"' EXIT
printf '#include <boost/context/fiber.hpp>\n#include <boost/context/stack_context.hpp>\n' >"$probe"
g++ -std=c++20 -M "$probe" | tr ' \\' '\n\n' | grep '^/usr/include/boost/' | sort -u |
  while read -r header; do
    mkdir -p "$out/include/$(dirname "${header#/usr/include/}")"
    cp "$header" "$out/include/${header#/usr/include/}"
  done
cp /usr/include/xxhash.h "$out/include/"
# GoogleTest as source (Debian ships it in /usr/src/googletest), built by the machine that runs
# the tests with its own compiler: tools/run_gpu_tests.sh cpp passes it as
# MANYCORE_GTEST_SOURCE_DIR.
[ -f /usr/src/googletest/CMakeLists.txt ] || { echo "no /usr/src/googletest; apt-get install libgtest-dev" >&2; exit 1; }
cp -rL /usr/src/googletest "$out/googletest"
# Only the static variant, so the Python extension needs no Boost library at run time.
cp "$libdir/libboost_context.a" "$out/lib/$arch/"
cp -r "$cmakedir/Boost-$boost_version" "$cmakedir/boost_headers-$boost_version" "$out/lib/$arch/cmake/"
cp "$cmakedir/BoostDetectToolset-$boost_version.cmake" "$out/lib/$arch/cmake/"
cp "$cmakedir/boost_context-$boost_version"/boost_context-config*.cmake \
   "$cmakedir/boost_context-$boost_version"/libboost_context-variant-static.cmake \
   "$out/lib/$arch/cmake/boost_context-$boost_version/"

# PyCUDA's sdist (PyPI has no wheels of it; build/pycuda-suite/ may hold one already) and the
# wheels its build and its tests import.
mkdir -p "$out/pycuda"
if compgen -G "build/pycuda-suite/pycuda-*.tar.gz" >/dev/null; then
  cp build/pycuda-suite/pycuda-*.tar.gz "$out/pycuda/"
else
  python3 -m pip download -q --no-deps pycuda -d "$out/pycuda"
fi
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 \
  -d "$out/pycuda" pytools platformdirs mako markupsafe typing_extensions siphash24

# The labs' optional anchors, as wheels for the GPU machine's Python (LABS_PYTHON, default
# 3.12); tools/run_gpu_tests.sh's labs step installs them from here. Skipped with a note when
# PyPI cannot be reached. Numba only with LABS_NUMBA=1: its llvmlite wheel alone is about
# 60 MB, more than a size-limited copy of the tree to a GPU machine may carry.
labs_python=${LABS_PYTHON:-3.12}
labs_wheels=(line_profiler memory_profiler psutil)
[ "${LABS_NUMBA:-0}" = 1 ] && labs_wheels+=(numba llvmlite)
if ! python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$labs_python" \
      --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
      -d "$out/wheels" "${labs_wheels[@]}"; then
  echo "no wheels for the labs' anchors (pip download failed); the labs will skip those variants" >&2
fi
echo "$out: Boost.Context $boost_version (static), xxhash.h, GoogleTest's source, PyCUDA's sdist and $(ls "$out/pycuda" | grep -c whl) wheels, the labs' wheels, $(du -sh "$out" | cut -f1)"

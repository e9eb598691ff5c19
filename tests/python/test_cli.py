# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The `manycore` command, run as a user runs it: `python -m manycore ...` in a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import manycore as mc


def manycore(*args: str, cache: Path, env: dict | None = None, timeout: float = 120):
    """Runs `python -m manycore ARGS` with its compile cache in `cache` (never the user's)."""
    full_env = dict(os.environ, MANYCORE_CACHE_DIR=str(cache), **(env or {}))
    full_env.pop("MANYCORE_CACHE", None)
    return subprocess.run(
        [sys.executable, "-m", "manycore", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout,
    )


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_version(cache: Path) -> None:
    r = manycore("--version", cache=cache)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"manycore {mc.__version__}"


def test_info(cache: Path) -> None:
    r = manycore("info", cache=cache, env={"MANYCORE_NUM_THREADS": "2"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(f"manycore {mc.__version__}")
    for key in ("Python", "NumPy", "devices", "threads", "compiler", "compile cache", "CUDA",
                "MPI", "mpi4py", "mpirun", "mpiexec"):
        assert key in out, f"'{key}' missing from `manycore info`:\n{out}"
    assert "MANYCORE_NUM_THREADS=2" in out
    assert str(cache) in out  # the cache folder reported is the one in use
    if not any(d.kind == "cuda" for d in mc.devices()):
        # No GPU: either this build has no CUDA room, or the room says why it found none.
        assert "not built in this version" in out or "no GPU is usable here" in out


def test_info_does_not_import_mpi4py(cache: Path) -> None:
    # Importing mpi4py initialises MPI; `info` must only look it up.
    code = ("import sys; from manycore.cli import main; main(['info']); "
            "print('mpi4py imported' if 'mpi4py' in sys.modules else 'mpi4py not imported')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, MANYCORE_CACHE_DIR=str(cache)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("mpi4py not imported")


def test_devices(cache: Path) -> None:
    r = manycore("devices", cache=cache)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["device", "name"]
    assert any(line.startswith("cpu ") for line in lines[2:])


def test_cache_dir_info_clear(cache: Path) -> None:
    r = manycore("cache", "dir", cache=cache)
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip())
    assert folder.parent == cache  # the version folder under MANYCORE_CACHE_DIR

    # Fill the cache from another process, then see it counted and cleared.
    src = "__global__ void k(int n, float* x) { int i = threadIdx.x; if (i < n) x[i] = 1; }"
    fill = subprocess.run(
        [sys.executable, "-c", f"import manycore as mc; mc.SourceModule({src!r})"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, MANYCORE_CACHE_DIR=str(cache)),
    )
    assert fill.returncode == 0, fill.stderr

    r = manycore("cache", "info", cache=cache)
    assert r.returncode == 0, r.stderr
    assert str(folder) in r.stdout
    assert "usable" in r.stdout and "yes" in r.stdout
    entries = next(line for line in r.stdout.splitlines() if line.strip().startswith("entries"))
    assert entries.split()[1] == "1", r.stdout

    r = manycore("cache", "clear", cache=cache)
    assert r.returncode == 0, r.stderr
    assert "removed 1 compiled module " in r.stdout

    r = manycore("cache", cache=cache)  # `cache` alone is `cache info`
    assert r.returncode == 0, r.stderr
    entries = next(line for line in r.stdout.splitlines() if line.strip().startswith("entries"))
    assert entries.split()[1] == "0", r.stdout


@pytest.mark.slow
def test_tour_small(cache: Path) -> None:
    r = manycore("tour", "--size", "small", "--repeat", "1", "--labs", "8,15", cache=cache,
                 timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    runs_as = {}
    for kernel in ("vector_add", "block_sum", "transpose"):
        line = next(line for line in out.splitlines() if line.startswith(kernel))
        assert line.rstrip().endswith("OK"), line
        runs_as[kernel] = line.split()[3]  # kernel, size, dtype, runs as, ...
    # How each kernel ran is shown: the barrier kernels split by loop fission.
    assert runs_as == {"vector_add": "loop", "block_sum": "fission", "transpose": "fission"}, out
    assert "scaled" in out  # the pure-Python column says how it was obtained
    assert "threads" in out
    # Then the labs, each with its verdict, and how to find the rest.
    for number, title in ((8, "Races and barriers"), (15, "GPU memory spaces and occupancy")):
        assert f"lab {number}: {title}: PASSED" in out, out
    assert "`manycore labs` lists them" in out and "manycore labs open N" in out


def test_tour_rejects_an_unknown_lab(cache: Path) -> None:
    r = manycore("tour", "--labs", "4,99", cache=cache)
    assert r.returncode == 2
    assert "no lab 99" in r.stderr


def test_tour_rejects_a_bad_size(cache: Path) -> None:
    r = manycore("tour", "--size", "huge", cache=cache)
    assert r.returncode == 2
    assert "usage:" in r.stderr and "size 'huge'" in r.stderr


def test_unknown_command_exits_with_usage(cache: Path) -> None:
    r = manycore("frobnicate", cache=cache)
    assert r.returncode != 0
    assert "usage: manycore" in r.stderr
    assert "invalid choice" in r.stderr


def test_no_command_prints_help(cache: Path) -> None:
    r = manycore(cache=cache)
    assert r.returncode == 2
    assert "usage: manycore" in r.stderr and "tour" in r.stderr


def test_bad_environment_is_an_error_not_a_traceback(cache: Path) -> None:
    r = manycore("info", cache=cache, env={"MANYCORE_NUM_THREADS": "many"})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "MANYCORE_NUM_THREADS" in r.stderr

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""bench/run_all.py at its quick sizes: every benchmark runs, checks its answers and prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parents[2] / "bench" / "run_all.py"


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_run_all_quick(tmp_path: Path) -> None:
    if not RUN_ALL.exists():
        pytest.skip(f"{RUN_ALL} is not here (an installed package without the source tree)")
    env = dict(os.environ, MANYCORE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MANYCORE_CACHE", None)
    r = subprocess.run(
        [sys.executable, str(RUN_ALL), "--quick", "--no-write"],
        capture_output=True, text=True, env=env, timeout=55, cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in ("triad", "launch", "fission", "compile", "checked"):
        assert f"== {name}" in r.stdout, name
    assert "FAIL" not in r.stdout
    assert "wrote" not in r.stdout  # --no-write: no results files


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_profile_bench_quick(tmp_path: Path) -> None:
    script = RUN_ALL.parent / "profile" / "run.py"
    if not script.exists():
        pytest.skip(f"{script} is not here (an installed package without the source tree)")
    env = dict(os.environ, MANYCORE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MANYCORE_CACHE", None)
    r = subprocess.run([sys.executable, str(script), "--quick", "--no-write"],
                       capture_output=True, text=True, env=env, timeout=110, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for measure in ("recording a launch", "coalesced copy, instrumented / plain",
                    "tiled transpose, instrumented / plain"):
        assert measure in r.stdout, measure
    assert "FAIL" not in r.stdout and "wrote" not in r.stdout

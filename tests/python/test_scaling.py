# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Scaling studies: Amdahl's and Gustafson's fits and the Karp-Flatt metric on synthetic
timings with known serial fractions, mc.tools.scaling in child processes, `manycore scale`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import manycore as mc
from manycore.tools import scale
from manycore.tools.scale import Point, ScalingResult, ScalingWarning

WORKERS = [1, 2, 4, 8, 16, 32]


def amdahl_times(f: float, t1: float = 3.0) -> list[Point]:
    """Timings of a program whose serial fraction is f: T(p) = T(1) (f + (1 - f) / p)."""
    return [Point(p, None, (t1 * (f + (1 - f) / p),)) for p in WORKERS]


@pytest.mark.parametrize("f", [0.0, 0.01, 0.1, 0.25, 0.5, 0.9])
def test_amdahl_fit_recovers_the_serial_fraction(f):
    result = ScalingResult(amdahl_times(f))
    assert math.isclose(result.serial_fraction, f, abs_tol=1e-12)
    for point in result.points:
        assert math.isclose(result.speedup(point), scale.amdahl(f, point.workers))
        assert math.isclose(result.efficiency(point), scale.amdahl(f, point.workers) / point.workers)
        if point.workers > 1:  # Karp-Flatt gives f back at every point of an Amdahl program
            assert math.isclose(result.karp_flatt(point), f, abs_tol=1e-12)
        else:
            assert math.isnan(result.karp_flatt(point))


def test_amdahl_fit_with_noise_and_the_speedup_bound():
    rng = np.random.default_rng(7)
    points = [Point(p.workers, None, tuple(t * (1 + 0.01 * rng.standard_normal()) for t in p.times * 5))
              for p in amdahl_times(0.1)]
    result = ScalingResult(points)
    assert abs(result.serial_fraction - 0.1) < 0.01
    f = result.serial_fraction
    assert f"f = {f:.3f}" in result.summary() and f"reach {1 / f:.1f} at most" in result.summary()
    # Median or best: 5 samples of each point.
    assert ScalingResult(points, use="median").serial_fraction == pytest.approx(0.1, abs=0.01)


def test_karp_flatt_grows_when_overhead_grows_with_workers():
    # A fixed serial fraction plus an overhead per worker: Karp-Flatt rises with p, which a
    # single Amdahl fraction hides.
    points = [Point(p, None, (0.05 + 0.95 / p + 0.002 * p,)) for p in WORKERS]
    result = ScalingResult(points)
    kf = [result.karp_flatt(pt) for pt in result.points[1:]]
    assert all(b > a for a, b in zip(kf, kf[1:]))


@pytest.mark.parametrize("a", [0.0, 0.05, 0.2, 0.6])
def test_gustafson_fit_recovers_the_serial_share(a):
    # Weak scaling: the work grows with p; a share a of each run is serial, so p workers do
    # S(p) = p - a (p - 1) times one worker's work in the time one worker does its own.
    points = [Point(p, 1000.0 * p, (2.0 * p / scale.gustafson(a, p),)) for p in WORKERS]
    result = ScalingResult(points, kind="weak")
    assert math.isclose(result.serial_fraction, a, abs_tol=1e-12)
    for point in result.points:
        assert math.isclose(result.speedup(point), scale.gustafson(a, point.workers))
    assert f"a = {a:.3f}" in result.summary()


def test_fits_need_more_than_one_worker():
    with pytest.raises(ValueError, match="more than one worker"):
        scale.amdahl_fit([1], [1.0])
    with pytest.raises(ValueError, match="more than one worker"):
        scale.gustafson_fit([1, 1], [1.0, 1.0])
    assert "nothing to fit" in ScalingResult([Point(1, None, (1.0,))]).summary()


def test_table_and_plot(tmp_path):
    result = ScalingResult(amdahl_times(0.2))
    text = result.table()
    assert "speedup" in text and "Karp-Flatt" in text and "Amdahl" in text
    # The Karp-Flatt column and the fit.
    assert text.count("0.200") == len(WORKERS) - 1 + 1
    pytest.importorskip("matplotlib")
    result.plot(str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").stat().st_size > 1000
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["kind"] == "strong" and math.isclose(data["serial_fraction"], 0.2)


def test_scaling_runs_each_thread_count_in_its_own_process(tmp_path, monkeypatch):
    import _scaling_work

    out = tmp_path / "seen"
    monkeypatch.setenv("SCALING_TEST_OUT", str(out))
    result = mc.tools.scaling(_scaling_work.threads_seen, threads=[1, 2], repeat=2, warmup=1)
    assert [pt.workers for pt in result.points] == [1, 2]
    assert all(len(pt.times) == 2 for pt in result.points)
    seen = out.read_text().split()
    assert seen[0::2] == ["1"] * 3 + ["2"] * 3  # warm-up and 2 timed calls each
    assert result.kind == "strong"
    weak = mc.tools.scaling(_scaling_work.threads_seen, threads=[1, 2], sizes=[10, 20],
                            repeat=1, warmup=0)
    assert weak.kind == "weak" and [pt.size for pt in weak.points] == [10.0, 20.0]
    assert out.read_text().split()[-4:] == ["1", "10", "2", "20"]


def test_scaling_warns_beyond_the_cores_and_refuses_bad_arguments(monkeypatch, tmp_path):
    import _scaling_work

    monkeypatch.setenv("SCALING_TEST_OUT", str(tmp_path / "seen"))
    with pytest.warns(ScalingWarning, match="more than the"):
        mc.tools.scaling(_scaling_work.threads_seen, threads=[scale.cores() + 1], repeat=1,
                         warmup=0)
    with pytest.raises(ValueError, match="threads=, sizes="):
        mc.tools.scaling(_scaling_work.threads_seen)
    with pytest.raises(ValueError, match="as many of each"):
        mc.tools.scaling(_scaling_work.threads_seen, threads=[1, 2], sizes=[1])
    with pytest.raises(ValueError, match=">= 1"):
        mc.tools.scaling(_scaling_work.threads_seen, threads=[0])


SCRIPT = textwrap.dedent("""
    import os, sys, time
    from manycore.tools.scale import region
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with region():
        time.sleep(0.02)
    print("threads", os.environ.get("MANYCORE_NUM_THREADS"), "size", n,
          "env", os.environ.get("MANYCORE_SCALE_SIZE"), file=sys.stderr)
""")


def run_scale(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manycore", "scale", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, CI="1"))


def test_manycore_scale_threads(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    out = tmp_path / "s.json"
    run = run_scale("--threads", f"1,{scale.cores() + 1}", "--repeat", "2", "--warmup", "1",
                    "--json", str(out), str(script))
    assert run.returncode == 0, run.stderr
    assert "strong scaling over threads" in run.stdout and "Amdahl" in run.stdout
    assert f"threads {scale.cores() + 1} size 0" in run.stderr
    assert "warning" in run.stderr and "more than the" in run.stderr
    data = json.loads(out.read_text())
    # The region's 20 ms, not the whole run's (which starts Python).
    assert all(0.02 <= t < 0.5 for p in data["points"] for t in p["times"])
    assert len(data["points"][0]["times"]) == 2


def test_manycore_scale_weak_sizes(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    run = run_scale("--threads", "1,2", "--sizes", "100,200", "--repeat", "1", str(script),
                    "{size}")
    assert run.returncode == 0, run.stderr
    assert "weak scaling" in run.stdout and "Gustafson" in run.stdout
    assert "threads 2 size 200 env 200" in run.stderr


def test_manycore_scale_ranks(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    run = run_scale("--ranks", "1,2", "--repeat", "1", "--warmup", "0", str(script))
    assert run.returncode == 0, run.stderr
    assert "over ranks" in run.stdout


def test_manycore_scale_bad_input(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    run = run_scale("--threads", "1,2", "--ranks", "1,2", str(script))
    assert run.returncode == 1 and "not both" in run.stderr
    run = run_scale("--threads", "one,two", str(script))
    assert run.returncode == 2 and "list of counts" in run.stderr
    run = run_scale("--threads", "1", str(tmp_path / "none.py"))
    assert run.returncode == 2 and "no such script" in run.stderr
    failing = tmp_path / "failing.py"
    failing.write_text("raise SystemExit(4)\n")
    run = run_scale("--threads", "1", "--repeat", "1", "--warmup", "0", str(failing))
    assert run.returncode == 1 and "status 4" in run.stderr

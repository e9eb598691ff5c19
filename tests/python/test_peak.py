# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""`manycore peak`: measured bandwidth and FMA rates per device, cached per device and machine,
and the progress bars of long measurements."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

import manycore as mc
from manycore.tools import _progress, peak


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A cache folder of the test's own, so measured peaks never mix with the user's."""
    folder = tmp_path / "cache" / "v"
    folder.mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(peak, "cache_path", _cache_path_under(tmp_path / "cache"))
    return tmp_path / "cache"


def _cache_path_under(root):
    real = peak.cache_path

    def cache_path(device=None):
        return root / "peaks" / real(device).name

    return cache_path


def test_cpu_peaks_measured_and_cached(private_cache):
    assert peak.cached("cpu") is None
    p = peak.measure("cpu", elements=1 << 20, repeat=2)
    assert p.device == "cpu" and p.threads == mc._core.num_threads()
    # Loops of any machine: more than 100 MB/s and 100 MFLOP/s, FP64 at most FP32's rate
    # (twice as many lanes per vector), and the memory roof is the faster STREAM measure.
    assert p.copy > 1e8 and p.triad > 1e8 and p.fp64 > 1e8
    assert p.fp32 > 0.9 * p.fp64
    assert p.bandwidth == max(p.copy, p.triad)
    assert "OpenMP" in p.method and "hand" not in p.method
    assert peak.cached("cpu") == p
    assert peak.peaks("cpu") == p  # from the cache: not measured again
    stored = json.loads(peak.cache_path("cpu").read_text())
    assert stored["fp32"] == p.fp32
    assert "GB/s" in peak.format_peaks(p)


def test_cache_is_keyed_by_device_and_machine(monkeypatch):
    import platform

    here = peak.cache_path("cpu")
    monkeypatch.setattr(platform, "node", lambda: "another-machine")
    assert peak.cache_path("cpu") != here
    assert peak.cache_path("cpu").parent.name == "peaks"


def test_a_corrupt_cache_entry_is_measured_again(private_cache):
    path = peak.cache_path("cpu")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert peak.cached("cpu") is None


def test_peak_command_prints_json(tmp_path):
    env = dict(os.environ, MANYCORE_CACHE_DIR=str(tmp_path / "c"), CI="1")
    run = subprocess.run([sys.executable, "-m", "manycore", "peak", "--device", "cpu", "--json"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["device"] == "cpu" and data["triad"] > 0
    assert run.stderr == ""  # no terminal: no progress bar
    assert list((tmp_path / "c" / "peaks").glob("cpu-*.json"))


@pytest.mark.gpu
def test_gpu_peaks(device, private_cache):
    if device.kind == "cpu":
        pytest.skip("the GPU case")
    p = peak.measure(device, elements=1 << 24, repeat=2)
    assert p.copy > 1e11 and p.fp32 > 1e12 and p.fp64 > 1e10


def test_progress_is_silent_without_a_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not _progress.enabled()
    with _progress.bar(3, "x") as b:
        b.update(1, "step")
        assert not b.drawn
    assert sys.stderr.getvalue() == ""


def test_progress_draws_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert _progress.enabled()
    with _progress.bar(2, "measuring") as b:
        assert b.drawn
        b.update(1, "copy")
    assert "measuring" in sys.stderr.getvalue()
    monkeypatch.setenv("CI", "true")
    assert not _progress.enabled()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""mc.profile(): per-launch records, per-kernel summaries, reports (text, JSON, roofline),
annotations, `manycore profile`, and the launch path that no profile touches."""

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
from manycore import _core
from manycore.tools.peak import Peaks

SOURCE = r"""
__global__ void axpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
__global__ void empty() {}
__global__ void fail(int* x) { assert(x[threadIdx.x] == 0); }
"""


@pytest.fixture(scope="module")
def axpy_module() -> dict:
    return {}


def module(device: mc.Device, cache: dict) -> mc.SourceModule:
    if str(device) not in cache:
        cache[str(device)] = mc.SourceModule(SOURCE, device=device)
    return cache[str(device)]


def test_no_profile_no_hook(cpu, axpy_module):
    """A launch with no profile started never reaches the profiling hook: the launch path's
    only profiling code is the test of the active profile's pointer."""
    f = module(cpu, axpy_module).get_function("empty")
    f(grid=1, block=32)
    before = _core.profile_hook_calls()
    for _ in range(100):
        f(grid=1, block=32)
    assert _core.profile_hook_calls() == before
    with mc.profile():
        for _ in range(10):
            f(grid=1, block=32)
    assert _core.profile_hook_calls() == before + 10
    for _ in range(100):
        f(grid=1, block=32)
    assert _core.profile_hook_calls() == before + 10
    # Also after a profile left by an exception.
    with pytest.raises(RuntimeError), mc.profile():
        raise RuntimeError("the block failed")
    f(grid=1, block=32)
    assert _core.profile_hook_calls() == before + 10


def test_launches_recorded_one_by_one(device, axpy_module):
    f = module(device, axpy_module).get_function("axpy")
    n = 1000
    x = mc.to_device(np.ones(n, np.float32), device)
    y = mc.zeros(n, np.float32, device=device)
    with mc.profile() as p:
        f(n, 2.0, x, y, grid=4, block=256)
        f(n, 2.0, x, y, grid=4, block=256, shared=64)
        module(device, axpy_module).get_function("empty")(grid=(2, 3), block=(4, 5), lint=False)
    assert (y.get() == 4).all()
    first, second, third = p.launches
    assert first.kernel == "axpy" and first.device == str(device)
    assert first.grid == (4, 1, 1) and first.block == (256, 1, 1) and first.shared_bytes == 0
    assert second.shared_bytes == 64
    assert third.kernel == "empty" and third.grid == (2, 3, 1) and third.block == (4, 5, 1)
    assert first.seconds > 0 and not first.instrumented and first.memory is None
    # Without memory counts, the bytes are the array arguments' sizes: x read, y written.
    assert (first.array_bytes_read, first.array_bytes_written) == (4 * n, 4 * n)
    assert first.bytes == 8 * n and first.bytes_source == "estimate"
    assert math.isclose(first.gbs, 8 * n / first.seconds / 1e9)
    summary = p.kernels(peaks=None)[0]
    assert summary.calls == 2 and summary.timed_calls == 2
    assert math.isclose(summary.total_seconds, first.seconds + second.seconds)
    assert math.isclose(summary.mean_seconds, summary.total_seconds / 2)


def test_launches_outside_the_block_are_not_recorded(cpu, axpy_module):
    f = module(cpu, axpy_module).get_function("empty")
    p = mc.profile()
    f(grid=1, block=32)
    with p:
        f(grid=1, block=32)
    f(grid=1, block=32)
    assert len(p.launches) == 1


def test_profiles_nest(cpu, axpy_module):
    f = module(cpu, axpy_module).get_function("empty")
    with mc.profile() as outer:
        f(grid=1, block=32)
        with mc.profile() as inner:
            f(grid=2, block=32)
        f(grid=3, block=32)
    assert [launch.grid[0] for launch in outer.launches] == [1, 3]
    assert [launch.grid[0] for launch in inner.launches] == [2]
    with pytest.raises(mc.InvalidArgument, match="already started"):
        with outer, outer:
            pass


def test_launches_from_threads_are_recorded(cpu, axpy_module):
    import threading

    f = module(cpu, axpy_module).get_function("empty")
    with mc.profile() as p:
        threads = [threading.Thread(target=lambda: [f(grid=1, block=32) for _ in range(50)])
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(p.launches) == 200


def test_a_failing_launch_raises_as_usual(cpu, axpy_module):
    f = module(cpu, axpy_module).get_function("fail")
    ones, zeros = np.ones(32, np.int32), np.zeros(32, np.int32)
    with mc.profile() as p, pytest.raises(mc.KernelFault):
        f(ones, grid=1, block=32)
    assert p.launches == []
    with mc.profile() as p, pytest.raises(mc.InvalidLaunch):
        f(zeros, grid=1, block=4096)


def test_annotations_set_bytes_and_flops(cpu, axpy_module):
    f = module(cpu, axpy_module).get_function("axpy")
    n = 1 << 16
    x, y = np.ones(n, np.float32), np.zeros(n, np.float32)
    with mc.profile() as p:
        for _ in range(3):
            f(n, 2.0, x, y, grid=n // 256, block=256)
    p.annotate("axpy", bytes=lambda launch: 12 * n, flops=2 * n)
    (k,) = p.kernels(peaks=None)
    assert k.bytes == 12 * n and k.bytes_source == "annotated" and k.flops == 2 * n
    assert math.isclose(k.gbs, 3 * 12 * n / k.total_seconds / 1e9)
    assert math.isclose(k.gflops, 3 * 2 * n / k.total_seconds / 1e9)
    peaks = Peaks("cpu", "test", "here", 2, 2 * k.gbs * 1e9, k.gbs * 1e9, 4 * k.gflops * 1e9,
                  1.0, "now", "test")
    (k,) = p.kernels(peaks={"cpu": peaks})
    assert math.isclose(k.peak_bandwidth_share, 0.5) and math.isclose(k.peak_flops_share, 0.25)
    with pytest.raises(ValueError, match="bytes=, flops="):
        p.annotate("axpy")
    with pytest.raises(ValueError, match="a number >= 0"):
        p.annotate("axpy", bytes=-1)


def test_report_text_and_json(cpu, axpy_module):
    f = module(cpu, axpy_module).get_function("axpy")
    n = 4096
    x, y = np.ones(n, np.float32), np.zeros(n, np.float32)
    with mc.profile() as p:
        for _ in range(25):
            f(n, 2.0, x, y, grid=n // 256, block=256)
    text = p.report(peaks=None, launches=5)
    assert "25 launches of 1 kernel" in text
    assert "the first 5 of 25" in text
    assert text.count("axpy") >= 6  # the kernel table and five launch rows
    data = json.loads(p.report("json", peaks=None))
    assert len(data["launches"]) == 25 and data["kernels"][0]["calls"] == 25
    assert data["launches"][0]["grid"] == [16, 1, 1]
    with pytest.raises(ValueError, match="'text' or 'json'"):
        p.report("xml")
    assert mc.profile().report() == "manycore profile: no kernel was launched while the profile was open"


def test_roofline_png_and_svg(cpu, axpy_module, tmp_path):
    pytest.importorskip("matplotlib")
    f = module(cpu, axpy_module).get_function("axpy")
    n = 1 << 14
    x, y = np.ones(n, np.float32), np.zeros(n, np.float32)
    with mc.profile() as p:
        f(n, 2.0, x, y, grid=n // 256, block=256)
        module(cpu, axpy_module).get_function("empty")(grid=1, block=32)
    p.annotate("axpy", flops=2 * n)
    peaks = {"cpu": Peaks("cpu", "test", "here", 2, 2e10, 1.9e10, 1e11, 5e10, "now", "test")}
    for name in ("roof.png", "roof.svg"):
        notes = p.roofline(str(tmp_path / name), peaks=peaks)
        assert (tmp_path / name).stat().st_size > 1000
        assert notes == ["empty (cpu): no FLOPs known (Profile.annotate(kernel, flops=...))"]
    data = json.loads((tmp_path / "roof.json").read_text())
    (point,) = data["points"]
    assert point["kernel"] == "axpy" and math.isclose(point["intensity"], 2 * n / (8 * n))


def test_manycore_profile_command(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(f"src = {SOURCE!r}\n" + textwrap.dedent("""
        import sys
        import numpy as np, manycore as mc
        f = mc.SourceModule(src, device="cpu").get_function("axpy")
        n = int(sys.argv[1])
        x, y = np.ones(n, np.float32), np.zeros(n, np.float32)
        for _ in range(3):
            f(n, 2.0, x, y, grid=n // 256, block=256)
        print("script done", y[0])
    """))
    out_json = tmp_path / "p.json"
    run = subprocess.run([sys.executable, "-m", "manycore", "profile", "--memory", "--json",
                          str(out_json), str(script), "1024"], capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, CI="1"))
    assert run.returncode == 0, run.stderr
    assert "script done 6.0" in run.stdout
    assert "3 launches of 1 kernel" in run.stdout
    assert "kernel 'axpy'" in run.stdout and "global loads: 64 requests" in run.stdout
    data = json.loads(out_json.read_text())
    assert data["memory"]["axpy"]["summary"]["global_loads"]["sectors"] == 4 * 64
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nsys.exit(3)\n")
    run = subprocess.run([sys.executable, "-m", "manycore", "profile", str(failing)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 3 and "exited with status 3" in run.stdout
    run = subprocess.run([sys.executable, "-m", "manycore", "profile", str(tmp_path / "none.py")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "no such script" in run.stderr


def test_manycore_profile_pycuda(tmp_path):
    pytest.importorskip("manycore.pycuda")
    script = tmp_path / "pycuda_script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import pycuda.autoinit  # noqa: F401
        import pycuda.driver as drv
        from pycuda.compiler import SourceModule
        mod = SourceModule("__global__ void twice(float* a) { a[threadIdx.x] *= 2; }")
        a = np.ones(32, np.float32)
        mod.get_function("twice")(drv.InOut(a), block=(32, 1, 1), grid=(1, 1))
        print("twice", a[0])
    """))
    run = subprocess.run([sys.executable, "-m", "manycore", "profile", "--pycuda", "--memory",
                          str(script)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, CI="1"))
    assert run.returncode == 0, run.stderr
    assert "twice 2.0" in run.stdout
    assert "1 launch of 1 kernel" in run.stdout and "kernel 'twice'" in run.stdout

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The measured peaks the labs compare their throughput with: never a number from a data sheet.

On the CPU, ``peak.cpp`` (a STREAM triad and independent FMA chains, OpenMP) is built with the
compiler manycore uses and run on as many threads as the CPU device has. On a GPU, a
device-to-device copy gives the bandwidth and a kernel of independent FMA chains the FLOP rate.
A measurement is kept for an hour in the compile cache's folder (with its date), so a course
running lab after lab does not measure again each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import manycore as mc
from manycore import _core

__all__ = ["measure_peak", "cpu_peak", "gpu_peak"]

HERE = Path(__file__).resolve().parent
KEEP_SECONDS = 3600


def _cache_dir() -> Path:
    folder = Path(_core.cache_info()["directory"]) / "labs-peak"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _remembered(key: str) -> dict | None:
    path = _cache_dir() / f"{key}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if time.time() - data.get("time", 0) < KEEP_SECONDS else None


def _remember(key: str, data: dict) -> dict:
    data = dict(data, time=time.time(),
                measured=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    path = _cache_dir() / f"{key}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    return data


def _build_cpu_peak() -> tuple[Path, str]:
    compiler = _core.compiler_info()
    if not compiler.get("available"):
        raise mc.DeviceUnavailable(f"no host compiler to build the peak loop: {compiler.get('reason')}")
    cxx = compiler["path"]
    source = (HERE / "peak.cpp").read_bytes()
    st = os.stat(cxx)
    key = hashlib.sha256(source + f"{cxx}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    exe = _cache_dir() / f"peak-{key}"
    if not exe.is_file():
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "peak"
            r = subprocess.run([cxx, "-O3", "-march=native", "-fopenmp", str(HERE / "peak.cpp"),
                                "-o", str(out)], capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise mc.CompileError(f"building the peak loop with {cxx} failed:\n{r.stderr[-2000:]}")
            os.replace(out, exe)
    return exe, f"{compiler['version']} -O3 -march=native -fopenmp"


def cpu_peak() -> dict:
    """The CPU's triad bandwidth (bytes/s) and FP32 FMA rate (FLOP/s) on the CPU device's
    threads, measured by a hand-written C++ loop."""
    threads = _core.num_threads()
    exe, how = _build_cpu_peak()
    key = f"{exe.name}-t{threads}"
    known = _remembered(key)
    if known:
        return known
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="false")
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"the peak loop failed ({r.returncode}): {r.stderr[-500:]}")
    data = json.loads(r.stdout)
    data["how"] = f"C++ triad and FMA loops, {threads} threads, {how}"
    return _remember(key, data)


FMA_KERNEL = r"""
__global__ void fma_chains(float* out, int steps, float m, float k) {
    float a0 = threadIdx.x, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3,
          a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7;
    for (int s = 0; s < steps; ++s) {
        a0 = a0 * m + k; a1 = a1 * m + k; a2 = a2 * m + k; a3 = a3 * m + k;
        a4 = a4 * m + k; a5 = a5 * m + k; a6 = a6 * m + k; a7 = a7 * m + k;
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
"""


def gpu_peak(device: mc.Device) -> dict:
    """A GPU's device-to-device copy bandwidth and FP32 FMA rate, measured on it."""
    key = f"gpu-{device.name}-{device}".replace(" ", "_").replace(":", "_").replace("/", "_")
    known = _remembered(key)
    if known:
        return known
    n = min(1 << 28, device.total_memory // 16)  # two float32 arrays, at most 2 GiB
    a = mc.zeros(n, np.float32, device)
    b = mc.empty(n, np.float32, device)
    best = float("inf")
    for _ in range(6):
        mc.synchronize(device)
        t0 = time.perf_counter()
        mc.copy(b, a)
        mc.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    bandwidth = 2 * 4 * n / best
    del a, b
    f = mc.SourceModule(FMA_KERNEL, device=device).get_function("fma_chains")
    blocks, threads, steps = device.compute_units * 32, 256, 4096
    out = mc.empty(blocks * threads, np.float32, device)
    best = float("inf")
    for _ in range(6):
        mc.synchronize(device)
        t0 = time.perf_counter()
        f(out, steps, np.float32(0.999999), np.float32(1e-7), grid=(blocks,), block=(threads,))
        mc.synchronize(device)
        best = min(best, time.perf_counter() - t0)
    flops = 2.0 * 8 * steps * blocks * threads / best
    return _remember(key, {"bandwidth": bandwidth, "flops": flops,
                           "how": "device-to-device copy and an FMA-chain kernel on the GPU"})


_measured: dict[str, dict] = {}


def measure_peak(device: mc.Device) -> dict:
    """The peaks of ``device`` (kept for the process, and for an hour on disk)."""
    key = str(device)
    if key not in _measured:
        _measured[key] = cpu_peak() if device.kind == "cpu" else gpu_peak(device)
    return _measured[key]

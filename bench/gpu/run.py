# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The GPU benchmarks: manycore against CuPy (and cuda.core where installed), same run, same GPU.

What is measured, and the goal of each (issue "CUDA backend", benchmarks):
  launch        a tiny kernel launched from Python, per call (median of batches) -- goal <= 4 us
  compile       NVRTC compile of a tiny kernel (a fresh source each time: a cache miss)
  cached load   SourceModule of a cached module in a new process             -- goal <= 2 ms
  vector add    c = a + b on 2**28 float32, hand-written kernel, GB/s       -- goal >= 2750 GB/s
  reduction     warp-shuffle sum of 2**28 float32, GB/s                      -- goal >= 2700 GB/s
  D2D copy      device to device, GB/s (bytes read + written)
  H2D pinned    host to device from pinned memory, GB/s                      -- goal >= 80% of CuPy
  H2D pageable  host to device from NumPy memory, GB/s
and the array layer (issue "arrays that compute"): a + b and sum() on mc.Array vs CuPy.

    python bench/gpu/run.py [--out results.md] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

import manycore as mc

try:
    import cupy as cp
except ImportError:  # the table says so
    cp = None

try:  # cuda.core moved out of .experimental in 0.4
    from cuda.core import Device as CoreDevice, LaunchConfig, Program, ProgramOptions
    from cuda.core import launch as core_launch
except ImportError:
    try:
        from cuda.core.experimental import Device as CoreDevice, LaunchConfig, Program, ProgramOptions
        from cuda.core.experimental import launch as core_launch
    except ImportError:
        CoreDevice = None

TINY = 'extern "C" __global__ void tiny(float* x, int n) { if (n < 0) x[0] = 1.0f; }'

VECTOR_ADD = r"""
extern "C" __global__ void vadd(const float4* __restrict__ a, const float4* __restrict__ b,
                                float4* __restrict__ c, long long n4) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n4;
         i += (long long)blockDim.x * gridDim.x) {
        float4 x = a[i], y = b[i];
        c[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
}
"""

# One pass: each block sums a grid-stride slice with float4 loads, reduces in registers with
# warp shuffles, and adds its warp totals to one double with atomics.
REDUCTION = r"""
extern "C" __global__ void wsum(const float4* __restrict__ x, long long n4, double* out) {
    float v = 0.0f;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n4;
         i += (long long)blockDim.x * gridDim.x) {
        float4 q = x[i];
        v += (q.x + q.y) + (q.z + q.w);
    }
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    __shared__ float warp_totals[32];
    if ((threadIdx.x & 31) == 0) warp_totals[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < (blockDim.x >> 5) ? warp_totals[threadIdx.x] : 0.0f;
        for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
        if (threadIdx.x == 0) atomicAdd(out, (double)v);
    }
}
"""


def median_ms(run, repeats: int, sync) -> float:
    """Median wall milliseconds of ``run`` (each followed by ``sync``), after one warm-up."""
    run()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def event_ms(run, repeats: int, gpu) -> float:
    """Median milliseconds of ``run`` between two manycore events on the default stream."""
    run()
    mc.synchronize(gpu)
    times = []
    for _ in range(repeats):
        start, end = mc.Event(gpu), mc.Event(gpu)
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def cupy_event_ms(run, repeats: int) -> float:
    run()
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        run()
        end.record()
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end))
    return statistics.median(times)


def per_launch_us(launch, sync, calls: int = 20_000, chunk: int = 500) -> float:
    """Median microseconds of one launch call from Python: each call timed on its own, the
    queue drained between chunks (untimed) so the driver's queue never fills and the host cost,
    not the GPU's throughput of tiny kernels, is what is measured."""
    for _ in range(chunk):
        launch()
    sync()
    clock = time.perf_counter
    samples = []
    while len(samples) < calls:
        for _ in range(chunk):
            t0 = clock()
            launch()
            samples.append(clock() - t0)
        sync()
    return statistics.median(samples) * 1e6


def bench_launch(gpu, rows, quick):
    calls = 2_000 if quick else 20_000
    f = mc.SourceModule(TINY, device=gpu).get_function("tiny")
    x = mc.zeros(16, np.float32, device=gpu)
    rows.append(("launch (tiny kernel)", "manycore", per_launch_us(
        lambda: f(x, 1, grid=1, block=32), lambda: mc.synchronize(gpu), calls), "us", "<= 4 us"))
    if cp is not None:
        k = cp.RawKernel(TINY, "tiny")
        y = cp.zeros(16, cp.float32)
        n = np.int32(1)
        rows.append(("launch (tiny kernel)", "CuPy RawKernel", per_launch_us(
            lambda: k((1,), (32,), (y, n)), cp.cuda.Device().synchronize, calls), "us", ""))
    if CoreDevice is not None:
        try:
            dev = CoreDevice(gpu.index)
            dev.set_current()
            stream = dev.create_stream()
            prog = Program(TINY, code_type="c++", options=ProgramOptions(arch=f"sm_{dev.arch}"))
            kernel = prog.compile("cubin").get_kernel("tiny")
            buf = cp.zeros(16, cp.float32) if cp is not None else None
            config = LaunchConfig(grid=1, block=32)
            ptr = buf.data.ptr if buf is not None else 0
            rows.append(("launch (tiny kernel)", "cuda.core", per_launch_us(
                lambda: core_launch(stream, config, kernel, np.uint64(ptr), np.int32(1)), stream.sync, calls),
                "us", ""))
        except Exception as e:  # an API drift of cuda.core must not stop the rest
            rows.append(("launch (tiny kernel)", f"cuda.core (failed: {type(e).__name__}: {e})"[:120],
                         float("nan"), "us", ""))
    else:
        rows.append(("launch (tiny kernel)", "cuda.core (not installed)", float("nan"), "us", ""))


def bench_compile(gpu, rows, quick):
    repeats = 3 if quick else 10
    times = []
    for i in range(repeats):  # a fresh source each time: a cache miss, compiled by NVRTC
        src = TINY + f"\n// variant {time.time_ns()} {i}\n"
        t0 = time.perf_counter()
        mc.SourceModule(src, device=gpu).get_function("tiny")
        times.append((time.perf_counter() - t0) * 1e3)
    rows.append(("NVRTC compile (tiny kernel)", "manycore", statistics.median(times), "ms", ""))
    if cp is not None:
        times = []
        for i in range(repeats):
            src = TINY + f"\n// variant {time.time_ns()} {i}\n"
            t0 = time.perf_counter()
            cp.RawModule(code=src).get_function("tiny")
            times.append((time.perf_counter() - t0) * 1e3)
        rows.append(("NVRTC compile (tiny kernel)", "CuPy RawModule", statistics.median(times), "ms", ""))


def bench_cached_load(gpu, rows, quick):
    child = textwrap.dedent(f"""
        import ctypes, sys, time
        import manycore as mc
        gpu = mc.Device({str(gpu)!r})
        mc.synchronize(gpu)  # the context exists before timing: the load, not the driver's start
        if sys.argv[2] == "preload":  # NVRTC already in the process: what opening it costs
            for name in ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"):
                try:
                    ctypes.CDLL(name)
                    break
                except OSError:
                    pass
        t0 = time.perf_counter()
        m = mc.SourceModule(sys.argv[1], device=gpu)
        m.get_function("tiny")
        print((time.perf_counter() - t0) * 1e3, m.from_cache)
    """)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MANYCORE_CACHE_DIR=cache)
        src = TINY + f"\n// cached-load {time.time_ns()}\n"
        loads = {"cold": [], "preload": []}
        for i in range(3 if quick else 7):
            for mode in loads:
                out = subprocess.run([sys.executable, "-c", child, src, mode], env=env,
                                     capture_output=True, text=True, check=True).stdout.split()
                if i > 0:  # the first run compiles and fills the cache
                    assert out[1] == "True", "the module did not come from the cache"
                    loads[mode].append(float(out[0]))
    rows.append(("cached module load (new process)", "manycore", statistics.median(loads["cold"]),
                 "ms", "<= 2 ms"))
    rows.append(("cached module load (new process)", "manycore, NVRTC already loaded",
                 statistics.median(loads["preload"]), "ms", ""))


def bench_bandwidth(gpu, rows, quick):
    n = 1 << 24 if quick else 1 << 28
    repeats = 5 if quick else 20
    gb = 1e9
    sm = gpu.compute_units
    mod = mc.SourceModule(VECTOR_ADD + REDUCTION, device=gpu)
    vadd, wsum = mod.get_function("vadd"), mod.get_function("wsum")
    a = mc.to_device(np.ones(n, np.float32), gpu)
    b = mc.to_device(np.full(n, 2, np.float32), gpu)
    c = mc.empty(n, np.float32, device=gpu)
    grid = sm * 8
    ms = event_ms(lambda: vadd(a, b, c, n // 4, grid=grid, block=256), repeats, gpu)
    assert float(c[n - 1:].get()[0]) == 3.0
    rows.append((f"vector add, {n:,} float32", "manycore kernel", 3 * 4 * n / (ms * 1e-3) / gb, "GB/s", ">= 2750 GB/s"))
    ms = event_ms(lambda: a + b, repeats, gpu)
    rows.append((f"vector add, {n:,} float32", "manycore a + b", 3 * 4 * n / (ms * 1e-3) / gb, "GB/s", ""))
    total = mc.zeros(1, np.float64, device=gpu)

    def reduce():
        mc.copyto(total, np.zeros(1, np.float64))
        wsum(a, n // 4, total, grid=sm * 4, block=512)

    ms = event_ms(reduce, repeats, gpu)
    assert float(total.get()[0]) == float(n)
    rows.append((f"sum, {n:,} float32", "manycore warp-shuffle kernel", 4 * n / (ms * 1e-3) / gb, "GB/s", ">= 2700 GB/s"))
    ms = event_ms(lambda: a.sum(), repeats, gpu)
    rows.append((f"sum, {n:,} float32", "manycore a.sum()", 4 * n / (ms * 1e-3) / gb, "GB/s", ""))
    ms = event_ms(lambda: mc.copyto(c, a), repeats, gpu)
    rows.append((f"D2D copy, {4 * n >> 20} MiB", "manycore mc.copyto", 2 * 4 * n / (ms * 1e-3) / gb, "GB/s", ""))

    m = min(n, 1 << 26)  # 256 MiB host buffers
    pinned = mc.pinned_empty(m, np.float32)
    np.asarray(pinned)[:] = 1
    dst = mc.empty(m, np.float32, device=gpu)
    ms = median_ms(lambda: mc.copyto(dst, pinned), repeats, lambda: mc.synchronize(gpu))
    mine_pinned = 4 * m / (ms * 1e-3) / gb
    rows.append((f"H2D pinned, {4 * m >> 20} MiB", "manycore mc.copyto", mine_pinned, "GB/s", ">= 80% of CuPy"))
    pageable = np.ones(m, np.float32)
    ms = median_ms(lambda: mc.copyto(dst, pageable), repeats, lambda: mc.synchronize(gpu))
    rows.append((f"H2D pageable, {4 * m >> 20} MiB", "manycore mc.copyto", 4 * m / (ms * 1e-3) / gb, "GB/s", ""))
    del a, b, c, dst

    if cp is None:
        return
    ca = cp.ones(n, cp.float32)
    cb = cp.full(n, 2, cp.float32)
    cc = cp.empty(n, cp.float32)
    ms = cupy_event_ms(lambda: cp.add(ca, cb, out=cc), repeats)
    rows.append((f"vector add, {n:,} float32", "CuPy a + b", 3 * 4 * n / (ms * 1e-3) / gb, "GB/s", ""))
    ms = cupy_event_ms(lambda: ca.sum(), repeats)
    rows.append((f"sum, {n:,} float32", "CuPy sum", 4 * n / (ms * 1e-3) / gb, "GB/s", ""))
    ms = cupy_event_ms(lambda: cc.__setitem__(Ellipsis, ca), repeats)
    rows.append((f"D2D copy, {4 * n >> 20} MiB", "CuPy copy", 2 * 4 * n / (ms * 1e-3) / gb, "GB/s", ""))
    cdst = cp.empty(m, cp.float32)
    import cupyx

    cpinned = cupyx.empty_pinned((m,), np.float32)
    cpinned[:] = 1
    ms = median_ms(lambda: cdst.set(cpinned), repeats, cp.cuda.Device().synchronize)
    theirs = 4 * m / (ms * 1e-3) / gb
    rows.append((f"H2D pinned, {4 * m >> 20} MiB", "CuPy ndarray.set", theirs, "GB/s", ""))
    rows.append((f"H2D pinned, {4 * m >> 20} MiB", "manycore / CuPy", 100 * mine_pinned / theirs, "%", ">= 80%"))
    ms = median_ms(lambda: cdst.set(pageable), repeats, cp.cuda.Device().synchronize)
    rows.append((f"H2D pageable, {4 * m >> 20} MiB", "CuPy ndarray.set", 4 * m / (ms * 1e-3) / gb, "GB/s", ""))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="also write the table (markdown) to this file")
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (a smoke run)")
    args = p.parse_args(argv)
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if not gpus:
        print("bench/gpu: no GPU on this machine; nothing to measure")
        return 0
    gpu = gpus[0]
    rows: list[tuple] = []
    for step in (bench_launch, bench_compile, bench_cached_load, bench_bandwidth):
        try:
            step(gpu, rows, args.quick)
        except Exception as e:  # report and go on: one broken step must not hide the others
            rows.append((step.__name__, f"FAILED: {type(e).__name__}: {e}"[:160], float("nan"), "", ""))
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"GPU benchmarks, {when}, {gpu.name} ({gpu}), manycore {mc.__version__}"
             + (f", CuPy {cp.__version__}" if cp is not None else ", no CuPy"), "",
             "| benchmark | contender | result | unit | goal |", "|---|---|---:|---|---|"]
    for name, who, value, unit, goal in rows:
        lines.append(f"| {name} | {who} | {value:.4g} | {unit} | {goal} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What profiling costs: a launch recorded by ``mc.profile()`` against one made with no profile,
and the memory profile's instrumented run against the plain run of the same kernel.

- **Launch overhead**: ``__global__ void empty() {}`` at grid 1, block 1, launched from
  Python, each call timed on its own, with no profile and inside ``mc.profile()`` (no memory),
  in alternating rounds; the difference of the medians is what recording a launch costs.
  Goal: at most 1 µs a launch.
- **Instrumented run**: the coalesced copy and the triad (2^20 elements, and 16 times that,
  streaming from memory), the shared-memory tree reduction of the tour (2^20 float32), its
  tiled transpose (1024 x 1024) and a warp-shuffle sum: each kernel launched plainly, and as
  the first launch of its shape in a fresh ``mc.profile(memory=True)`` (which runs it
  instrumented: every access and branch filed into its warp's requests, and counted). Both on
  every thread of the pool, in alternating rounds, the best of each. Goal: at most 20 times
  the plain run (checked mode's is 30). Kernels with barriers run plainly as loop fission
  makes them and, as the instrumented run does (like checked mode), as fibers
  (``mc.set_cpu_scheme("fibers")``): both ratios are given.

    python bench/profile/run.py [--size N] [--repeat R] [--quick] [--no-write]

Writes bench/results/<date>-<machine>-profile.{md,csv} unless --no-write is given.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import load, row, size_label, standalone_main  # noqa: E402

import manycore as mc  # noqa: E402
from manycore import _core  # noqa: E402
from manycore.tools import tour  # noqa: E402
from manycore.tools.timing import measure  # noqa: E402

DEFAULT_SIZE = 1 << 20
QUICK_SIZE = 1 << 16
OVERHEAD_GOAL_US = 1.0
COST_GOAL = 20.0
BLOCK = 256
ROUNDS = 3
CALLS = 20000

KERNELS = r"""
__global__ void empty() {}
__global__ void copy(long n, const float* x, float* y) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i];
}
__global__ void triad(long n, double s, const double* a, const double* b, double* c) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + s * b[i];
}
__global__ void warp_sum(long n, const float* x, float* out) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? x[i] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffff, v, offset);
    if (threadIdx.x % 32 == 0) out[i / 32] = v;
}
"""


def launch_overhead(repeat: int, quick: bool) -> list[dict]:
    f = mc.SourceModule(KERNELS, device="cpu").get_function("empty")
    calls = CALLS // 10 if quick else CALLS
    per_call_seconds = load("launch").per_call_seconds

    def samples() -> list[float]:
        return per_call_seconds(lambda: f(grid=1, block=1, lint=False), calls)

    plain, profiled = float("inf"), float("inf")
    for _ in range(1 if quick else ROUNDS):
        plain = min(plain, statistics.median(samples()))
        with mc.profile() as p:
            profiled = min(profiled, statistics.median(samples()))
        assert len(p.launches) >= calls  # the timed calls and their warm-up
    extra_us = (profiled - plain) * 1e6
    detail = f"{calls} calls timed one by one, median, best of {1 if quick else ROUNDS} rounds"
    return [
        row("profile", "empty launch, no profile", f"{calls} calls", plain * 1e6, "µs", detail),
        row("profile", "empty launch, in mc.profile()", f"{calls} calls", profiled * 1e6, "µs",
            detail),
        row("profile", "recording a launch", f"{calls} calls", extra_us, "µs",
            "the difference", goal=f"<= {OVERHEAD_GOAL_US:g} µs",
            result="PASS" if extra_us <= OVERHEAD_GOAL_US else "MISS"),
    ]


def instrumented_cost(n: int, repeat: int, quick: bool) -> list[dict]:
    def modules() -> tuple[mc.SourceModule, mc.SourceModule]:
        return mc.SourceModule(KERNELS, device="cpu"), mc.SourceModule(tour.KERNELS, device="cpu")

    kernels, tours = modules()
    # The same kernels as fibers, as before loop fission: the way the instrumented run (like a
    # checked one) runs kernels with barriers.
    scheme = mc.cpu_scheme()
    mc.set_cpu_scheme("fibers")
    try:
        fiber_kernels, fiber_tours = modules()
    finally:
        mc.set_cpu_scheme(scheme)
    side = tour.transpose_side(n)
    big = 16 * n  # arrays that stream from memory
    rng = np.random.default_rng(1)
    x = rng.random(big, dtype=np.float32)
    y = np.zeros(big, np.float32)
    a, b, c = rng.random(big), rng.random(big), np.zeros(big)
    partial = np.zeros((n + tour.BLOCK - 1) // tour.BLOCK, np.float32)
    sums = np.zeros(n // 32, np.float32)
    m = rng.random((side, side), dtype=np.float32)
    t = np.zeros((side, side), np.float32)
    tiles = (side // tour.TILE, side // tour.TILE)

    def streaming(name: str, size: int, args: tuple) -> tuple:
        label = f"{size_label(size)} {'float64' if name == 'triad' else 'float32'}"
        return (name, label, kernels, fiber_kernels, "copy" if name == "coalesced copy" else name,
                args, dict(grid=(size + BLOCK - 1) // BLOCK, block=BLOCK))

    cases = [
        streaming("coalesced copy", n, (n, x[:n], y[:n])),
        streaming("coalesced copy", big, (big, x, y)),
        streaming("triad", n, (n, 3.0, a[:n], b[:n], c[:n])),
        streaming("triad", big, (big, 3.0, a, b, c)),
        ("warp-shuffle sum", f"{size_label(n)} float32", kernels, fiber_kernels, "warp_sum",
         (n, x[:n], sums), dict(grid=(n + BLOCK - 1) // BLOCK, block=BLOCK)),
        ("tree reduction", f"{size_label(n)} float32", tours, fiber_tours, "block_sum",
         (n, x[:n], partial), dict(grid=len(partial), block=tour.BLOCK)),
        ("tiled transpose", f"{side}x{side} float32", tours, fiber_tours, "transpose",
         (side, side, m, t), dict(grid=tiles, block=(tour.TILE, tour.TILE_ROWS))),
    ]
    rows = []
    rounds = 1 if quick else ROUNDS
    threads = _core.num_threads()
    for name, label, module, fiber_module, kernel, args, shape in cases:
        f, as_fibers = module.get_function(kernel), fiber_module.get_function(kernel)
        # Only where the schemes differ: barrier-free kernels are loops under both.
        plain = {f.execution_mode: f}
        if as_fibers.execution_mode != f.execution_mode:
            plain["fibers"] = as_fibers

        def instrumented() -> float:
            with mc.profile(memory=True) as p:
                f(*args, **shape)
            (launch,) = p.launches
            assert launch.instrumented, launch.note
            return launch.seconds

        instrumented()  # builds (or loads) the instrumented module
        best = {mode: float("inf") for mode in plain}
        instrumented_best = float("inf")
        for _ in range(rounds):
            for mode, g in plain.items():
                best[mode] = min(best[mode], measure(lambda: g(*args, **shape), repeat=repeat,
                                                     warmup=1).best)
            instrumented_best = min(instrumented_best, min(instrumented() for _ in range(repeat)))
        detail = f"{threads} threads, best of {rounds} round{'s' if rounds > 1 else ''}"
        for mode, seconds in best.items():
            rows.append(row("profile", f"{name}, plain ({mode})", label, seconds * 1e3, "ms",
                            detail))
        rows.append(row("profile", f"{name}, instrumented", label, instrumented_best * 1e3, "ms",
                        f"{detail}, every access and branch filed and counted, "
                        f"{'as fibers' if as_fibers.uses_fibers else 'as loops'}"))
        for k, (mode, seconds) in enumerate(best.items()):
            ratio = instrumented_best / seconds
            rows.append(row("profile", f"{name}, instrumented / plain ({mode})", label, ratio,
                            "x", "" if k == 0 else "like for like: both run as fibers",
                            goal=f"<= {COST_GOAL:g}x" if k == 0 else "",
                            result=("PASS" if ratio <= COST_GOAL else "MISS") if k == 0 else ""))
    return rows


def run(size: int | None = None, repeat: int = 5, quick: bool = False) -> list[dict]:
    n = size or (QUICK_SIZE if quick else DEFAULT_SIZE)
    return launch_overhead(repeat, quick) + instrumented_cost(n, repeat, quick)


def main(argv: list[str] | None = None) -> int:
    return standalone_main(__doc__, run, DEFAULT_SIZE, QUICK_SIZE, "profile", "What profiling costs",
                           "`python bench/profile/run.py`: a launch inside `mc.profile()` against one with no "
             "profile, and the memory profile's instrumented run against the plain run of the "
             "same kernel, in one run.", argv)


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The cost of checked mode: the foundation's kernels (triad, shared-memory tree reduction,
tiled transpose) checked and unchecked, in the same run, on the same inputs, and the ratio.

A checked launch records every access through a pointer parameter or a shared array in shadow
memory. Both run on every thread of the pool, a checked launch as lanes of consecutive blocks,
each with a shadow of its own, compared once the launch has run. Goal: checked at most 30x the
unchecked time (Oclgrind is about 100x); for the kernels with barriers, 30x the unchecked run
as fibers, the execution checked launches keep, with the ratio to loop fission beside it. The triad runs at two sizes: the given one, whose
arrays fit this machine's caches, and 16 times that, whose arrays stream from memory as in
bench/triad (whose own size is 2^26). Unchecked and checked are measured in alternating rounds
and each keeps its best, since this machine's speed drifts from one second to the next.

    python bench/checked/run.py [--size N] [--repeat R] [--quick] [--no-write]

Writes bench/results/<date>-<machine>-checked.{md,csv} unless --no-write is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import row, size_label, standalone_main  # noqa: E402

import manycore as mc  # noqa: E402
from manycore import _core  # noqa: E402
from manycore.tools import tour  # noqa: E402
from manycore.tools.timing import measure  # noqa: E402

DEFAULT_SIZE = 1 << 20
QUICK_SIZE = 1 << 16
GOAL = 30.0
BLOCK = 256
ROUNDS = 3  # alternating unchecked / checked rounds (1 with --quick)

TRIAD = r"""
__global__ void triad(long n, double s, const double* a, const double* b, double* c) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + s * b[i];
}
"""


def run(size: int | None = None, repeat: int = 5, quick: bool = False) -> list[dict]:
    n = size or (QUICK_SIZE if quick else DEFAULT_SIZE)
    side = tour.transpose_side(n)
    threads = _core.num_threads()
    rng = np.random.default_rng(1)

    def modules(source: str) -> tuple[mc.SourceModule, mc.SourceModule]:
        return (mc.SourceModule(source, device="cpu"),
                mc.SourceModule(source, device="cpu", checked=True))

    def as_fibers(source: str) -> mc.SourceModule:
        scheme = mc.cpu_scheme()
        mc.set_cpu_scheme("fibers")
        try:
            return mc.SourceModule(source, device="cpu")
        finally:
            mc.set_cpu_scheme(scheme)

    plain_triad, checked_triad = modules(TRIAD)
    plain_tour, checked_tour = modules(tour.KERNELS)
    fibers_tour = as_fibers(tour.KERNELS)
    big = 16 * n
    a, b = rng.random(big), rng.random(big)
    x = rng.random(n, dtype=np.float32)
    m = rng.random((side, side), dtype=np.float32)
    grid = ((n + BLOCK - 1) // BLOCK,)

    def triad_of(size: int):
        def make(module: mc.SourceModule):
            f, c = module.get_function("triad"), np.zeros(size)
            grid_of = ((size + BLOCK - 1) // BLOCK,)
            return ((lambda: f(size, 3.0, a[:size], b[:size], c, grid=grid_of, block=(BLOCK,))),
                    (lambda: c, a[:size] + 3.0 * b[:size]))
        return make

    def reduction(module: mc.SourceModule):
        f = module.get_function("block_sum")
        partial = np.zeros(grid[0], np.float32)
        return ((lambda: f(n, x, partial, grid=grid, block=(tour.BLOCK,))),
                (lambda: np.array([partial.sum(dtype=np.float64)]), np.array([x.sum(dtype=np.float64)])))

    def transpose(module: mc.SourceModule):
        f, out = module.get_function("transpose"), np.zeros((side, side), np.float32)
        tiles = (side // tour.TILE, side // tour.TILE)
        return ((lambda: f(side, side, m, out, grid=tiles, block=(tour.TILE, tour.TILE_ROWS))),
                (lambda: out, m.T))

    # A barrier kernel runs unchecked as loop fission, checked as lanes with a fiber a thread;
    # the goal compares checked with the same kernel's unchecked fibers (the execution a
    # checked launch shares), and a row beside it gives the ratio to loop fission.
    cases = [
        ("triad", "triad", f"{size_label(n)} float64", triad_of(n), plain_triad, checked_triad, None),
        ("triad", "triad", f"{size_label(big)} float64", triad_of(big), plain_triad, checked_triad, None),
        ("tree reduction", "block_sum", f"{size_label(n)} float32", reduction, plain_tour, checked_tour,
         fibers_tour),
        ("tiled transpose", "transpose", f"{side}x{side} float32", transpose, plain_tour, checked_tour,
         fibers_tour),
    ]
    rows = []
    rounds = 1 if quick else ROUNDS
    for name, kernel, label, make, plain, checked, fibers in cases:
        launches = {}
        modes = [("unchecked", plain), ("checked", checked)]
        if fibers is not None:
            modes.insert(1, ("unchecked, fibers", fibers))
        for mode, module in modes:
            launch, (result, expected) = make(module)
            launch()
            if not np.allclose(result(), expected, rtol=1e-4):
                rows.append(row("checked", f"{name}, {mode}", label, float("nan"), "ms",
                                "wrong answer", result="FAIL"))
                launches = {}
                break
            launches[mode] = launch
        if not launches:
            continue
        times = {mode: float("inf") for mode in launches}
        for _ in range(rounds):
            for mode, launch in launches.items():
                times[mode] = min(times[mode], measure(launch, repeat=repeat, warmup=1).best)
        detail = f"{threads} threads, best of {rounds} round{'s' if rounds > 1 else ''}"
        unchecked_mode = plain.get_function(kernel).execution_mode
        rows.append(row("checked", f"{name}, unchecked", label, times["unchecked"] * 1e3, "ms",
                        f"{detail}, {unchecked_mode}"))
        if fibers is not None:
            rows.append(row("checked", f"{name}, unchecked, fibers", label,
                            times["unchecked, fibers"] * 1e3, "ms",
                            f"{detail}, MANYCORE_CPU_SCHEME=fibers"))
        rows.append(row("checked", f"{name}, checked", label, times["checked"] * 1e3, "ms",
                        f"{detail}, every access recorded"))
        like = "unchecked, fibers" if fibers is not None else "unchecked"
        ratio = times["checked"] / times[like]
        rows.append(row("checked", f"{name}, checked / {like}", label, ratio, "x",
                        "", goal=f"<= {GOAL:g}x",
                        result="PASS" if ratio <= GOAL else "MISS"))
        if fibers is not None:
            rows.append(row("checked", f"{name}, checked / unchecked ({unchecked_mode})", label,
                            times["checked"] / times["unchecked"], "x",
                            "loop fission made the unchecked kernel this much faster than checking it"))
    return rows


def main(argv: list[str] | None = None) -> int:
    return standalone_main(__doc__, run, DEFAULT_SIZE, QUICK_SIZE, "checked", "Checked mode against unchecked",
                           "`python bench/checked/run.py`: the same kernels and inputs, checked and unchecked, "
             "in one run; the best of the timed runs counts.", argv)


if __name__ == "__main__":
    sys.exit(main())

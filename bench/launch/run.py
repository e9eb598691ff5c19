# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Launch cost: what one call of an empty kernel costs from Python, grid=(1,), block=(1,); and,
beside it, a kernel with arguments, and an axpy-shaped kernel of 4 x 256 threads whose body
never stores, for the cost of a launch whose every launch lint is checked.

Every call is timed on its own (two perf_counter reads around it), so the median is a median
of calls, not of batches; a call of an empty Python function is timed the same way as the
floor the measurement itself adds. Goal: median <= 5 µs for the empty kernel.

    python bench/launch/run.py [--calls N] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import exit_status, print_rows, row  # noqa: E402

import manycore as mc  # noqa: E402

CALLS = 20_000
QUICK_CALLS = 2_000
WARMUP = 1_000
GOAL_US = 5.0

KERNELS = r"""
__global__ void empty() {}
__global__ void with_args(float* x, int n) {}
__global__ void axpy_shaped(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 0) y[i] += a * x[i];  // never true: the launch cost, with every launch lint checked
}
"""


def per_call_seconds(call, count: int) -> list[float]:
    """Seconds of each of ``count`` calls of ``call`` (after WARMUP untimed ones)."""
    for _ in range(WARMUP):
        call()
    clock = time.perf_counter
    out = [0.0] * count
    for i in range(count):
        start = clock()
        call()
        out[i] = clock() - start
    return out


def run(calls: int | None = None, quick: bool = False, **_ignored) -> list[dict]:
    count = calls or (QUICK_CALLS if quick else CALLS)
    module = mc.SourceModule(KERNELS, device="cpu")
    x = np.zeros(16, np.float32)
    x1024 = np.zeros(1024, np.float32)
    one = dict(grid=(1,), block=(1,))
    # functools.partial, not a lambda: it is called from C, so the timing holds the launch
    # and not an extra Python frame.
    contenders = [
        ("empty kernel", functools.partial(module.get_function("empty"), **one), True),
        ("kernel(float* x, int n)", functools.partial(module.get_function("with_args"), x, 16,
                                                      **one), True),
        ("axpy-shaped, 4 x 256 threads", functools.partial(
            module.get_function("axpy_shaped"), 1024, 2.0, x1024, x1024, grid=(4,), block=(256,)),
         True),
        ("empty Python function", _nothing, False),
    ]
    rows = []
    label = f"{count} calls"
    for name, call, is_launch in contenders:
        us = [s * 1e6 for s in per_call_seconds(call, count)]
        us.sort()
        median = statistics.median(us)
        p99 = us[min(len(us) - 1, int(len(us) * 0.99))]
        detail = f"p99 {p99:.2f} µs, mean {statistics.fmean(us):.2f} µs"
        if name == "empty kernel":
            rows.append(row("launch", name, label, median, "µs median", detail,
                            goal=f"<= {GOAL_US:g} µs",
                            result="PASS" if median <= GOAL_US else "MISS"))
        else:
            rows.append(row("launch", name, label, median, "µs median",
                            detail if is_launch else detail + "; the timing's own floor"))
    return rows


def _nothing() -> None:
    pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=None, help=f"timed calls (default {CALLS})")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_CALLS} calls")
    args = p.parse_args(argv)
    rows = run(args.calls, args.quick)
    print_rows(rows)
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())

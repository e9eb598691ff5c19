# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reduction: the sum of n float32 values as the textbook shared-memory tree kernel (block 256,
log2(256) = 8 barriers), against an OpenMP reduction loop and NumPy, in the same run.

On the CPU a kernel with barriers runs every thread as a fiber, and each barrier is a switch
between all 256 fibers of a block; the loop keeps a few partial sums in vector registers. The
ratio shows what barriers cost on a CPU; it is reported, not a goal.

    python bench/reduction/run.py [--size N] [--repeat R] [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import row, run_reference, size_label, sized_main  # noqa: E402

import manycore as mc  # noqa: E402
from manycore import _core  # noqa: E402
from manycore.tools.timing import measure  # noqa: E402

DEFAULT_SIZE = 1 << 24
QUICK_SIZE = 1 << 18
BLOCK = 256

KERNEL = r"""
#define BLOCK 256
// One element per thread; the block's 256 values are summed in shared memory in 8 steps.
__global__ void block_sum(long n, const float* x, float* partial) {
    __shared__ float s[BLOCK];
    unsigned t = threadIdx.x;
    long i = (long)blockIdx.x * BLOCK + t;
    s[t] = i < n ? x[i] : 0.0f;
    for (unsigned stride = BLOCK / 2; stride > 0; stride /= 2) {
        __syncthreads();  // the previous step's writes are complete: 8 barriers in all
        if (t < stride) s[t] += s[t + stride];
    }
    if (t == 0) partial[blockIdx.x] = s[0];
}
"""


def exact_sum(n: int) -> float:
    """The sum of x[i] = 1 + (i % 7) / 8 for i < n, exactly."""
    counts = [n // 7 + (1 if k < n % 7 else 0) for k in range(7)]
    return sum(c * (1 + k / 8) for k, c in enumerate(counts))


def run(size: int | None = None, repeat: int = 5, quick: bool = False) -> list[dict]:
    n = size or (QUICK_SIZE if quick else DEFAULT_SIZE)
    label = f"{size_label(n)} float32"
    threads = _core.num_threads()

    def r(*args, **kwargs) -> dict:
        return row("reduction", args[0], label, *args[1:], **kwargs)

    f = mc.SourceModule(KERNEL, device="cpu").get_function("block_sum")
    x = (1 + (np.arange(n) % 7) / 8).astype(np.float32)
    blocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(blocks, np.float32)
    exact = exact_sum(n)

    def total() -> float:
        f(n, x, partial, grid=(blocks,), block=(BLOCK,))
        return float(partial.sum(dtype=np.float64))  # the partial sums, added on the host

    start = time.perf_counter()
    got = total()  # also the warm-up
    first = time.perf_counter() - start
    ok = abs(got - exact) <= 1e-6 * exact
    # Runs of several seconds each vary little; three of them keep the full run in minutes.
    many_repeat = min(repeat, 3) if first > 2.0 else repeat
    t_many = measure(total, repeat=many_repeat, warmup=0).best
    rows = [r("manycore tree kernel", t_many * 1e3, "ms",
              f"{'fibers' if f.uses_fibers else 'loop'}, {threads} threads, {blocks} blocks of "
              f"{BLOCK}, best of {many_repeat}; {4 * n / t_many / 1e9:.2g} GB/s",
              result="" if ok else "FAIL")]

    t_np = measure(lambda: x.sum(), repeat=repeat).best
    rows.append(r("NumPy x.sum()", t_np * 1e3, "ms", f"1 thread; {4 * n / t_np / 1e9:.2f} GB/s"))
    try:
        ref = run_reference(HERE / "ref_openmp.cpp", [str(n), str(repeat)], threads)
        t_omp = float(ref["best_s"])
        rows.append(r("OpenMP reduction loop", t_omp * 1e3, "ms",
                      f"parallel for simd, {ref['threads']} threads; {ref['gbps']:.2f} GB/s",
                      result="" if ref["relative_error"] < 1e-5 else "FAIL"))
        ratio = t_omp / t_many
        rows.append(r("manycore / OpenMP", ratio, "speed ratio",
                      f"OpenMP {1 / ratio:,.0f}x faster" if ratio < 1 else
                      f"manycore {ratio:,.1f}x faster", goal="reported"))
    except RuntimeError as e:
        rows.append(r("OpenMP reduction loop", float("nan"), "ms", str(e), result="n/a"))
    rows.append(r("manycore / NumPy", t_np / t_many, "speed ratio"))
    return rows


def main(argv: list[str] | None = None) -> int:
    return sized_main(__doc__, run, DEFAULT_SIZE, QUICK_SIZE, argv)


if __name__ == "__main__":
    sys.exit(main())

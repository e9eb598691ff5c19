# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The tour: the course's first command (``manycore tour``).

Three classic CUDA kernels, written once in CUDA C++, are compiled at run time for a device
(the CPU unless ``--device`` says otherwise), checked against NumPy and timed against NumPy and
a pure-Python loop:

1. vector addition, one thread per element;
2. a tree reduction in shared memory, ``__syncthreads`` between its steps;
3. a matrix transpose through a padded shared-memory tile.

Then a short selection of the course's labs runs at the small size on the same device (each
checks itself and states what it shows), and the tour ends by saying how to list and open the
rest (``manycore labs``).

The exit status is 0 when every result matches NumPy and every lab passed, and 1 otherwise,
so the tour doubles as a check that an installation works.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import manycore as mc
from manycore import _core
from manycore.tools.timing import format_rate, format_seconds, format_table, measure

__all__ = ["KERNELS", "SIZES", "TOUR_LABS", "parse_size", "run", "main"]

#: The labs the tour runs after its kernels: the GIL and processes, a race caught by checked
#: mode, and memory spaces; short at the small size.
TOUR_LABS = (2, 8, 15)

# The three kernels, in one module: one compiler run instead of three.
KERNELS = r"""
// (1) Vector addition: one thread per element, the "hello world" of data parallelism.
__global__ void vector_add(int n, const float* a, const float* b, float* c) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];  // the last block may run past the end
}

// (2) Tree reduction: each block of 256 threads sums its 256 elements in shared memory in
// log2(256) = 8 steps, halving the threads that work at each step; thread 0 writes the
// block's partial sum. The host (or a second launch) adds the partial sums.
#define REDUCE_BLOCK 256
__global__ void block_sum(int n, const float* x, float* partial) {
    __shared__ float s[REDUCE_BLOCK];
    unsigned t = threadIdx.x;
    int i = blockIdx.x * REDUCE_BLOCK + t;
    s[t] = i < n ? x[i] : 0.0f;
    for (unsigned stride = REDUCE_BLOCK / 2; stride > 0; stride /= 2) {
        // Every write of the previous step must be visible before any thread reads it.
        __syncthreads();
        if (t < stride) s[t] += s[t + stride];
    }
    if (t == 0) partial[blockIdx.x] = s[0];  // thread 0 wrote s[0] itself: no barrier needed
}

// (3) Transpose through a shared tile: a block reads a 32x32 tile with consecutive threads on
// consecutive addresses of a row (coalesced), then writes it out the same way into the
// transposed position, so neither the reads nor the writes of global memory are strided.
#define TILE 32
#define TILE_ROWS 8  // a block is 32x8 threads; each thread copies 4 elements of the tile
__global__ void transpose(int rows, int cols, const float* in, float* out) {
    // 33 columns, not 32. On a GPU shared memory is 32 banks of 4-byte words, and tile[r][c]
    // sits in bank (r * 33 + c) % 32. Reading a column of a [32][32] tile (fixed c, r = 0..31)
    // would hit the same bank 32 times and serialise the warp; the padding shifts each row by
    // one bank, so those 32 reads go to 32 different banks. On the CPU it only costs 4 bytes a
    // row, and the source stays the one that is fast on a GPU.
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x;
    int y = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += TILE_ROWS)
        if (x < cols && y + j < rows)
            tile[threadIdx.y + j][threadIdx.x] = in[(size_t)(y + j) * cols + x];
    // The tile is read below in the other direction: each thread reads elements that other
    // threads loaded, so all of them must have finished loading.
    __syncthreads();
    x = blockIdx.y * TILE + threadIdx.x;  // the block indices swap places: transposed tile
    y = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += TILE_ROWS)
        if (x < rows && y + j < cols)
            out[(size_t)(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
}
"""

BLOCK = 256
TILE = 32
TILE_ROWS = 8
# Sizes by name: elements of the vectors; the transpose takes the largest square matrix with
# a side divisible by 32 and at most that many elements.
SIZES = {"small": 1 << 16, "default": 1 << 20, "large": 1 << 24}
MAX_SIZE = 1 << 28  # int indices in the kernels, and memory: 3 float32 vectors = 3 GiB
# The pure-Python loops run on a slice this small and are scaled per element; at the full
# size they would take minutes.
PY_ELEMENTS = 1 << 12
PY_TILE = 64


def parse_size(text: str) -> int:
    """'small', 'default', 'large', a count ('65536'), a power ('2^20', '2**20') or a count
    with a suffix ('64k', '1M')."""
    t = text.strip().lower()
    if t in SIZES:
        return SIZES[t]
    m = re.fullmatch(r"2\s*(?:\^|\*\*)\s*(\d+)", t)
    if m:
        n = 1 << int(m.group(1))
    else:
        m = re.fullmatch(r"(\d+)\s*([km]?)", t.replace("_", "").replace(",", ""))
        if not m:
            raise ValueError(
                f"size '{text}' is not one of {', '.join(SIZES)}, a count (65536), a power of two "
                "(2^20) or a count with k or M (64k, 1M)"
            )
        n = int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20}[m.group(2)]
    if not 1024 <= n <= MAX_SIZE:
        raise ValueError(f"size {n} is outside 1024 to 2^28 elements")
    return n


def size_label(n: int) -> str:
    return f"2^{n.bit_length() - 1}" if n & (n - 1) == 0 else f"{n:,}"


def transpose_side(n: int) -> int:
    return max(TILE, math.isqrt(n) // TILE * TILE)


@dataclass
class Row:
    kernel: str
    size: str
    runs_as: str
    manycore: float = math.nan
    numpy: float = math.nan
    python: float = math.nan
    ok: bool = False
    problem: str = ""


def _check(row: Row, check: Callable[[], None]) -> None:
    try:
        check()
        row.ok = True
    except AssertionError as e:
        row.problem = " ".join(str(e).split())[:300]


def _python_vector_add(n: int, a: np.ndarray, b: np.ndarray, repeat: int) -> float:
    m = min(n, PY_ELEMENTS)
    xs, ys = a[:m].tolist(), b[:m].tolist()

    def loop() -> None:
        out = [0.0] * m
        for i in range(m):
            out[i] = xs[i] + ys[i]

    return measure(loop, repeat=repeat).best * n / m


def _python_sum(n: int, x: np.ndarray, repeat: int) -> float:
    m = min(n, PY_ELEMENTS)
    xs = x[:m].tolist()

    def loop() -> None:
        total = 0.0
        for v in xs:
            total += v

    return measure(loop, repeat=repeat).best * n / m


def _python_transpose(side: int, a: np.ndarray, repeat: int) -> float:
    k = min(side, PY_TILE)
    tile = a[:k, :k].tolist()

    def loop() -> None:
        out = [[0.0] * k for _ in range(k)]
        for r in range(k):
            row = tile[r]
            for c in range(k):
                out[c][r] = row[c]

    return measure(loop, repeat=repeat).best * (side * side) / (k * k)


def run(
    size: int = SIZES["default"],
    repeat: int = 5,
    device: str | mc.Device = "cpu",
    out: Callable[[str], None] = print,
    labs: tuple[int, ...] = (),
) -> int:
    """Runs the tour and prints it with ``out``; then the ``labs`` (as ``manycore tour`` runs
    :data:`TOUR_LABS`) at the small size; returns the exit status (0: every check OK)."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    dev = device if isinstance(device, mc.Device) else mc.Device(device)
    dev_name = dev.name  # an absent device fails here, before anything is printed
    on_cpu = dev.kind == "cpu"

    # On the CPU, NumPy arrays go to kernels as they are (zero-copy); elsewhere they are copied.
    def to_dev(a: np.ndarray):
        return a if on_cpu else mc.to_device(a, dev)

    def empty(shape, dtype=np.float32):
        return np.empty(shape, dtype) if on_cpu else mc.empty(shape, dtype, dev)

    def host(a) -> np.ndarray:
        return a if on_cpu else a.get()

    # A CPU launch returns when it is done; a GPU launch may return before, so its timing
    # waits for the device (manycore.synchronize, where this version has it).
    synchronize = None if on_cpu else getattr(mc, "synchronize", None)

    def timed(launch: Callable[[], object]) -> float:
        if synchronize is None:
            return measure(launch, repeat=repeat).best
        return measure(lambda: (launch(), synchronize(dev)), repeat=repeat).best

    out("manycore tour: three CUDA C++ kernels, compiled at run time, checked against NumPy")
    threads_env = os.environ.get("MANYCORE_NUM_THREADS")
    if on_cpu:
        threads = _core.num_threads()
        why = f"MANYCORE_NUM_THREADS={threads_env}" if threads_env else "MANYCORE_NUM_THREADS unset"
        out(f"device    cpu: {dev_name}, {threads} threads ({why})")
        compiler = _core.compiler_info()
        if compiler.get("available"):
            out(f"compiler  {compiler['version']}")
    else:
        out(f"device    {dev}: {dev_name}, {dev.compute_units} multiprocessors")

    start = time.perf_counter()
    module = mc.SourceModule(KERNELS, device=dev)
    took = time.perf_counter() - start
    folder = _core.cache_info()["directory"]
    if module.from_cache:
        out(f"kernels   loaded from the compile cache in {format_seconds(took)} ({folder})")
    else:
        out(f"kernels   compiled in {format_seconds(took)}; cached in {folder} for the next run")
    out("")

    rng = np.random.default_rng(2024)
    rows: list[Row] = []

    def runs_as(f: mc.Function) -> str:
        return f.execution_mode

    # (1) vector addition
    n = size
    f = module.get_function("vector_add")
    a = rng.random(n, dtype=np.float32)
    b = rng.random(n, dtype=np.float32)
    c = np.empty(n, np.float32)
    da, db, dc = to_dev(a), to_dev(b), empty(n)
    grid = ((n + BLOCK - 1) // BLOCK,)
    row = Row("vector_add", f"{size_label(n)} float32", runs_as(f))
    f(n, da, db, dc, grid=grid, block=(BLOCK,))
    _check(row, lambda: np.testing.assert_allclose(host(dc), a + b, rtol=1e-6))
    row.manycore = timed(lambda: f(n, da, db, dc, grid=grid, block=(BLOCK,)))
    row.numpy = measure(lambda: np.add(a, b, out=c), repeat=repeat).best
    row.python = _python_vector_add(n, a, b, repeat)
    rows.append(row)

    # (2) tree reduction: per-block partial sums on the device, their sum on the host
    f = module.get_function("block_sum")
    x = rng.random(n, dtype=np.float32)
    dx = to_dev(x)
    blocks = (n + BLOCK - 1) // BLOCK
    partial = empty(blocks)

    def device_sum() -> float:
        f(n, dx, partial, grid=(blocks,), block=(BLOCK,))
        return float(np.sum(host(partial), dtype=np.float64))

    row = Row("block_sum", f"{size_label(n)} float32", runs_as(f))
    total = device_sum()
    expected = float(np.sum(x, dtype=np.float64))
    _check(row, lambda: np.testing.assert_allclose(total, expected, rtol=1e-5))
    row.manycore = timed(device_sum)
    row.numpy = measure(lambda: x.sum(), repeat=repeat).best
    row.python = _python_sum(n, x, repeat)
    rows.append(row)

    # (3) transpose
    side = transpose_side(n)
    f = module.get_function("transpose")
    m = rng.random((side, side), dtype=np.float32)
    t = np.empty((side, side), np.float32)
    dm, dt = to_dev(m), empty((side, side))
    tgrid = ((side + TILE - 1) // TILE, (side + TILE - 1) // TILE)
    tblock = (TILE, TILE_ROWS)
    row = Row("transpose", f"{side}x{side} float32", runs_as(f))
    f(side, side, dm, dt, grid=tgrid, block=tblock)
    _check(row, lambda: np.testing.assert_array_equal(host(dt), m.T))  # a copy must be exact
    row.manycore = timed(lambda: f(side, side, dm, dt, grid=tgrid, block=tblock))
    row.numpy = measure(lambda: np.copyto(t, m.T), repeat=repeat).best
    row.python = _python_transpose(side, m, repeat)
    rows.append(row)

    table = [
        [
            r.kernel,
            r.size,
            r.runs_as,
            format_seconds(r.manycore),
            format_seconds(r.numpy),
            format_seconds(r.python),
            format_rate(r.numpy / r.manycore),
            format_rate(r.python / r.manycore),
            "OK" if r.ok else "FAIL",
        ]
        for r in rows
    ]
    headers = ["kernel", "size", "runs as", "manycore", "NumPy", "pure Python*",
               "vs NumPy", "vs Python", "check"]
    out(format_table(headers, table, right=(3, 4, 5, 6, 7)))
    out("")
    out(f"Times: best of {repeat} after a warm-up run. 'vs': how many times faster manycore is "
        "(below 1x: slower).")
    out(f"* pure Python: a loop over {PY_ELEMENTS:,} elements (a {PY_TILE}x{PY_TILE} tile for "
        "transpose), timed and scaled per element to the full size.")
    out("loop: a block's threads run as one plain loop the compiler can vectorise. fission: the "
        "kernel calls __syncthreads, and its body is split at each barrier into such loops. "
        "fibers: each thread is a fiber that stops at the barrier (MANYCORE_CPU_SCHEME=fibers, "
        "or what loop fission cannot take: Function.execution_reason says).")
    failed = [r for r in rows if not r.ok]
    for r in failed:
        out(f"FAIL {r.kernel}: {r.problem}")
    labs_status = 0
    if labs:
        from manycore.labs import LABS
        from manycore.labs.command import run_selection

        out("")
        out(f"The course's labs: {len(labs)} of {len(LABS)}, at the small size on {dev} "
            "(each checks its own results):")
        labs_status = run_selection(list(labs), size="small", device=str(dev), out=out)
        out("")
        out(f"All {len(LABS)} labs: `manycore labs` lists them, `manycore labs run N` runs one "
            "(--size small|default|large),")
        out("`manycore labs open N [DIR] [--exercise]` writes its notebook for Jupyter "
            "(docs/labs.md).")
    return 1 if failed or labs_status else 0


def _size_argument(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as e:  # argparse shows an ArgumentTypeError's own message
        raise argparse.ArgumentTypeError(str(e)) from None


def _repeat_argument(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"repeat '{text}' must be a whole number >= 1")
    return value


def _labs_argument(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()
    try:
        numbers = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"labs '{text}': lab numbers separated by commas, or none") from None
    from manycore.labs import LABS

    known = {lab.number for lab in LABS}
    unknown = [n for n in numbers if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"no lab {unknown[0]}; the labs are numbered 0 to {max(known)}")
    return numbers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The tour's options, shared by ``manycore tour`` and ``python -m manycore.tools.tour``."""
    parser.add_argument(
        "--size", default="default", type=_size_argument, metavar="N",
        help="elements per vector: small (2^16), default (2^20), large (2^24), a count, 2^K or "
             "64k/1M; the transpose takes the largest square matrix of at most N elements",
    )
    parser.add_argument("--repeat", type=_repeat_argument, default=5, metavar="R",
                        help="timed runs per measurement; the best is shown (default 5)")
    parser.add_argument("--device", default="cpu", metavar="D",
                        help="device to run on: cpu (default), cuda, cuda:N")
    parser.add_argument("--labs", type=_labs_argument, default=TOUR_LABS, metavar="N,N",
                        help="the labs to run after the kernels, at the small size (default "
                             f"{','.join(map(str, TOUR_LABS))}; 'none' for none)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m manycore.tools.tour", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.size, args.repeat, args.device, labs=args.labs)


if __name__ == "__main__":
    sys.exit(main())

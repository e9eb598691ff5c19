# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Kernels with barriers and warp intrinsics on the CPU: loop fission against every thread a
fiber, and both against the anchors (OpenMP loops built with the same compiler, NumPy), in the
same run. Grid-stride loops: iteration-major against one element per thread.

Each kernel is built twice, under the default scheme (`fission`: split at its barriers into loops
over the block's threads) and under MANYCORE_CPU_SCHEME=fibers (one fiber per thread), and both
answers are checked. Kernels are timed alone (NumPy arrays passed directly, no copies), warm,
best of their repeats; a kernel and its anchor are measured in alternating rounds, each keeping
its best, as the memory bandwidth of a shared machine drifts from one second to the next. A
reduction's time ends when its per-block partial sums are written. Fibers are timed once when a
run takes seconds.

    python bench/fission/run.py [--size N] [--repeat R] [--quick]

--size scales the element counts (default 2^24, the reductions' size; the transpose, the
matrix product, the triad and the course's reduction take their sizes from it).
"""

from __future__ import annotations

import contextlib
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import build_reference, row, run_built, size_label, sized_main  # noqa: E402

import manycore as mc  # noqa: E402
from manycore import _core  # noqa: E402
from manycore.tools.timing import measure  # noqa: E402

DEFAULT_SIZE = 1 << 24
QUICK_SIZE = 1 << 16
ROUNDS = 3  # alternating kernel / anchor rounds (1 with --quick)

KERNELS = r"""
// The textbook shared-memory tree: one element per thread, log2(256) = 8 barriers a block.
__global__ void tree_sum(const float* x, float* partial, int n) {
    __shared__ float s[256];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride) s[t] += s[t + stride];
        __syncthreads();
    }
    if (t == 0) partial[blockIdx.x] = s[0];
}

// Warp shuffles: each thread adds its share of the input (a grid-stride loop), each warp
// reduces with __shfl_down_sync, the warps' sums meet in shared memory, warp 0 adds them.
__device__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffff, v, offset);
    return v;
}
__global__ void shuffle_sum(const float* x, float* partial, int n) {
    __shared__ float warps[32];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        v += x[i];
    v = warp_sum(v);
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? warps[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) partial[blockIdx.x] = v;
    }
}

// The course's reduction 3 (sequential addressing), in its style: unsigned data and total.
__global__ void reduction3(const unsigned int* g_idata, unsigned int* g_odata, unsigned int n) {
    __shared__ unsigned int sdata[1024];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    sdata[tid] = (i < n) ? g_idata[i] : 0;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) sdata[tid] += sdata[tid + s];
        __syncthreads();
    }
    if (tid == 0) g_odata[blockIdx.x] = sdata[0];
}

// A tiled transpose: a 32x32 tile read along rows, written along rows of the transposed
// matrix, one column of padding against bank conflicts on a GPU.
#define TILE 32
#define ROWS 8
__global__ void transpose(const float* in, float* out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x, y = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(size_t)(y + j) * cols + x];
    __syncthreads();
    x = blockIdx.y * TILE + threadIdx.x;
    y = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (x < rows && y + j < cols) out[(size_t)(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
}

// A shared-memory tiled matrix product, any size (guards on every load and store).
template <int T>
__global__ void matmul(const float* A, const float* B, float* C, int n) {
    __shared__ float As[T][T], Bs[T][T];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
    float acc = 0.0f;
    for (int t = 0; t < (n + T - 1) / T; ++t) {
        As[ty][tx] = row < n && t * T + tx < n ? A[row * n + t * T + tx] : 0.0f;
        Bs[ty][tx] = col < n && t * T + ty < n ? B[(t * T + ty) * n + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < T; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < n && col < n) C[row * n + col] = acc;
}

// The triad, c = a + s*b, as a grid-stride loop and with one element per thread.
__global__ void triad_grid_stride(size_t n, double s, const double* a, const double* b, double* c) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)blockDim.x * gridDim.x)
        c[i] = a[i] + s * b[i];
}
__global__ void triad(size_t n, double s, const double* a, const double* b, double* c) {
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + s * b[i];
}
"""

NAME_EXPRESSIONS = ["matmul<16>", "matmul<32>"]


@contextlib.contextmanager
def scheme(name: str):
    previous = mc.cpu_scheme()
    mc.set_cpu_scheme(name)
    try:
        yield
    finally:
        mc.set_cpu_scheme(previous)


def build(name: str) -> mc.SourceModule:
    with scheme(name):
        return mc.SourceModule(KERNELS, device="cpu", name_expressions=NAME_EXPRESSIONS)


def best_of(launch, repeat: int) -> float:
    return measure(launch, repeat=repeat).best


def alternate(a, b, rounds: int) -> tuple[float, float]:
    """Best of each of two timers (callables giving seconds), measured in alternating rounds."""
    ta = tb = math.inf
    for _ in range(rounds):
        ta = min(ta, a())
        tb = min(tb, b())
    return ta, tb


def run(size: int | None = None, repeat: int = 5, quick: bool = False) -> list[dict]:
    n = size or (QUICK_SIZE if quick else DEFAULT_SIZE)
    rounds = 1 if quick else ROUNDS
    threads = _core.num_threads()
    fission, fibers = build("auto"), build("fibers")
    rows: list[dict] = []

    def check_mode(f: mc.Function, mode: str) -> None:
        assert f.execution_mode == mode, f"{f.name}: {f.execution_mode} ({f.execution_reason})"

    def timed_fibers(launch) -> tuple[float, str]:
        """One fibers run, repeated only when it takes under a second."""
        start = time.perf_counter()
        launch()
        first = time.perf_counter() - start
        if first > 1.0:
            return first, "1 run"
        return best_of(launch, repeat), f"best of {repeat}"

    with tempfile.TemporaryDirectory(prefix="manycore-bench-") as tmp:
        try:
            anchor = build_reference(HERE / "ref_openmp.cpp", Path(tmp))
        except RuntimeError as e:
            anchor = None
            anchor_error = str(e)

        def openmp(mode: str, count: int) -> tuple[float, dict]:
            ref = run_built(anchor, [mode, str(count), str(repeat)], threads)
            return float(ref["best_s"]), ref

        # ---- the two reductions of 2^24 float32 against an OpenMP reduction loop ----
        x = (1 + (np.arange(n) % 7) / 8).astype(np.float32)
        exact = float(np.sum(x, dtype=np.float64))
        for kernel, block, blocks in (("tree_sum", 256, (n + 255) // 256),
                                      ("shuffle_sum", 256, max(1, min(1024, n // (256 * 16))))):
            label = f"{size_label(n)} float32"
            title = {"tree_sum": "shared-memory tree reduction, block 256",
                     "shuffle_sum": f"warp-shuffle reduction, {blocks} blocks of 256"}[kernel]
            f, g = fission.get_function(kernel), fibers.get_function(kernel)
            check_mode(f, "fission")
            check_mode(g, "fibers")
            partial = np.zeros(blocks, np.float32)

            def launch(k=f):
                k(x, partial, n, grid=(blocks,), block=(block,))

            launch()
            ok = abs(float(partial.sum(dtype=np.float64)) - exact) <= 1e-5 * exact
            partial_fibers = np.zeros(blocks, np.float32)
            t_fib, how = timed_fibers(lambda: g(x, partial_fibers, n, grid=(blocks,), block=(block,)))
            ok = ok and np.array_equal(partial, partial_fibers)  # the same sums, bit for bit
            if anchor is not None:
                t_f, t_omp = alternate(lambda: best_of(launch, repeat), lambda: openmp("sum", n)[0], rounds)
            else:
                t_f, t_omp = best_of(launch, repeat), math.nan
            rows.append(row("fission", f"{title}: fission", label, t_f * 1e3, "ms",
                            f"{4 * n / t_f / 1e9:.3g} GB/s; {threads} threads",
                            result="" if ok else "FAIL"))
            rows.append(row("fission", f"{title}: fibers", label, t_fib * 1e3, "ms",
                            f"{how}; fission {t_fib / t_f:,.0f}x faster"))
            rows.append(row("fission", "OpenMP reduction(+) loop", label, t_omp * 1e3, "ms",
                            "" if anchor is not None else anchor_error,
                            result="" if anchor is not None else "n/a"))
            ratio = t_omp / t_f
            rows.append(row("fission", f"{title}: fission / OpenMP", label, ratio, "speed ratio",
                            goal=">= 0.5", result="PASS" if ratio >= 0.5 else "MISS"))

        # ---- the course's reduction 3: 2^26 unsigned int, block 1024, against NumPy ----
        m = 4 * n
        data = (np.arange(m, dtype=np.uint64) % 99 + 1).astype(np.uint32)
        blocks = (m + 1023) // 1024
        partial = np.zeros(blocks, np.uint32)
        f, g = fission.get_function("reduction3"), fibers.get_function("reduction3")
        check_mode(f, "fission")

        def launch3(k=f):
            k(data, partial, np.uint32(m), grid=(blocks,), block=(1024,))

        launch3()
        ok = int(partial.sum(dtype=np.uint64)) == int(data.sum(dtype=np.uint64))
        partial_fibers = np.zeros(blocks, np.uint32)
        t_fib, how = timed_fibers(lambda: g(data, partial_fibers, np.uint32(m), grid=(blocks,), block=(1024,)))
        ok = ok and np.array_equal(partial, partial_fibers)
        t_f, t_np = alternate(lambda: best_of(launch3, repeat),
                              lambda: best_of(lambda: data.sum(dtype=np.uint64), repeat), rounds)
        label = f"{size_label(m)} uint32"
        rows.append(row("fission", "course reduction3, block 1024: fission", label, t_f * 1e3, "ms",
                        f"{4 * m / t_f / 1e9:.3g} GB/s", result="" if ok else "FAIL"))
        rows.append(row("fission", "course reduction3, block 1024: fibers", label, t_fib * 1e3, "ms",
                        f"{how}; fission {t_fib / t_f:,.0f}x faster"))
        rows.append(row("fission", "NumPy a.sum(dtype=uint64)", label, t_np * 1e3, "ms", "1 thread"))
        rows.append(row("fission", "course reduction3: fission time / NumPy time", label, t_f / t_np,
                        "x", goal="<= 2", result="PASS" if t_f / t_np <= 2 else "MISS"))

        # ---- the tiled transpose, against NumPy's a.T.copy() and a blocked OpenMP loop ----
        side = max(64, int(math.isqrt(n)) // 32 * 32)
        a = np.arange(side * side, dtype=np.float32).reshape(side, side) % 1000
        out = np.zeros_like(a)
        grid = ((side + 31) // 32, (side + 31) // 32)
        f, g = fission.get_function("transpose"), fibers.get_function("transpose")
        check_mode(f, "fission")

        def launch_t(k=f, o=out):
            k(a, o, side, side, grid=grid, block=(32, 8))

        launch_t()
        out_fibers = np.zeros_like(a)
        t_fib, how = timed_fibers(lambda: launch_t(g, out_fibers))
        ok = np.array_equal(out, a.T) and np.array_equal(out_fibers, a.T)
        t_f, t_np = alternate(lambda: best_of(launch_t, repeat), lambda: best_of(lambda: a.T.copy(), repeat), rounds)
        if anchor is not None:
            t_f2, t_omp = alternate(lambda: best_of(launch_t, repeat),
                                    lambda: openmp("transpose", side)[0], rounds)
            t_f = min(t_f, t_f2)
        else:
            t_omp = math.nan
        label = f"{side}x{side} float32"
        rows.append(row("fission", "tiled transpose: fission", label, t_f * 1e3, "ms",
                        f"{8 * side * side / t_f / 1e9:.3g} GB/s", result="" if ok else "FAIL"))
        rows.append(row("fission", "tiled transpose: fibers", label, t_fib * 1e3, "ms",
                        f"{how}; fission {t_fib / t_f:,.0f}x faster"))
        rows.append(row("fission", "NumPy a.T.copy()", label, t_np * 1e3, "ms", "1 thread"))
        rows.append(row("fission", "OpenMP blocked transpose", label, t_omp * 1e3, "ms", "32x32 blocks"))
        rows.append(row("fission", "tiled transpose: fission / NumPy", label, t_np / t_f, "speed ratio",
                        goal=">= 1.0", result="PASS" if t_np / t_f >= 1.0 else "MISS"))
        rows.append(row("fission", "tiled transpose: fission / OpenMP", label, t_omp / t_f, "speed ratio",
                        goal=">= 0.5", result="PASS" if t_omp / t_f >= 0.5 else "MISS"))

        # ---- the tiled matrix product, tiles 16 and 32, against an i-k-j OpenMP loop nest ----
        side = max(64, int(round((n / 16) ** 0.5 / 32)) * 32)  # 1024 for 2^24
        rng = np.random.default_rng(3)
        A = rng.integers(0, 4, (side, side)).astype(np.float32)
        B = rng.integers(0, 4, (side, side)).astype(np.float32)
        expected = A @ B  # small integers: exact in float32
        label = f"{side}x{side} float32"
        t_omp_mm = math.nan
        for tile in (16, 32):
            name = f"matmul<{tile}>"
            f, g = fission.get_function(name), fibers.get_function(name)
            check_mode(f, "fission")
            C = np.zeros((side, side), np.float32)
            grid = ((side + tile - 1) // tile, (side + tile - 1) // tile)

            def launch_m(k=f, c=C):
                k(A, B, c, side, grid=grid, block=(tile, tile))

            launch_m()
            C_fibers = np.zeros_like(C)
            t_fib, how = timed_fibers(lambda: launch_m(g, C_fibers))
            ok = np.array_equal(C, expected) and np.array_equal(C_fibers, expected)
            if anchor is not None:
                t_f, t_omp_mm = alternate(lambda: best_of(launch_m, repeat),
                                          lambda: openmp("matmul", side)[0], rounds)
            else:
                t_f = best_of(launch_m, repeat)
            flops = 2 * side ** 3
            rows.append(row("fission", f"tiled matrix product, tile {tile}: fission", label, t_f * 1e3, "ms",
                            f"{flops / t_f / 1e9:.3g} GFLOP/s", result="" if ok else "FAIL"))
            rows.append(row("fission", f"tiled matrix product, tile {tile}: fibers", label, t_fib * 1e3, "ms",
                            f"{how}; fission {t_fib / t_f:,.0f}x faster"))
            rows.append(row("fission", f"tiled matrix product, tile {tile}: fission / OpenMP i-k-j", label,
                            t_omp_mm / t_f, "speed ratio", goal=">= 1.0",
                            result="PASS" if t_omp_mm / t_f >= 1.0 else "MISS"))
        rows.append(row("fission", "OpenMP i-k-j loop nest", label, t_omp_mm * 1e3, "ms",
                        f"{2 * side ** 3 / t_omp_mm / 1e9:.3g} GFLOP/s"))

        # ---- the grid-stride triad: iteration-major against one element per thread ----
        m = 4 * n
        a = np.full(m, 1.0)
        b = np.full(m, 2.0)
        c = np.zeros(m)
        stride = fission.get_function("triad_grid_stride")
        thread_major = fibers.get_function("triad_grid_stride")  # the fibers scheme splits nothing
        one = fission.get_function("triad")
        assert "iteration-major" in stride.execution_reason, stride.execution_reason
        grid_blocks = 2 * threads

        def launch_s(k=stride):
            k(m, 3.0, a, b, c, grid=(grid_blocks,), block=(256,))

        def launch_one():
            one(m, 3.0, a, b, c, grid=((m + 255) // 256,), block=(256,))

        launch_s()
        ok = bool((c == 7.0).all())
        c[:] = 0
        t_tm = best_of(lambda: launch_s(thread_major), min(repeat, 3))
        ok = ok and bool((c == 7.0).all())
        t_s, t_one = alternate(lambda: best_of(launch_s, repeat), lambda: best_of(launch_one, repeat), rounds)
        label = f"{size_label(m)} float64"
        gb = 24 * m / 1e9
        rows.append(row("fission", f"grid-stride triad, {grid_blocks} blocks: iteration-major", label,
                        gb / t_s, "GB/s", result="" if ok else "FAIL"))
        rows.append(row("fission", f"grid-stride triad, {grid_blocks} blocks: thread-major", label,
                        gb / t_tm, "GB/s", "each thread's loop alone (MANYCORE_CPU_SCHEME=fibers)"))
        rows.append(row("fission", "triad, one element per thread", label, gb / t_one, "GB/s"))
        rows.append(row("fission", "grid-stride triad / one element per thread", label, t_one / t_s,
                        "ratio", goal=">= 0.9", result="PASS" if t_one / t_s >= 0.9 else "MISS"))
        # ---- the tour's two barrier kernels, as the tour runs them, against NumPy ----
        from manycore.tools import tour

        module = mc.SourceModule(tour.KERNELS, device="cpu")
        tn = min(n // 16, tour.SIZES["default"]) if not quick else tour.SIZES["small"]
        x = np.random.default_rng(5).random(tn, dtype=np.float32)
        blocks = (tn + tour.BLOCK - 1) // tour.BLOCK
        partial = np.empty(blocks, np.float32)
        f = module.get_function("block_sum")
        check_mode(f, "fission")

        def block_sum() -> float:
            f(tn, x, partial, grid=(blocks,), block=(tour.BLOCK,))
            return float(np.sum(partial, dtype=np.float64))

        ok = abs(block_sum() - float(np.sum(x, dtype=np.float64))) <= 1e-5 * tn
        t_f, t_np = alternate(lambda: best_of(block_sum, repeat), lambda: best_of(lambda: x.sum(), repeat), rounds)
        rows.append(row("fission", "tour block_sum (partial sums added on the host): fission / NumPy",
                        f"{size_label(tn)} float32", t_np / t_f, "speed ratio",
                        f"{t_f * 1e6:.0f} µs against {t_np * 1e6:.0f} µs", goal=">= 1.0",
                        result="FAIL" if not ok else "PASS" if t_np / t_f >= 1.0 else "MISS"))
        side = tour.transpose_side(tn)
        m_ = np.random.default_rng(6).random((side, side), dtype=np.float32)
        t_ = np.empty_like(m_)
        f = module.get_function("transpose")
        check_mode(f, "fission")
        tgrid = ((side + tour.TILE - 1) // tour.TILE,) * 2

        def tour_transpose():
            f(side, side, m_, t_, grid=tgrid, block=(tour.TILE, tour.TILE_ROWS))

        tour_transpose()
        ok = np.array_equal(t_, m_.T)
        t_f, t_np = alternate(lambda: best_of(tour_transpose, repeat),
                              lambda: best_of(lambda: np.copyto(t_, m_.T), repeat), rounds)
        rows.append(row("fission", "tour transpose: fission / NumPy", f"{side}x{side} float32",
                        t_np / t_f, "speed ratio", f"{t_f * 1e3:.2f} ms against {t_np * 1e3:.2f} ms",
                        goal=">= 1.0", result="FAIL" if not ok else "PASS" if t_np / t_f >= 1.0 else "MISS"))
    return rows


def main(argv: list[str] | None = None) -> int:
    return sized_main(__doc__, run, DEFAULT_SIZE, QUICK_SIZE, argv)


if __name__ == "__main__":
    sys.exit(main())

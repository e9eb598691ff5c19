# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Loop fission: kernels that synchronise run on the CPU as loops over a block's threads, split at
their barriers, with the same results as one fiber per thread (and as a GPU).

Each kernel here is built under both CPU schemes: it must get ``execution_mode == "fission"``
under the default scheme and give results bitwise equal to the fiber path's, and equal to a
NumPy model. On a GPU the same kernels run once, against the same model.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import manycore as mc


@contextlib.contextmanager
def cpu_scheme(name: str):
    previous = mc.cpu_scheme()
    mc.set_cpu_scheme(name)
    try:
        yield
    finally:
        mc.set_cpu_scheme(previous)


def run(device, source, kernel, make_args, outputs, launch, name_expressions=(), mode="fission"):
    """Builds `source` and runs `kernel` with fresh arguments from make_args() (outputs: the
    indices of the arguments to read back). On the CPU: under loop fission (whose execution mode
    must be `mode`) and under fibers, whose results must be bitwise equal. Returns the results."""
    def once():
        m = mc.SourceModule(source, device=device, name_expressions=list(name_expressions))
        f = m.get_function(kernel)
        args = [mc.to_device(a, device) if isinstance(a, np.ndarray) else a for a in make_args()]
        f(*args, **launch)
        return f, [args[i].get() for i in outputs]

    if device.kind != "cpu":
        return once()[1]
    with cpu_scheme("auto"):
        f, split = once()
    assert f.execution_mode == mode, f.execution_reason
    with cpu_scheme("fibers"):
        g, fibers = once()
    assert g.execution_mode == ("fibers" if mode == "fission" else mode), g.execution_reason
    for a, b in zip(split, fibers):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))  # bitwise
    return split


# ---- the classics ---------------------------------------------------------------------------

TREE_REDUCTION = r"""
__global__ void reduce(const float* in, float* partial, unsigned n) {
    __shared__ float s[256];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[tid] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (tid < stride) s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0) partial[blockIdx.x] = s[0];
}
"""


def test_shared_memory_tree_reduction(device):
    n = (1 << 18) + 123
    x = np.random.default_rng(1).random(n, dtype=np.float32)
    blocks = (n + 255) // 256
    (partial,) = run(device, TREE_REDUCTION, "reduce",
                     lambda: [x, np.zeros(blocks, np.float32), np.uint32(n)], [1],
                     dict(grid=blocks, block=256))
    expected = x[: blocks * 256 - 256 + 256]
    np.testing.assert_allclose(partial.astype(np.float64).sum(), x.astype(np.float64).sum(), rtol=1e-5)
    # Each block's partial sum in the tree's own order.
    padded = np.zeros(blocks * 256, np.float32)
    padded[:n] = expected
    tree = padded.reshape(blocks, 256)
    while tree.shape[1] > 1:
        half = tree.shape[1] // 2
        tree = tree[:, :half] + tree[:, half:]
    np.testing.assert_array_equal(partial, tree[:, 0])


WARP_REDUCTION = r"""
__device__ float warp_sum(float v) {
    for (int offset = warpSize / 2; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffff, v, offset);
    return v;
}
__device__ float block_sum(float v) {
    static __shared__ float partial[32];
    int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = threadIdx.x < blockDim.x / warpSize ? partial[lane] : 0.0f;
    if (warp == 0) v = warp_sum(v);
    return v;
}
__global__ void reduce(const float* in, float* out, int n) {
    float sum = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        sum += in[i];
    sum = block_sum(sum);
    if (threadIdx.x == 0) out[blockIdx.x] = sum;
}
"""


def test_warp_shuffle_block_reduction_through_helpers(device):
    n = 100_003
    x = (np.arange(n) % 13).astype(np.float32)
    (out,) = run(device, WARP_REDUCTION, "reduce", lambda: [x, np.zeros(20, np.float32), n], [1],
                 dict(grid=20, block=256))
    assert out.astype(np.float64).sum() == x.astype(np.float64).sum()


def test_tiled_transpose_non_square(device):
    src = r"""
    #define TILE 32
    #define ROWS 8
    __global__ void transpose(const float* in, float* out, int rows, int cols) {
        __shared__ float tile[TILE][TILE + 1];
        int x = blockIdx.x * TILE + threadIdx.x;
        int y = blockIdx.y * TILE + threadIdx.y;
        for (int j = 0; j < TILE; j += ROWS)
            if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * cols + x];
        __syncthreads();
        x = blockIdx.y * TILE + threadIdx.x;
        y = blockIdx.x * TILE + threadIdx.y;
        for (int j = 0; j < TILE; j += ROWS)
            if (x < rows && y + j < cols) out[(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
    }"""
    rows, cols = 257, 1001
    a = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    (out,) = run(device, src, "transpose", lambda: [a, np.zeros((cols, rows), np.float32), rows, cols], [1],
                 dict(grid=((cols + 31) // 32, (rows + 31) // 32), block=(32, 8)))
    np.testing.assert_array_equal(out, a.T)


MATMUL = r"""
template <int TILE>
__global__ void matmul(const float* A, const float* B, float* C, int n, int m, int p) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    for (int t = 0; t < (m + TILE - 1) / TILE; ++t) {
        As[ty][tx] = row < n && t * TILE + tx < m ? A[row * m + t * TILE + tx] : 0.0f;
        Bs[ty][tx] = col < p && t * TILE + ty < m ? B[(t * TILE + ty) * p + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < n && col < p) C[row * p + col] = acc;
}
"""


@pytest.mark.parametrize("tile", [16, 32])
def test_shared_memory_tiled_matrix_product(device, tile):
    n, m, p = 70, 45, 93  # no multiple of either tile
    rng = np.random.default_rng(2)
    a = rng.integers(0, 4, (n, m)).astype(np.float32)
    b = rng.integers(0, 4, (m, p)).astype(np.float32)
    (c,) = run(device, MATMUL, f"matmul<{tile}>",
               lambda: [a, b, np.zeros((n, p), np.float32), n, m, p], [2],
               dict(grid=((p + tile - 1) // tile, (n + tile - 1) // tile), block=(tile, tile)),
               name_expressions=[f"matmul<{tile}>"])
    np.testing.assert_array_equal(c, a @ b)  # small integers: exact in float32


def test_block_scan_double_buffered(device):
    src = r"""
    __global__ void scan(const int* in, int* out, int n) {
        extern __shared__ int buffer[];
        int t = threadIdx.x;
        int* a = buffer;
        int* b = buffer + blockDim.x;
        int i = blockIdx.x * blockDim.x + t;
        a[t] = i < n ? in[i] : 0;
        __syncthreads();
        for (int offset = 1; offset < blockDim.x; offset *= 2) {
            b[t] = a[t] + (t >= offset ? a[t - offset] : 0);
            __syncthreads();
            int* swap = a; a = b; b = swap;
        }
        if (i < n) out[i] = a[t];
    }"""
    n, block = 1000, 128
    x = np.random.default_rng(3).integers(-50, 50, n).astype(np.int32)
    (out,) = run(device, src, "scan", lambda: [x, np.zeros(n, np.int32), n], [1],
                 dict(grid=(n + block - 1) // block, block=block, shared=2 * block * 4))
    expected = np.concatenate([np.cumsum(x[s:s + block]) for s in range(0, n, block)])
    np.testing.assert_array_equal(out, expected)


def test_histogram_with_shared_atomics(device):
    src = r"""
    __global__ void histogram(const unsigned char* data, int n, unsigned int* bins) {
        __shared__ unsigned int local[64];
        for (int b = threadIdx.x; b < 64; b += blockDim.x) local[b] = 0;
        __syncthreads();
        for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
            atomicAdd(&local[data[i] % 64], 1u);
        __syncthreads();
        for (int b = threadIdx.x; b < 64; b += blockDim.x) atomicAdd(&bins[b], local[b]);
    }"""
    data = np.random.default_rng(4).integers(0, 256, 300_001).astype(np.uint8)
    (bins,) = run(device, src, "histogram", lambda: [data, data.size, np.zeros(64, np.uint32)], [2],
                  dict(grid=24, block=96))
    np.testing.assert_array_equal(bins, np.bincount(data % 64, minlength=64))


def test_stencil_with_shared_tile_and_halo(device):
    src = r"""
    #define B 16
    __global__ void jacobi(const float* u, float* v, int nx, int ny) {
        __shared__ float tile[B + 2][B + 2];
        int x = blockIdx.x * B + threadIdx.x, y = blockIdx.y * B + threadIdx.y;
        int tx = threadIdx.x + 1, ty = threadIdx.y + 1;
        bool inside = x < nx && y < ny;
        if (inside) {
            tile[ty][tx] = u[y * nx + x];
            if (threadIdx.x == 0 && x > 0) tile[ty][0] = u[y * nx + x - 1];
            if (threadIdx.x == B - 1 && x + 1 < nx) tile[ty][B + 1] = u[y * nx + x + 1];
            if (threadIdx.y == 0 && y > 0) tile[0][tx] = u[(y - 1) * nx + x];
            if (threadIdx.y == B - 1 && y + 1 < ny) tile[B + 1][tx] = u[(y + 1) * nx + x];
        }
        __syncthreads();
        if (!inside) return;
        if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) {
            v[y * nx + x] = u[y * nx + x];
        } else {
            v[y * nx + x] = 0.25f * (tile[ty][tx - 1] + tile[ty][tx + 1] + tile[ty - 1][tx] + tile[ty + 1][tx]);
        }
    }"""
    ny, nx = 45, 70
    u = np.random.default_rng(5).random((ny, nx), dtype=np.float32)
    (v,) = run(device, src, "jacobi", lambda: [u, np.zeros_like(u), nx, ny], [1],
               dict(grid=((nx + 15) // 16, (ny + 15) // 16), block=(16, 16)))
    expected = u.copy()
    expected[1:-1, 1:-1] = np.float32(0.25) * (u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1])
    np.testing.assert_allclose(v, expected, rtol=1e-6)


# ---- the shapes of control flow around barriers ----------------------------------------------

def test_barriers_in_nested_uniform_loops(device):
    src = r"""
    __global__ void nested(int* data, int rounds) {
        __shared__ int s[128];
        int t = threadIdx.x;
        s[t] = data[blockIdx.x * blockDim.x + t];
        __syncthreads();
        for (int r = 0; r < rounds; ++r) {
            for (int shift = 1; shift < blockDim.x; shift *= 2) {
                int mine = s[t], other = s[(t + shift) % blockDim.x];
                __syncthreads();
                s[t] = mine ^ (other + r);
                __syncthreads();
            }
        }
        data[blockIdx.x * blockDim.x + t] = s[t];
    }"""
    x = np.random.default_rng(6).integers(0, 1000, 3 * 128).astype(np.int32)
    (out,) = run(device, src, "nested", lambda: [x.copy(), 3], [0], dict(grid=3, block=128))
    s = x.reshape(3, 128).astype(np.int64)
    for r in range(3):
        shift = 1
        while shift < 128:
            s = s ^ (np.roll(s, -shift, axis=1) + r)
            shift *= 2
    np.testing.assert_array_equal(out, s.reshape(-1).astype(np.int32))


def test_barrier_after_an_early_return_of_some_threads(device):
    src = r"""
    __global__ void rotate(int* out, const int* in, int active) {
        __shared__ int s[64];
        if (threadIdx.x >= active) return;       // these count as arrived at every later barrier
        s[threadIdx.x] = in[threadIdx.x];
        __syncthreads();
        int next = s[(threadIdx.x + 1) % active];
        __syncthreads();
        out[threadIdx.x] = next * 10 + __syncthreads_count(next % 2 == 0);
    }"""
    x = np.arange(64, dtype=np.int32) * 3
    active = 45
    (out,) = run(device, src, "rotate", lambda: [np.full(64, -1, np.int32), x, active], [0],
                 dict(grid=1, block=64))
    nxt = np.roll(x[:active], -1)
    evens = int((nxt % 2 == 0).sum())
    np.testing.assert_array_equal(out[:active], nxt * 10 + evens)
    assert (out[active:] == -1).all()


@pytest.mark.parametrize("barriers", [1, 2, 8])
def test_locals_live_across_barriers(device, barriers):
    steps = "\n".join(
        f"""        a = a * 3 + s[(t + {k + 1}) % blockDim.x]; float f{k} = b + {k}.5f; b += f{k};
        __syncthreads();
        s[t] = a ^ (int)b;
        __syncthreads();""" for k in range(barriers))
    src = f"""
    __global__ void live(int* out, float* fout) {{
        __shared__ int s[96];
        int t = threadIdx.x;
        int a = t + 1;
        float b = 0.25f * t;
        s[t] = a;
        __syncthreads();
{steps}
        out[blockIdx.x * blockDim.x + t] = a;
        fout[blockIdx.x * blockDim.x + t] = b;
    }}"""
    out, fout = run(device, src, "live", lambda: [np.zeros(2 * 96, np.int32), np.zeros(2 * 96, np.float32)],
                    [0, 1], dict(grid=2, block=96))
    t = np.arange(96)
    a = (t + 1).astype(np.int32)
    b = (np.float32(0.25) * t.astype(np.float32)).astype(np.float32)
    s = a.copy()
    for k in range(barriers):
        a = (a * 3 + s[(t + k + 1) % 96]).astype(np.int32)
        f = (b + np.float32(k + 0.5)).astype(np.float32)
        b = (b + f).astype(np.float32)
        s = a ^ b.astype(np.int32)
    np.testing.assert_array_equal(out, np.tile(a, 2))
    np.testing.assert_array_equal(fout, np.tile(b, 2))


BLOCK_SUM_ANY_SIZE = r"""
__global__ void block_sum(const int* in, long long* out, int n) {
    __shared__ long long s[1024];
    unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned threads = blockDim.x * blockDim.y * blockDim.z;
    unsigned i = blockIdx.x * threads + t;
    s[t] = i < (unsigned)n ? in[i] : 0;
    __syncthreads();
    unsigned size = 1;
    while (size < threads) size *= 2;
    for (unsigned stride = size / 2; stride > 0; stride /= 2) {
        if (t < stride && t + stride < threads) s[t] += s[t + stride];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
"""


@pytest.mark.parametrize("block", [1, 31, 33, 100, 1024, (8, 4), (5, 3, 2), (4, 4, 4)])
def test_block_sizes_and_shapes(device, block):
    threads = int(np.prod(block))
    blocks = 3
    x = np.random.default_rng(7).integers(-1000, 1000, blocks * threads - threads // 3).astype(np.int32)
    (out,) = run(device, BLOCK_SUM_ANY_SIZE, "block_sum", lambda: [x, np.zeros(blocks, np.int64), x.size], [1],
                 dict(grid=blocks, block=block))
    padded = np.zeros(blocks * threads, np.int64)
    padded[:x.size] = x
    np.testing.assert_array_equal(out, padded.reshape(blocks, threads).sum(axis=1))


def test_thread_indices_in_3d_blocks_across_barriers(device):
    src = r"""
    __global__ void ids(unsigned* out) {
        __shared__ unsigned s[4 * 3 * 2];
        unsigned lin = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
        s[lin] = threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z;
        __syncthreads();
        unsigned n = blockDim.x * blockDim.y * blockDim.z;
        out[blockIdx.x * n + lin] = s[(lin + 1) % n] + 1000 * blockIdx.x;
    }"""
    (out,) = run(device, src, "ids", lambda: [np.zeros(2 * 24, np.uint32)], [0], dict(grid=2, block=(4, 3, 2)))
    ids = np.array([x + 10 * y + 100 * z for z in range(2) for y in range(3) for x in range(4)], np.uint32)
    expected = np.concatenate([np.roll(ids, -1) + 1000 * b for b in range(2)])
    np.testing.assert_array_equal(out, expected)


def test_warp_shuffles_with_a_partial_last_warp(device):
    src = r"""
    __global__ void partial(const int* in, int* out) {
        int v = in[threadIdx.x];
        unsigned lane = threadIdx.x % 32, lanes = min(32u, blockDim.x - threadIdx.x / 32 * 32);
        unsigned mask = __activemask();
        for (unsigned offset = 1; offset < 32; offset *= 2) {
            int other = __shfl_down_sync(mask, v, offset);
            if (lane + offset < lanes) v += other;   // lanes past the block's end are not there
        }
        int first = __shfl_sync(mask, v, 0);
        unsigned votes = __ballot_sync(mask, v % 2 == 0);
        out[threadIdx.x] = first + (int)__popc(votes) * 100000 + (int)mask * 0;
    }"""
    block = 70  # warps of 32, 32 and 6 lanes
    x = np.random.default_rng(8).integers(0, 100, block).astype(np.int32)
    (out,) = run(device, src, "partial", lambda: [x, np.zeros(block, np.int32)], [1], dict(grid=1, block=block))
    expected = np.zeros(block, np.int64)
    for w in range(0, block, 32):
        lanes = x[w:w + 32].astype(np.int64)
        sums = np.array([lanes[i:].sum() for i in range(len(lanes))])  # suffix sums
        evens = int((sums % 2 == 0).sum())
        expected[w:w + len(lanes)] = sums[0] + evens * 100000
    np.testing.assert_array_equal(out, expected)


def test_syncthreads_count_and_or(device):
    src = r"""
    __global__ void votes(int* out, int threshold) {
        int t = threadIdx.x;
        int below = __syncthreads_count(t < threshold);
        int all = __syncthreads_and(t < 10000);
        int any = __syncthreads_or(t == threshold);
        if (below > 7) {                            // the same in every thread
            __syncthreads();
            out[t] = below * 100 + all * 10 + any;
        }
    }"""
    (out,) = run(device, src, "votes", lambda: [np.zeros(200, np.int32), 77], [0], dict(grid=1, block=200))
    assert (out == 77 * 100 + 10 + 1).all()


def test_condition_read_from_memory_holds_alike_in_every_thread(device):
    src = r"""
    __global__ void flagged(const int* flag, int* out) {
        __shared__ int s[64];
        s[threadIdx.x] = threadIdx.x;
        if (flag[0] > 0) {                          // not provably the same: checked as it runs
            __syncthreads();
            out[threadIdx.x] = s[63 - threadIdx.x];
        }
    }"""
    (out,) = run(device, src, "flagged", lambda: [np.array([1], np.int32), np.zeros(64, np.int32)], [1],
                 dict(grid=1, block=64))
    np.testing.assert_array_equal(out, 63 - np.arange(64))


def test_a_divergent_barrier_is_a_kernel_fault_never_a_wrong_result(cpu):
    src = r"""
    __global__ void divergent(const int* flag, int* out) {
        if (flag[threadIdx.x] > 0) {
            __syncthreads();
            out[threadIdx.x] = 1;
        }
    }"""
    with cpu_scheme("auto"):
        f = mc.SourceModule(src, device=cpu).get_function("divergent")
    assert f.execution_mode == "fission"
    flags = np.zeros(64, np.int32)
    flags[10] = 1
    scratch = np.zeros(64, np.int32)
    with pytest.raises(mc.KernelFault, match=r"barrier divergence.*line 3.*true in thread \(10,0,0\)"):
        f(flags, scratch, grid=1, block=64)
    out = np.zeros(64, np.int32)
    f(np.ones(64, np.int32), out, grid=1, block=64)  # the process and the kernel still work
    assert (out == 1).all()


def test_thread_dependent_loop_around_barriers_is_checked_each_iteration(cpu):
    src = r"""
    __global__ void loop(const int* trips, int* out) {
        __shared__ int s[32];
        int i = 0;
        while (i < trips[threadIdx.x]) {
            s[threadIdx.x] = i;
            __syncthreads();
            out[threadIdx.x] += s[31 - threadIdx.x];
            __syncthreads();
            ++i;
        }
    }"""
    with cpu_scheme("auto"):
        f = mc.SourceModule(src, device=cpu).get_function("loop")
    assert f.execution_mode == "fission", f.execution_reason
    out = np.zeros(32, np.int32)
    f(np.full(32, 4, np.int32), out, grid=1, block=32)
    assert (out == 0 + 1 + 2 + 3).all()
    trips = np.full(32, 4, np.int32)
    trips[5] = 3
    scratch = np.zeros(32, np.int32)
    with pytest.raises(mc.KernelFault, match="barrier divergence"):
        f(trips, scratch, grid=1, block=32)


def test_printf_order_is_the_same_under_both_schemes(cpu, capfd):
    src = r"""
    __global__ void talk(int tag) {
        __shared__ int s[8];
        s[threadIdx.x] = threadIdx.x * tag;
        printf("before %d %d\n", blockIdx.x, threadIdx.x);
        __syncthreads();
        printf("after %d %d %d\n", blockIdx.x, threadIdx.x, s[7 - threadIdx.x]);
    }"""
    outputs = []
    for scheme in ("auto", "fibers"):
        with cpu_scheme(scheme):
            mc.SourceModule(src, device=cpu).get_function("talk")(3, grid=2, block=8)
        outputs.append(capfd.readouterr().out)
    assert outputs[0] == outputs[1]
    lines = outputs[0].splitlines()
    assert lines[:2] == ["before 0 0", "after 0 0 21"]


# ---- what runs as fibers, and says why ----------------------------------------------------------

@pytest.mark.parametrize("body, why", [
    ("switch (threadIdx.x % 2) { case 0: __syncthreads(); break; default: __syncthreads(); }",
     "inside a switch"),
    ("int x = 1 + helper(threadIdx.x); s[threadIdx.x] = x;",
     "inside an expression"),
    ("if (threadIdx.x < 4) goto done; __syncthreads(); done: s[threadIdx.x] = 1;",
     "'goto'"),
])
def test_what_fission_cannot_take_runs_as_fibers_with_its_reason(cpu, body, why):
    src = f"""
    __device__ int helper(int v) {{ __syncthreads(); return v + 1; }}
    __global__ void k(int* out) {{
        __shared__ int s[32];
        {body}
        out[threadIdx.x] = 1;
    }}"""
    with cpu_scheme("auto"):
        f = mc.SourceModule(src, device=cpu).get_function("k")
    assert f.execution_mode == "fibers"
    assert f.uses_fibers
    assert why in f.execution_reason and "line" in f.execution_reason
    out = np.zeros(32, np.int32)
    f(out, grid=1, block=32)
    assert (out == 1).all()


def test_modes_and_reasons(cpu):
    src = r"""
    __global__ void plain(float* x) { x[threadIdx.x] = 1; }
    __global__ void synced(float* x) { __shared__ float s[32]; s[threadIdx.x] = 1; __syncthreads(); x[threadIdx.x] = s[0]; }
    """
    with cpu_scheme("auto"):
        m = mc.SourceModule(src, device=cpu)
    plain, synced = m.get_function("plain"), m.get_function("synced")
    assert (plain.execution_mode, synced.execution_mode) == ("loop", "fission")
    assert "no barriers" in plain.execution_reason
    assert "line 3" in synced.execution_reason
    with cpu_scheme("fibers"):
        m2 = mc.SourceModule(src, device=cpu)
    assert m2.get_function("synced").execution_mode == "fibers"
    assert "MANYCORE_CPU_SCHEME=fibers" in m2.get_function("synced").execution_reason
    assert m2.get_function("plain").execution_mode == "loop"
    assert m.cache_path != m2.cache_path  # the scheme is part of the compile-cache key
    with pytest.raises(mc.InvalidArgument, match="'auto'.*'fibers'"):
        mc.set_cpu_scheme("threads")


def test_scheme_from_the_environment_and_a_bad_value(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""
        import manycore as mc
        f = mc.SourceModule('__global__ void k(int* o) { __syncthreads(); o[0] = 1; }', device='cpu').get_function('k')
        print(mc.cpu_scheme(), f.execution_mode)
    """))
    env = dict(os.environ, MANYCORE_CPU_SCHEME="fibers")
    run_ = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert run_.stdout.split() == ["fibers", "fibers"], run_.stderr
    env["MANYCORE_CPU_SCHEME"] = "fast"
    run_ = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert run_.returncode != 0 and "MANYCORE_CPU_SCHEME='fast'" in run_.stderr


def test_compile_errors_in_a_split_kernel_name_the_users_line(cpu):
    src = "\n".join([
        "__global__ void broken(float* x) {",
        "    __shared__ float s[32];",
        "    s[threadIdx.x] = x[threadIdx.x];",
        "    __syncthreads();",
        "    x[threadIdx.x] = s[0] + undeclared_name;",
        "}",
    ])
    with cpu_scheme("auto"), pytest.raises(mc.CompileError) as e:
        mc.SourceModule(src, device=cpu)
    assert "kernel.cu:5" in str(e.value) and "undeclared_name" in str(e.value)


REFERENCE_HELPER = r"""
__device__ void add_to(float v, float& sum, int& count) { sum += v; count += 1; }

__global__ void tiled_sums(const float* x, float* sums, int* counts, int n) {
    __shared__ float tile[64];
    float sum = 0;      // written through the helper's references, by each thread for itself
    int count = 0;
    for (int start = 0; start < n; start += 64) {
        tile[threadIdx.x] = start + threadIdx.x < n ? x[start + threadIdx.x] : 0.0f;
        __syncthreads();
        for (int k = 0; k < 64; ++k) add_to(tile[k] * (threadIdx.x + 1), sum, count);
        __syncthreads();
    }
    sums[threadIdx.x] = sum;
    counts[threadIdx.x] = count;
}

__global__ void plain_sums(const float* x, float* sums, int n) {
    float sum = 0;
    int count = 0;
    for (int j = 0; j < n; ++j) add_to(x[j] * (threadIdx.x + 1), sum, count);
    sums[blockIdx.x * blockDim.x + threadIdx.x] = sum + count;
}
"""


def test_locals_a_helper_writes_through_references_stay_each_threads_own(device):
    n = 200
    x = (np.arange(n, dtype=np.float32) % 7) / 4
    sums, counts = run(device, REFERENCE_HELPER, "tiled_sums",
                       lambda: [x, np.zeros(64, np.float32), np.zeros(64, np.int32), n], [1, 2],
                       dict(grid=1, block=64))
    np.testing.assert_array_equal(counts, np.full(64, 256))
    np.testing.assert_allclose(sums, x.sum() * np.arange(1, 65), rtol=1e-5)
    (plain,) = run(device, REFERENCE_HELPER, "plain_sums", lambda: [x, np.zeros(128, np.float32), n], [1],
                   dict(grid=2, block=64), mode="loop")
    np.testing.assert_allclose(plain, x.sum() * (np.arange(128) % 64 + 1) + n, rtol=1e-5)


# ---- bounds checks a block decides at once ------------------------------------------------------

# Guards that hold for every thread of most blocks (`i < n ? x[i] : 0`, `if (row < n && col <
# m)`) are decided once a block, from its first and its last thread; the blocks at the edges,
# and values that start below zero or would wrap, take the checks thread by thread.
GUARDED = r"""
__global__ void edges(const float* x, float* out, int n, int m) {
    __shared__ float s[8][33];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * blockDim.y + ty, col = blockIdx.x * blockDim.x + tx;
    s[ty][tx] = (row < n && col < m) ? x[row * m + col] : -1.0f;
    __syncthreads();
    float shifted = col - 3 >= 0 && col - 3 < m ? 2.0f : 3.0f;   // below zero at the left edge
    if (row < n && col < m) out[row * m + col] = s[ty][tx] + shifted;
}
// True for the first and the last thread, false between: what the corners cannot tell alone.
__global__ void far(float* out, unsigned un) {
    __shared__ float s[64];
    s[threadIdx.x] = (int)threadIdx.x - 4 > un ? 17.0f : 19.0f;   // unsigned: -4 is huge
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
}
__global__ void wraps(float* out, unsigned big) {
    __shared__ float s[64];
    s[threadIdx.x] = threadIdx.x + big > 5u ? 23.0f : 29.0f;     // wraps within the block
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
}
"""


@pytest.mark.parametrize("n, m, block", [(64, 64, (32, 8)), (61, 45, (32, 8)), (9, 100, (16, 4)),
                                         (1, 1, (32, 8))])
def test_bounds_checks_decided_once_a_block_give_the_same_results(device, n, m, block):
    x = np.arange(n * m, dtype=np.float32) % 97
    grid = ((m + block[0] - 1) // block[0], (n + block[1] - 1) // block[1])
    (out,) = run(device, GUARDED, "edges", lambda: [x, np.zeros(n * m, np.float32), n, m],
                 [1], dict(grid=grid, block=block))
    col = np.arange(n * m) % m
    np.testing.assert_array_equal(out, (x + np.where(col >= 3, 2.0, 3.0)).astype(np.float32))


def test_bounds_checks_true_at_both_corners_only_are_checked_thread_by_thread(device):
    tx = np.tile(np.arange(64), 2)
    (out,) = run(device, GUARDED, "far", lambda: [np.zeros(128, np.float32), np.uint32(3)], [0],
                 dict(grid=2, block=64))
    np.testing.assert_array_equal(out, np.where((tx < 4) | (tx - 4 > 3), 17.0, 19.0))
    big = 2**32 - 10
    (out,) = run(device, GUARDED, "wraps", lambda: [np.zeros(128, np.float32), np.uint32(big)], [0],
                 dict(grid=2, block=64))
    np.testing.assert_array_equal(out, np.where((tx + big) % 2**32 > 5, 23.0, 29.0))


def test_guards_the_whole_block_can_decide_are_named_in_the_reason(cpu):
    with cpu_scheme("auto"):
        m = mc.SourceModule(GUARDED + TREE_REDUCTION, device=cpu)
    assert "bounds checks decided once a block" in m.get_function("reduce").execution_reason
    for name in ("edges", "far", "wraps"):
        reason = m.get_function(name).execution_reason
        assert "bounds checks decided once a block" in reason, reason
    assert "2 regions'" in m.get_function("edges").execution_reason


def test_guards_the_corners_cannot_decide_stay_thread_by_thread(cpu):
    src = r"""
    __global__ void odd(const int* x, int* out, int n) {
        __shared__ int s[64];
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        s[threadIdx.x] = i % 2 == 0 ? x[i] : -x[i];     // not an interval of threads
        __syncthreads();
        if (i * i < n) out[i] = s[threadIdx.x ^ 1];       // grows, but not as a sum
    }"""
    with cpu_scheme("auto"):
        f = mc.SourceModule(src, device=cpu).get_function("odd")
    assert "bounds checks" not in f.execution_reason
    x = np.arange(128, dtype=np.int32)
    out = np.full(128, 7, np.int32)
    f(x, out, 128 * 128 // 2, grid=2, block=64, lint=False)  # i * i, not i, meets n
    i = np.arange(128)
    signed = np.where(i % 2 == 0, x, -x)
    np.testing.assert_array_equal(out, np.where(i * i < 128 * 128 // 2, signed[i ^ 1], 7))


# ---- loops all threads run in step: iteration-major -------------------------------------------

GRID_STRIDE_FORMS = {
    "for": r"""
        __global__ void k(float* y, const float* x, float a, int n) {
            for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
                y[i] = a * x[i] + y[i];
        }""",
    "stride in a local, swapped": r"""
        __global__ void k(float* y, const float* x, float a, int n) {
            int stride = gridDim.x * blockDim.x;
            for (int i = threadIdx.x + blockIdx.x * blockDim.x; n > i; i += stride)
                y[i] = a * x[i] + y[i];
        }""",
    "size_t": r"""
        __global__ void k(float* y, const float* x, float a, size_t n) {
            for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)blockDim.x * gridDim.x)
                y[i] = a * x[i] + y[i];
        }""",
    "long": r"""
        __global__ void k(float* y, const float* x, float a, long n) {
            for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i = i + (long)blockDim.x * gridDim.x)
                y[i] = a * x[i] + y[i];
        }""",
    "unsigned": r"""
        __global__ void k(float* y, const float* x, float a, unsigned n) {
            for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
                if (x[i] < 0) continue;
                y[i] = a * x[i] + y[i];
            }
        }""",
    "while": r"""
        __global__ void k(float* y, const float* x, float a, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            const int step = blockDim.x * gridDim.x;
            while (i < n) {
                y[i] = a * x[i] + y[i];
                i += step;
            }
        }""",
}


@pytest.mark.parametrize("form", list(GRID_STRIDE_FORMS))
def test_grid_stride_loops_run_iteration_major_with_the_same_results(device, form):
    n = 100_003
    x = np.random.default_rng(9).random(n, dtype=np.float32)
    y0 = np.random.default_rng(10).random(n, dtype=np.float32)
    src = GRID_STRIDE_FORMS[form]
    scalar_n = np.uint32(n) if form == "unsigned" else n
    (y,) = run(device, src, "k", lambda: [y0.copy(), x, np.float32(2.5), scalar_n], [0],
               dict(grid=4, block=128), mode="loop")
    # The host compiler may fuse a * x + y into one rounding (as CUDA's does): float64 models it.
    np.testing.assert_allclose(y, 2.5 * x.astype(np.float64) + y0, rtol=1e-7)
    if device.kind == "cpu":
        f = mc.SourceModule(src, device=device).get_function("k")
        assert "iteration-major" in f.execution_reason


def test_iteration_major_in_a_kernel_with_barriers(device):
    src = r"""
    __global__ void sums(const unsigned* in, unsigned long long* out, unsigned n) {
        __shared__ unsigned long long s[128];
        unsigned long long acc = 0;
        unsigned gs = blockDim.x * 2 * gridDim.x;
        unsigned i = blockIdx.x * blockDim.x * 2 + threadIdx.x;
        while (i < n) {
            acc += in[i];
            if (i + blockDim.x < n) acc += in[i + blockDim.x];
            i += gs;
        }
        s[threadIdx.x] = acc;
        __syncthreads();
        for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
            if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
            __syncthreads();
        }
        if (threadIdx.x == 0) out[blockIdx.x] = s[0];
    }"""
    n = (1 << 20) + 7
    x = np.random.default_rng(11).integers(1, 100, n).astype(np.uint32)
    (out,) = run(device, src, "sums", lambda: [x, np.zeros(8, np.uint64), np.uint32(n)], [1],
                 dict(grid=8, block=128))
    assert out.sum() == x.sum(dtype=np.uint64)

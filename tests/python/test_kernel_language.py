# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The CUDA C++ dialect, feature by feature, on every device, against NumPy models."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import manycore as mc


def build(device, source, **kwargs):
    return mc.SourceModule(source, device=device, **kwargs)


def test_extern_c_device_host_forceinline_templates_and_structs(device):
    mod = build(
        device,
        r"""
        #include <cstdint>
        struct Pair { float a, b; __host__ __device__ float sum() const { return a + b; } };
        template <typename T> __device__ __forceinline__ T twice(T v) { return v + v; }
        __host__ __device__ inline int square(int v) { return v * v; }
        __device__ int counter_base = 100;

        extern "C" __global__ void combine(const float* a, const float* b, float* out, int32_t n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i >= n) return;
            Pair p{a[i], b[i]};
            out[i] = twice(p.sum()) + square(2) + counter_base;
        }
        __global__ void not_extern(int* out) { out[threadIdx.x] = twice<int>(threadIdx.x); }
        extern "C" {
        __global__ void in_block(int* out) { out[0] = 7; }
        }
        """,
    )
    n = 100
    a, b = np.arange(n, dtype=np.float32), np.ones(n, dtype=np.float32)
    out = mc.zeros(n, np.float32, device=device)
    mod.get_function("combine")(mc.to_device(a, device), mc.to_device(b, device), out, n, grid=4, block=32)
    np.testing.assert_array_equal(out.get(), 2 * (a + b) + 4 + 100)
    ints = mc.zeros(8, np.int32, device=device)
    mod.get_function("not_extern")(ints, grid=1, block=8)
    assert ints.get().tolist() == [2 * i for i in range(8)]
    mod.get_function("in_block")(ints, grid=1, block=1)
    assert ints.get()[0] == 7


@pytest.mark.parametrize("grid, block", [((2, 3, 4), (4, 2, 3)), ((5,), (1024,)), ((1, 1, 3), (8, 8, 16))])
def test_indices_in_three_dimensions(device, grid, block):
    mod = build(
        device,
        r"""
        __global__ void ids(unsigned* out) {
            unsigned bl = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
            unsigned tl = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
            unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
            unsigned g = bl * nthreads + tl;
            out[4 * g + 0] = threadIdx.x + 10 * threadIdx.y + 100 * threadIdx.z;
            out[4 * g + 1] = blockIdx.x + 10 * blockIdx.y + 100 * blockIdx.z;
            out[4 * g + 2] = blockDim.x + 10 * blockDim.y + 100 * blockDim.z + 1000 * warpSize;
            out[4 * g + 3] = gridDim.x + 10 * gridDim.y + 100 * gridDim.z;
        }""",
    )
    g3 = tuple(grid) + (1,) * (3 - len(grid))
    b3 = tuple(block) + (1,) * (3 - len(block))
    total = int(np.prod(g3)) * int(np.prod(b3))
    out = mc.zeros(4 * total, np.uint32, device=device)
    mod.get_function("ids")(out, grid=grid, block=block)
    got = out.get().reshape(-1, 4)
    expected = []
    for bz in range(g3[2]):
        for by in range(g3[1]):
            for bx in range(g3[0]):
                for tz in range(b3[2]):
                    for ty in range(b3[1]):
                        for tx in range(b3[0]):
                            expected.append(
                                (tx + 10 * ty + 100 * tz, bx + 10 * by + 100 * bz,
                                 b3[0] + 10 * b3[1] + 100 * b3[2] + 32000, g3[0] + 10 * g3[1] + 100 * g3[2])
                            )
    np.testing.assert_array_equal(got, np.array(expected, dtype=np.uint32))


REDUCE = r"""
template <unsigned BLOCK>
__device__ void tree(float* s) {
    for (unsigned stride = BLOCK / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
}
__global__ void reduce(const float* in, float* partial, int n) {
    __shared__ float s[256];
    float acc = 0;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) acc += in[i];
    s[threadIdx.x] = acc;
    __syncthreads();
    tree<256>(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s[0];
}
"""


def test_shared_memory_reduction_with_barriers_in_loops(device, scheme):
    f = build(device, REDUCE).get_function("reduce")
    assert f.execution_mode == scheme, f.execution_reason
    assert f.uses_fibers == (scheme == "fibers")
    x = np.random.default_rng(1).integers(0, 100, 100_003).astype(np.float32)
    partial = mc.zeros(64, np.float32, device=device)
    f(mc.to_device(x, device), partial, x.size, grid=64, block=256)
    assert partial.get().sum(dtype=np.float64) == x.sum(dtype=np.float64)


def test_tiled_transpose(device, scheme):
    mod = build(
        device,
        r"""
        #define TILE 32
        __global__ void transpose(const float* in, float* out, int rows, int cols) {
            __shared__ float tile[TILE][TILE + 1];
            int x = blockIdx.x * TILE + threadIdx.x, y = blockIdx.y * TILE + threadIdx.y;
            for (int j = 0; j < TILE; j += blockDim.y)
                if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * cols + x];
            __syncthreads();
            x = blockIdx.y * TILE + threadIdx.x; y = blockIdx.x * TILE + threadIdx.y;
            for (int j = 0; j < TILE; j += blockDim.y)
                if (x < rows && y + j < cols) out[(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
        }""",
    )
    rows, cols = 70, 45
    a = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    out = mc.zeros((cols, rows), np.float32, device=device)
    assert mod.get_function("transpose").execution_mode == scheme
    mod.get_function("transpose")(mc.to_device(a, device), out, rows, cols, grid=((cols + 31) // 32, (rows + 31) // 32), block=(32, 8))
    np.testing.assert_array_equal(out.get(), a.T)


def test_block_scan_with_several_barriers_per_loop(device, scheme):
    mod = build(
        device,
        r"""
        __global__ void scan(const int* in, int* out, int n) {
            extern __shared__ int buf[];
            int t = threadIdx.x;
            int* a = buf; int* b = buf + blockDim.x;
            int i = blockIdx.x * blockDim.x + t;
            a[t] = i < n ? in[i] : 0;
            __syncthreads();
            for (int offset = 1; offset < blockDim.x; offset *= 2) {
                b[t] = a[t] + (t >= offset ? a[t - offset] : 0);
                __syncthreads();
                a[t] = b[t];
                __syncthreads();
            }
            if (i < n) out[i] = a[t];
        }""",
    )
    n, block = 1000, 128
    x = np.random.default_rng(2).integers(-50, 50, n).astype(np.int32)
    out = mc.zeros(n, np.int32, device=device)
    assert mod.get_function("scan").execution_mode == scheme
    mod.get_function("scan")(mc.to_device(x, device), out, n, grid=(n + block - 1) // block, block=block, shared=2 * block * 4)
    expected = np.concatenate([np.cumsum(x[s:s + block]) for s in range(0, n, block)])
    np.testing.assert_array_equal(out.get(), expected)


def test_syncthreads_after_early_return_and_reducing_variants(device, scheme):
    mod = build(
        device,
        r"""
        __global__ void votes(int* out, int active) {
            if (threadIdx.x >= active) return;
            int c = __syncthreads_count(threadIdx.x % 3 == 0);
            int all = __syncthreads_and(threadIdx.x < 1000);
            int any = __syncthreads_or(threadIdx.x == 5);
            int none = __syncthreads_or(0);
            __syncthreads();
            if (threadIdx.x == 0) { out[0] = c; out[1] = all; out[2] = any; out[3] = none; }
        }""",
    )
    out = mc.zeros(4, np.int32, device=device)
    assert mod.get_function("votes").execution_mode == scheme
    mod.get_function("votes")(out, 100, grid=1, block=256)
    assert out.get().tolist() == [34, 1, 1, 0]


def test_atomics_histogram_under_contention(device, scheme):
    mod = build(
        device,
        r"""
        __global__ void histogram(const unsigned char* data, int n, unsigned* global_bins) {
            __shared__ unsigned bins[16];
            if (threadIdx.x < 16) bins[threadIdx.x] = 0;
            __syncthreads();
            for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
                atomicAdd(&bins[data[i] % 16], 1u);
            __syncthreads();
            if (threadIdx.x < 16) atomicAdd(&global_bins[threadIdx.x], bins[threadIdx.x]);
        }
        __global__ void hot(unsigned long long* total, float* fsum, double* dsum) {
            atomicAdd(total, 1ull);
            atomicAdd(fsum, 1.0f);
            atomicAdd(dsum, 0.5);
        }""",
    )
    data = np.random.default_rng(3).integers(0, 256, 200_000).astype(np.uint8)
    bins = mc.zeros(16, np.uint32, device=device)
    assert mod.get_function("histogram").execution_mode == scheme
    mod.get_function("histogram")(mc.to_device(data, device), data.size, bins, grid=32, block=256)
    np.testing.assert_array_equal(bins.get(), np.bincount(data % 16, minlength=16))
    total, fsum, dsum = (mc.zeros(1, t, device=device) for t in (np.uint64, np.float32, np.float64))
    mod.get_function("hot")(total, fsum, dsum, grid=64, block=256)
    assert total.get()[0] == 64 * 256 and fsum.get()[0] == 64 * 256 and dsum.get()[0] == 64 * 128


ATOMIC_OPS = r"""
template <typename T>
__device__ void apply_all(T* v, T* old, int t) {
    old[0] = atomicAdd(&v[0], T(t)); atomicSub(&v[1], T(1));
    atomicMin(&v[2], T(t + 5)); atomicMax(&v[3], T(t * 3));
    atomicAnd(&v[4], ~(T(1) << (t % 8))); atomicOr(&v[5], T(1) << (t % 16));
    atomicXor(&v[6], T(t));
    if (t == 7) old[1] = atomicExch(&v[7], T(42));
    atomicCAS(&v[8], T(0), T(t + 1));
}
__global__ void ops_int(int* v, int* old) { apply_all(v, old, threadIdx.x); }
__global__ void ops_uint(unsigned* v, unsigned* old) { apply_all(v, old, threadIdx.x); }
__global__ void ops_ll(long long* v, long long* old) { apply_all(v, old, threadIdx.x); }
__global__ void ops_ull(unsigned long long* v, unsigned long long* old) { apply_all(v, old, threadIdx.x); }
__global__ void inc_dec(unsigned* v) { atomicInc(&v[0], 9u); atomicDec(&v[1], 9u); }
"""


@pytest.mark.parametrize("kernel, dtype", [("ops_int", np.int32), ("ops_uint", np.uint32), ("ops_ll", np.int64), ("ops_ull", np.uint64)])
def test_every_integer_atomic(device, kernel, dtype):
    mod = build(device, ATOMIC_OPS)
    n = 64
    init = np.array([0, 1000, 10**6, 0, -1 if np.issubdtype(dtype, np.signedinteger) else np.iinfo(dtype).max, 0, 0, 3, 0], dtype=dtype)
    v = mc.to_device(init, device)
    old = mc.zeros(2, dtype, device=device)
    mod.get_function(kernel)(v, old, grid=1, block=n)
    got = v.get()
    t = np.arange(n, dtype=dtype)
    assert got[0] == t.sum()
    assert got[1] == dtype(1000 - n)
    assert got[2] == 5 and got[3] == 3 * (n - 1)
    assert got[4] == init[4] & ~dtype(0xFF)
    assert got[5] == 0xFFFF
    assert got[6] == np.bitwise_xor.reduce(t)
    assert got[7] == 42 and old.get()[1] == 3
    assert 1 <= got[8] <= n


def test_atomic_inc_dec_wrap_as_cuda_defines(device):
    mod = build(device, ATOMIC_OPS)
    v = mc.to_device(np.array([0, 0], np.uint32), device)
    mod.get_function("inc_dec")(v, grid=1, block=25)
    # inc wraps to 0 after 9; dec from 0 goes to 9: 25 steps land on 25 % 10 and (-25) % 10.
    assert v.get().tolist() == [25 % 10, (-25) % 10]


WARP = r"""
__global__ void shuffles(const int* in, int* out) {
    int t = threadIdx.x, v = in[t];
    int b = blockDim.x;
    out[0 * b + t] = __shfl_sync(0xffffffff, v, 3);
    out[1 * b + t] = __shfl_up_sync(0xffffffff, v, 2);
    out[2 * b + t] = __shfl_down_sync(0xffffffff, v, 5);
    out[3 * b + t] = __shfl_xor_sync(0xffffffff, v, 1);
    out[4 * b + t] = __shfl_sync(0xffffffff, v, t + 1, 8);
    out[5 * b + t] = __shfl_down_sync(0xffffffff, v, 3, 16);
    out[6 * b + t] = (int)__ballot_sync(0xffffffff, v % 2 == 0);
    out[7 * b + t] = __all_sync(0xffffffff, v >= 0) + 2 * __any_sync(0xffffffff, v == 17);
    out[8 * b + t] = (int)__activemask();
    __syncwarp();
    out[9 * b + t] = __popc((unsigned)v) + 100 * __clz(v + 1) + 10000 * __ffs(v);
}
__global__ void warp_sum(const float* in, float* out) {
    float v = in[blockIdx.x * blockDim.x + threadIdx.x];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffff, v, offset);
    if (threadIdx.x % 32 == 0) atomicAdd(out, v);
}
"""


def _warp_model(v: np.ndarray) -> np.ndarray:
    n = v.size
    lane = np.arange(n) % 32
    base = np.arange(n) - lane
    out = np.zeros((10, n), dtype=np.int64)
    out[0] = v[base + 3]
    out[1] = np.where(lane >= 2, v[np.maximum(np.arange(n) - 2, 0)], v)
    out[2] = np.where(lane + 5 < 32, v[np.minimum(np.arange(n) + 5, n - 1)], v)
    out[3] = v[np.arange(n) ^ 1]
    seg8 = np.arange(n) - np.arange(n) % 8
    out[4] = v[seg8 + (np.arange(n) + 1) % 8]
    seg16 = np.arange(n) % 16
    out[5] = np.where(seg16 + 3 < 16, v[np.minimum(np.arange(n) + 3, n - 1)], v)
    for w in range(n // 32):
        chunk = v[32 * w:32 * w + 32]
        out[6, 32 * w:32 * w + 32] = np.int32(np.uint32(sum(1 << i for i in range(32) if chunk[i] % 2 == 0)).view(np.int32))
        out[7, 32 * w:32 * w + 32] = int((chunk >= 0).all()) + 2 * int((chunk == 17).any())
    out[8] = -1
    popc = np.array([bin(x & 0xFFFFFFFF).count("1") for x in v])
    clz = np.array([32 - int(x + 1).bit_length() if x + 1 > 0 else 0 for x in v])
    ffs = np.array([(int(x) & -int(x)).bit_length() for x in v])
    out[9] = popc + 100 * clz + 10000 * ffs
    return out


def test_every_warp_intrinsic_against_a_numpy_model(device, scheme):
    mod = build(device, WARP)
    f = mod.get_function("shuffles")
    assert f.execution_mode == scheme, f.execution_reason
    v = np.random.default_rng(4).integers(0, 40, 64).astype(np.int32)
    out = mc.zeros(10 * 64, np.int32, device=device)
    f(mc.to_device(v, device), out, grid=1, block=64)
    np.testing.assert_array_equal(out.get().reshape(10, 64), _warp_model(v.astype(np.int64)))


def test_warp_shuffle_reduction(device, scheme):
    f = build(device, WARP).get_function("warp_sum")
    assert f.execution_mode == scheme, f.execution_reason
    x = np.arange(4096, dtype=np.float32) % 7
    out = mc.zeros(1, np.float32, device=device)
    f(mc.to_device(x, device), out, grid=16, block=256)
    assert out.get()[0] == x.sum()


def test_partial_warp_active_mask(device, scheme):
    mod = build(
        device,
        r"""
        __global__ void mask(unsigned* out) {
            if (threadIdx.x >= 40) return;
            out[threadIdx.x] = __activemask();
        }""",
    )
    out = mc.zeros(48, np.uint32, device=device)
    assert mod.get_function("mask").execution_mode == scheme
    mod.get_function("mask")(out, grid=1, block=48)
    got = out.get()
    assert (got[:32] == 0xFFFFFFFF).all()
    assert (got[32:40] == 0xFF).all()


def test_math_functions_and_intrinsics(device):
    mod = build(
        device,
        r"""
        #include <cmath>
        __global__ void maths(const float* x, float* out, double* dout) {
            int i = threadIdx.x;
            float v = x[i];
            out[0 * 64 + i] = sinf(v);
            out[1 * 64 + i] = __expf(v);
            out[2 * 64 + i] = rsqrtf(v + 1.0f);
            out[3 * 64 + i] = fmaf(v, 2.0f, 1.0f);
            out[4 * 64 + i] = __fdividef(v, 3.0f);
            out[5 * 64 + i] = sqrtf(v) + fabsf(-v) + floorf(v) + fminf(v, 1.0f);
            dout[i] = sin((double)v) + exp((double)v) + pow((double)v, 2.0);
        }""",
    )
    x = np.linspace(0.0, 4.0, 64, dtype=np.float32)
    out = mc.zeros(6 * 64, np.float32, device=device)
    dout = mc.zeros(64, np.float64, device=device)
    mod.get_function("maths")(mc.to_device(x, device), out, dout, grid=1, block=64)
    got = out.get().reshape(6, 64)
    np.testing.assert_allclose(got[0], np.sin(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], np.exp(x), rtol=1e-5)
    np.testing.assert_allclose(got[2], 1 / np.sqrt(x + 1), rtol=1e-6)
    np.testing.assert_allclose(got[3], x * 2 + 1, rtol=1e-7)
    np.testing.assert_allclose(got[4], x / 3, rtol=1e-6)
    np.testing.assert_allclose(got[5], np.sqrt(x) + x + np.floor(x) + np.minimum(x, 1), rtol=1e-6)
    xd = x.astype(np.float64)
    np.testing.assert_allclose(dout.get(), np.sin(xd) + np.exp(xd) + xd**2, rtol=1e-14)


def test_printf_appears_in_order_per_launch(device, capfd):
    mod = build(
        device,
        r"""
        #include <cstdio>
        __global__ void hello(int tag) {
            printf("block %d thread %d tag %d\n", blockIdx.x, threadIdx.x, tag);
            if (threadIdx.x == 0) printf("block %d done\n", blockIdx.x);
        }""",
    )
    mod.get_function("hello")(np.int32(5), grid=3, block=4)
    mc.synchronize(device)  # a GPU hands printf output over when the host waits for it
    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 15
    assert sorted(lines) == sorted(
        [f"block {b} thread {t} tag 5" for b in range(3) for t in range(4)] + [f"block {b} done" for b in range(3)]
    )
    if device.kind == "cpu":  # the CPU device orders by block, thread, call
        assert lines[:2] == ["block 0 thread 0 tag 5", "block 0 done"]


def test_many_kernels_in_one_module(device):
    source = "\n".join(f"__global__ void k{i}(int* p) {{ p[{i}] = {i * i}; }}" for i in range(20))
    mod = build(device, source)
    p = mc.zeros(20, np.int32, device=device)
    for i in range(20):
        mod.get_function(f"k{i}")(p, grid=1, block=1)
    assert p.get().tolist() == [i * i for i in range(20)]


def test_standard_headers(device):
    mod = build(
        device,
        r"""
        #include <cstdint>
        #include <climits>
        #include <cfloat>
        #include <cmath>
        #include <cstdio>
        #include <cuda_runtime.h>
        __global__ void limits(int64_t* out) {
            out[0] = INT_MAX; out[1] = (int64_t)UINT32_MAX; out[2] = (int64_t)(FLT_MAX > 1e38f); out[3] = sizeof(uint16_t);
        }""",
    )
    out = mc.zeros(4, np.int64, device=device)
    mod.get_function("limits")(out, grid=1, block=1)
    assert out.get().tolist() == [2**31 - 1, 2**32 - 1, 1, 2]


@pytest.mark.parametrize(
    "source, feature",
    [
        ("__global__ void k(float* p) { p[0] = __shfl(p[0], 0); }", "__shfl"),
        ("__global__ void k(float* p) { p[0] = tex1Dfetch<float>(0ull, 0); }", "tex1Dfetch"),
        ("__global__ void c(int* p) {}\n__global__ void k(int* p) { c<<<1, 1>>>(p); }", "<<<"),
        ("#include <cuda_fp16.h>\n__global__ void k(int* p) {}", "cuda_fp16.h"),
    ],
)
def test_unsupported_features_fail_at_compile_time_naming_them(device, source, feature):
    if device.kind != "cpu":
        pytest.skip("the CPU prelude's messages")
    with pytest.raises(mc.CompileError) as info:
        build(device, source)
    assert feature in str(info.value)


ASSERT_KERNEL = r"""
#include <cassert>
__global__ void check(const int* v, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) assert(v[i] >= 0);
}"""


def test_device_side_assert_is_a_kernel_fault_and_process_goes_on(device):
    if device.kind != "cpu":
        pytest.skip("on a GPU an assert loses the CUDA context: see the subprocess test below")
    f = build(device, ASSERT_KERNEL).get_function("check")
    good = mc.to_device(np.arange(100, dtype=np.int32), device)
    f(good, 100, grid=4, block=32)
    bad = mc.to_device(np.array([1, 2, -3, 4], np.int32), device)
    with pytest.raises(mc.KernelFault, match="check") as info:
        f(bad, 4, grid=1, block=4)
    assert info.value.kernel == "check"
    f(good, 100, grid=4, block=32)


@pytest.mark.gpu
def test_device_side_assert_on_a_gpu_says_the_context_is_lost(tmp_path):
    """A GPU assert is sticky (CUDA_ERROR_ASSERT): the fault names the kernel when the host
    next waits, every later use of that GPU says the context is lost, and the rest of the
    process (the CPU device) goes on working. Run in a child so this process's GPU survives."""
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if not gpus:
        pytest.skip("no GPU on this machine")
    script = tmp_path / "assert_child.py"
    script.write_text(f"""
import numpy as np, manycore as mc
src = {ASSERT_KERNEL!r}
gpu = mc.Device("{gpus[0]}")
f = mc.SourceModule(src, device=gpu).get_function("check")
f(mc.to_device(np.array([1, -2], np.int32), gpu), 2, grid=1, block=2)
try:
    mc.synchronize(gpu)
    print("NO FAULT")
except mc.KernelFault as e:
    print("FAULT", e.kernel, "|", e)
try:
    mc.zeros(4, np.int32, device=gpu).get()
    print("STILL USABLE")
except mc.KernelFault as e:
    print("LOST |", e)
cpu = mc.SourceModule(src, device="cpu").get_function("check")
cpu(np.arange(4, dtype=np.int32), 4, grid=1, block=4)
print("CPU OK")
""")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert run.returncode == 0, run.stderr
    assert "FAULT check |" in out and "CUDA_ERROR_ASSERT" in out, out
    assert "LOST |" in out and "restart the process" in out, out
    assert "CPU OK" in out, out


def test_barrier_deadlock_is_a_kernel_fault_not_a_hang(device, scheme):
    if device.kind != "cpu":
        pytest.skip("undefined behaviour on a GPU")
    mod = build(
        device,
        r"""
        __global__ void divergent(int* p) {
            // Lanes 16-31 wait in a shuffle for lanes 0-15, which wait at the barrier for them.
            if (threadIdx.x < 16) { __syncthreads(); }
            else { p[0] = __shfl_sync(0xffffffff, 1, 0); }
        }""",
    )
    p = mc.zeros(1, np.int32, device=device)
    assert mod.get_function("divergent").execution_mode == scheme
    # Fibers find the threads waiting at different barriers; loop fission, the condition that
    # differs between them.
    with pytest.raises(mc.KernelFault, match="deadlock" if scheme == "fibers" else "barrier divergence"):
        mod.get_function("divergent")(p, grid=1, block=32)
    mod.get_function("divergent")  # the module and the process stay usable

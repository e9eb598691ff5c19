# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 7 of the course (jupytext percent format): `manycore labs open 7` makes the notebook.

# %% [markdown]
# # Lab 7: reductions, v1 to v6
#
# Summing an array in parallel is a tree: pairs, then pairs of pairs. On a GPU the steps of
# the classic optimisation are:
#
# | version | idea | what it fixes |
# |---|---|---|
# | v1 | one block strides over the whole array, then a tree in shared memory | — (one multiprocessor works) |
# | v2 | every thread `atomicAdd`s its element to the total | all multiprocessors work, but the atomics serialise |
# | v3 | a tree per block in shared memory, interleaved (`tid % (2s) == 0`) | one atomic per block; but divergent warps |
# | v4 | sequential addressing (`tid < s`) | whole warps finish early, no divergence |
# | v5 | each thread first adds many elements (grid-stride), then the tree | half the threads no longer idle at the first step; fewer blocks |
# | v6 | the last 32 values by warp shuffles (`__shfl_down_sync`), no shared memory | fewer barriers |
#
# The data are uint32 and the total needs 64 bits: 2^20 values near 2^31 add up to about
# 2^50. The reference is `np.sum(x, dtype=np.uint64)`; NumPy 2's default for uint32 is a
# uint64 sum too, but `functools.reduce(operator.add, x)` over NumPy uint32 scalars stays
# uint32 and wraps, and so does a kernel with an `int` accumulator — which the check catches.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
import multiprocessing as mp
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(7, size=SIZE, device=DEVICE, result=RESULT)
n_python, n_numpy, n_kernel = lab.pick(small=(10**6, 10**8 + 123, 2**20 + 123),
                                       default=(10**6, 10**8 + 123, 2**26 + 123),
                                       large=(10**6, 10**9 + 123, 2**32 - 5),
                                       memory=lambda s: 4 * max(s[1], s[2]))
rng = np.random.default_rng(7)
x = rng.integers(0, 2**31, n_numpy, dtype=np.uint32)
total = int(np.sum(x, dtype=np.uint64))
print(f"Python {n_python:,}, NumPy {n_numpy:,}, kernels {n_kernel:,} uint32; total {total:,}")

# %% [markdown]
# ## Python, NumPy, threads, processes

# %%
got = {}
xs = x[:n_python].tolist()  # Python ints: they never overflow
lab.variant("Python", lambda: got.__setitem__("Python", sum(xs)), runs_as="python",
            size=f"{n_python:,}",
            check=lambda: kit.assert_equal(np.uint64(got["Python"]), np.sum(x[:n_python], dtype=np.uint64)))
lab.variant("NumPy sum(dtype=uint64)", lambda: got.__setitem__("NumPy", int(np.sum(x, dtype=np.uint64))),
            runs_as="numpy", workers=1, size=f"{n_numpy:,}", work=kit.Work(bytes=4 * n_numpy),
            check=lambda: kit.assert_equal(np.uint64(got["NumPy"]), np.uint64(total)))


def chunked(parts):
    edges = np.linspace(0, n_numpy, parts + 1).astype(np.int64)
    return [x[s:e] for s, e in zip(edges[:-1], edges[1:])]


for workers in (2, 4):
    with ThreadPoolExecutor(workers) as pool:
        name = f"threads x{workers}"
        lab.variant(name, lambda: got.__setitem__(name, sum(pool.map(lambda c: int(np.sum(c, dtype=np.uint64)),
                                                                      chunked(workers)))),
                    runs_as="threads", workers=workers, baseline="NumPy sum(dtype=uint64)",
                    size=f"{n_numpy:,}", work=kit.Work(bytes=4 * n_numpy),
                    check=lambda: kit.assert_equal(np.uint64(got[name]), np.uint64(total)))

# %% [markdown]
# Processes map the array from shared memory (only the slice bounds travel), each sums its
# slice in uint64, and the parent adds the partial sums.

# %%
from multiprocessing import shared_memory

from manycore.labs import workers as lab_workers

block = shared_memory.SharedMemory(create=True, size=x.nbytes)
np.ndarray(x.shape, x.dtype, buffer=block.buf)[:] = x
procs = min(2, os.cpu_count() or 1)
edges = np.linspace(0, n_numpy, procs + 1).astype(np.int64)
with mp.get_context("spawn").Pool(procs, lab_workers.attach, ((block.name,), x.shape, "uint32")) as pool:
    pool.map(abs, range(procs))
    name = f"processes x{procs} (shared memory)"
    lab.variant(name, lambda: got.__setitem__(name, sum(pool.starmap(lab_workers.sum_slice,
                                                                      zip(edges[:-1], edges[1:])))),
                runs_as="processes", workers=procs, baseline="NumPy sum(dtype=uint64)",
                size=f"{n_numpy:,}", work=kit.Work(bytes=4 * n_numpy),
                check=lambda: kit.assert_equal(np.uint64(got[name]), np.uint64(total)))
block.close()
block.unlink()

# %% [markdown]
# ## Six kernels
#
# Every version ends with one `atomicAdd` per block (v1 has one block) into an
# `unsigned long long` total, so one launch gives the answer.

# %%
SOURCE = r"""
#define BLOCK 256
typedef unsigned long long u64;

// v1: one block of 1024 threads covers the whole array, then one tree.
__global__ void v1_one_block(unsigned int n, const unsigned int* x, u64* total) {
    __shared__ u64 s[1024];
    u64 sum = 0;
    for (unsigned int i = threadIdx.x; i < n; i += blockDim.x) sum += x[i];
    s[threadIdx.x] = sum;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) *total = s[0];
}

// v2: every thread adds its element to the total.
__global__ void v2_atomic(unsigned int n, const unsigned int* x, u64* total) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(total, (u64)x[i]);
}

// v3: a tree per block, interleaved addressing: the active threads are spread out.
__global__ void v3_interleaved(unsigned int n, const unsigned int* x, u64* total) {
    __shared__ u64 s[BLOCK];
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? x[i] : 0;
    __syncthreads();
    for (unsigned int stride = 1; stride < blockDim.x; stride *= 2) {
        if (threadIdx.x % (2 * stride) == 0) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(total, s[0]);
}

// v4: sequential addressing: the active threads are the first ones.
__global__ void v4_sequential(unsigned int n, const unsigned int* x, u64* total) {
    __shared__ u64 s[BLOCK];
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? x[i] : 0;
    __syncthreads();
    // BEGIN SOLUTION: halve the active threads each step; each adds the value stride away
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    // END SOLUTION
    if (threadIdx.x == 0) atomicAdd(total, s[0]);
}

// v5: first add during the load, over a grid-stride loop; then the tree.
__global__ void v5_grid_stride(unsigned int n, const unsigned int* x, u64* total) {
    __shared__ u64 s[BLOCK];
    u64 sum = 0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        sum += x[i];
    s[threadIdx.x] = sum;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(total, s[0]);
}

// v6: grid-stride load, then warp shuffles; one shared slot per warp.
__global__ void v6_shuffle(unsigned int n, const unsigned int* x, u64* total) {
    __shared__ u64 warp_sums[BLOCK / 32];
    u64 sum = 0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        sum += x[i];
    for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        sum = threadIdx.x < BLOCK / 32 ? warp_sums[threadIdx.x] : 0;
        for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, offset);
        if (threadIdx.x == 0) atomicAdd(total, sum);
    }
}

// The mistake: an int accumulator. The sum of many uint32 values does not fit.
__global__ void v4_int_total(unsigned int n, const unsigned int* x, int* total) {
    __shared__ int s[BLOCK];
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? (int)x[i] : 0;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(total, s[0]);
}

// The same grid-stride tree for max and for a product modulo the prime 2^31 - 1.
__device__ inline u64 mulmod(u64 a, u64 b) { return a * b % 2147483647ULL; }

__global__ void max_and_product(unsigned int n, const unsigned int* x, u64* max_out, u64* prod_out) {
    __shared__ u64 smax[BLOCK], sprod[BLOCK];
    u64 m = 0, p = 1;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        m = x[i] > m ? x[i] : m;
        p = mulmod(p, x[i] % 2147483647ULL);
    }
    smax[threadIdx.x] = m;
    sprod[threadIdx.x] = p;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (threadIdx.x < stride) {
            smax[threadIdx.x] = smax[threadIdx.x + stride] > smax[threadIdx.x] ? smax[threadIdx.x + stride] : smax[threadIdx.x];
            sprod[threadIdx.x] = mulmod(sprod[threadIdx.x], sprod[threadIdx.x + stride]);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) { max_out[blockIdx.x] = smax[0]; prod_out[blockIdx.x] = sprod[0]; }
}
"""
module = lab.compile(SOURCE)
on = lab.device
xk = x[:n_kernel] if n_kernel <= n_numpy else rng.integers(0, 2**31, n_kernel, dtype=np.uint32)
d_x = mc.to_device(xk, on)
d_total = mc.zeros(1, np.uint64, on)
zero = np.zeros(1, np.uint64)
BLOCK = 256
few_blocks = 4 * max(on.compute_units, 1) * (8 if lab.on_gpu else 1)
launches = {
    "v1_one_block": (1, 1024),
    "v2_atomic": ((n_kernel + BLOCK - 1) // BLOCK, BLOCK),
    "v3_interleaved": ((n_kernel + BLOCK - 1) // BLOCK, BLOCK),
    "v4_sequential": ((n_kernel + BLOCK - 1) // BLOCK, BLOCK),
    "v5_grid_stride": (few_blocks, BLOCK),
    "v6_shuffle": (few_blocks, BLOCK),
}


def exact_for(f, grid_of):
    """The kernel's total on n_kernel elements, and on 1024 and 1025 (a missing guard shows)."""
    def check():
        assert int(d_total.get()[0]) == int(np.sum(xk, dtype=np.uint64)), \
            f"{f.name}: {int(d_total.get()[0]):,} != {int(np.sum(xk, dtype=np.uint64)):,}"
        for m in (1024, 1025):
            small = mc.to_device(xk[:m], on)
            out = mc.zeros(1, np.uint64, on)
            g, b = grid_of(m)
            f(m, small, out, grid=(g,), block=(b,))
            kit.assert_equal(out, np.array([np.sum(xk[:m], dtype=np.uint64)]), f"{f.name} on {m} elements")
    return check


for name, (grid, block) in launches.items():
    f = module.get_function(name)

    def grid_of(m, name=name):
        g, b = launches[name]
        return (g if name in ("v1_one_block", "v5_grid_stride", "v6_shuffle") else (m + b - 1) // b), b

    def run(f=f, grid=grid, block=block):
        mc.copy(d_total, zero)
        f(n_kernel, d_x, d_total, grid=(grid,), block=(block,))

    lab.variant(name, run, runs_as=f"manycore {on.kind}", kernels=[f], compiled="kernels",
                baseline="v1_one_block", size=f"{n_kernel:,}", work=kit.Work(bytes=4 * n_kernel),
                check=exact_for(f, grid_of))

# %% [markdown]
# ## Libraries
#
# `mc.sum` is manycore's own reduction on an array of the device (uint32 sums in uint64, like
# NumPy's); CuPy's where it is installed and there is a GPU.

# %%
lab.variant("mc.sum", lambda: got.__setitem__("mc.sum", int(mc.sum(d_x).get())),
            runs_as=f"manycore {on.kind}", size=f"{n_kernel:,}", work=kit.Work(bytes=4 * n_kernel),
            check=lambda: kit.assert_equal(np.uint64(got["mc.sum"]), np.sum(xk, dtype=np.uint64)))
cupy, why_not = kit.optional("cupy")
if cupy is not None and lab.on_gpu:
    c_x = cupy.asarray(xk)
    lab.variant("CuPy sum", lambda: got.__setitem__("cupy", int(c_x.sum(dtype=cupy.uint64))),
                runs_as="cupy", size=f"{n_kernel:,}", work=kit.Work(bytes=4 * n_kernel),
                check=lambda: kit.assert_equal(np.uint64(got["cupy"]), np.sum(xk, dtype=np.uint64)))
else:
    lab.skip("CuPy sum", why_not or "needs a GPU")

# %% [markdown]
# ## Max, and a product modulo p
#
# The same tree works for any associative operation: `max`, or multiplication modulo the
# prime p = 2^31 − 1 (with 64-bit products, which never overflow for factors below p).

# %%
fmp = module.get_function("max_and_product")
d_max, d_prod = mc.zeros(few_blocks, np.uint64, on), mc.zeros(few_blocks, np.uint64, on)
P = 2**31 - 1


def prod_mod(values):
    """The product modulo P by a tree of vectorised steps (products of two values below P
    fit 64 bits)."""
    v = values.astype(np.uint64) % P
    while v.size > 1:
        if v.size % 2:
            v = np.append(v, np.uint64(1))
        v = v[0::2] * v[1::2] % P
    return int(v[0])


lab.variant("max and product mod p (v5 tree)",
            lambda: fmp(n_kernel, d_x, d_max, d_prod, grid=(few_blocks,), block=(BLOCK,)),
            runs_as=f"manycore {on.kind}", kernels=[fmp], size=f"{n_kernel:,}",
            work=kit.Work(bytes=4 * n_kernel),
            check=lambda: (kit.assert_equal(np.uint64(d_max.get().max()), np.uint64(xk.max())),
                           kit.assert_equal(np.uint64(prod_mod(d_prod.get())), np.uint64(prod_mod(xk)))))

# %% [markdown]
# ## MPI: each rank its share, then Reduce
#
# `np.sum(..., dtype=np.uint64)` per rank, then `Reduce` with `MPI.UINT64_T` (not `MPI.INT`,
# which would reinterpret the bytes).

# %%
lab.mpi_context()

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit

lab = kit.join("reduce")
comm = MPI.COMM_WORLD
n = lab.pick(small=10**8 + 123, default=10**8 + 123, large=10**9 + 123)
x = np.random.default_rng(7).integers(0, 2**31, n, dtype=np.uint32)  # every rank makes the same data
mine = np.array_split(x, comm.size)[comm.rank]
out = {}


def mpi_sum():
    local = np.array([np.sum(mine, dtype=np.uint64)])
    result = np.zeros(1, np.uint64)
    comm.Reduce([local, MPI.UINT64_T], [result, MPI.UINT64_T], op=MPI.SUM, root=0)
    out["total"] = result[0]


lab.variant(f"MPI x{comm.size} (Reduce)", mpi_sum, runs_as="mpi", workers=comm.size,
            size=f"{n:,}", work=kit.Work(bytes=4 * n),
            check=lambda: comm.rank != 0 or kit.assert_equal(out["total"], np.sum(x, dtype=np.uint64)))
lab.finish()

# %%
lab.collect("reduce", ["MPI x2 (Reduce)"])
for v in lab.variants:
    if v.name.startswith("MPI"):
        v.baseline = "NumPy sum(dtype=uint64)"

# %% [markdown]
# ## The int accumulator, caught

# %%
f_int = module.get_function("v4_int_total")
d_int = mc.zeros(1, np.int32, on)
f_int(n_kernel, d_x, d_int, grid=((n_kernel + BLOCK - 1) // BLOCK,), block=(BLOCK,))
wrong = int(d_int.get()[0])
lab.claim("an int accumulator overflows and the exact check catches it",
          wrong != int(np.sum(xk, dtype=np.uint64)),
          f"int total {wrong:,} vs {int(np.sum(xk, dtype=np.uint64)):,}")
lab.claim("reduce(add) over NumPy uint32 scalars wraps around (the bug the uint64 reference avoids)",
          int(np.add.reduce(xk[:1000], dtype=np.uint32)) != int(np.sum(xk[:1000], dtype=np.uint64)))
if lab.on_gpu:
    lab.claim("on a GPU v5 (grid-stride, first add in the load) beats v3 (interleaved)",
              lab.best("v5_grid_stride") < lab.best("v3_interleaved"),
              f"{lab.best('v3_interleaved') / lab.best('v5_grid_stride'):.1f}x")
lab.finish()

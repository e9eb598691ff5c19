# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 6 of the course (jupytext percent format): `manycore labs open 6` makes the notebook.

# %% [markdown]
# # Lab 6: matrix product
#
# C = A·B costs 2·M·N·K floating-point operations on M·K + K·N + M·N numbers: unlike the
# addition of lab 4 it can reuse every number many times, so it can be **compute-bound** —
# if the program keeps the numbers it reuses close (caches, shared memory, registers).
#
# - Python: three loops, about 10^6 multiply-adds a second;
# - NumPy's `@` calls a BLAS library (blocked, vectorised, multithreaded): the bar to beat;
# - processes: split the rows of A (every worker needs all of B, pickled each time) or the
#   shared dimension k (each worker needs a slab of each, and the partial products are
#   added): what the pickling costs shows in the times;
# - MPI: `Scatterv` A's rows, `Bcast` B, `Gatherv` C;
# - kernels: naive (each thread reads a row of A and a column of B from global memory),
#   **shared-memory tiles** (a block loads a 16 x 16 tile of each, every thread uses it 16
#   times), and **register blocking** (each thread computes 4 results, reusing each value of
#   B from a register 4 times).
#
# The data are small integers (0 to 3), so every product and sum is exact in float32 and the
# check is exact equality; sizes are not multiples of the tile, so the guards matter.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
import multiprocessing as mp

import numpy as np

import manycore as mc
from manycore.labs import kit
from manycore.labs import workers as lab_workers

lab = kit.start(6, size=SIZE, device=DEVICE, result=RESULT)
n_python, (M, K, N), (KM, KK, KN) = lab.pick(
    small=(120, (1023, 1025, 1027), (1023, 1025, 1027)),
    default=(160, (2047, 2049, 2051), (2047, 2049, 2051)),
    large=(160, (4095, 4097, 4099), (16383, 16385, 16387)),
    memory=lambda s: 4 * (s[2][0] * s[2][1] + s[2][1] * s[2][2] + s[2][0] * s[2][2]))
rng = np.random.default_rng(6)


def integers(shape):
    return rng.integers(0, 4, shape).astype(np.float32)


A, B = integers((M, K)), integers((K, N))
C_ref = (A.astype(np.int64) @ B.astype(np.int64)).astype(np.float32)
flops = 2.0 * M * N * K
print(f"Python {n_python}^3; NumPy, processes, MPI {M}x{K} @ {K}x{N}; kernels {KM}x{KK} @ {KK}x{KN}")

# %% [markdown]
# ## Python and NumPy

# %%
pa, pb = A[:n_python, :n_python].tolist(), B[:n_python, :n_python].tolist()
out = {}


def python_matmul():
    n = n_python
    C = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(n):
                s += pa[i][k] * pb[k][j]
            C[i][j] = s
    out["Python"] = C


lab.variant("Python", python_matmul, runs_as="python", size=f"{n_python}^3",
            work=kit.Work(flops=2.0 * n_python**3),
            check=lambda: kit.assert_equal(np.float32(out["Python"]),
                                           (A[:n_python, :n_python].astype(np.int64) @ B[:n_python, :n_python].astype(np.int64)).astype(np.float32)))
C = np.empty((M, N), np.float32)
lab.variant("NumPy (BLAS)", lambda: np.matmul(A, B, out=C), runs_as="numpy", size=f"{M}x{K}x{N}",
            work=kit.Work(flops=flops), check=lambda: kit.assert_equal(C, C_ref))

# %% [markdown]
# ## A process pool: row split vs k split

# %%
procs = 2
with mp.get_context("spawn").Pool(procs) as pool:
    pool.map(abs, range(procs))
    rows = np.array_split(np.arange(M), procs)
    ks = np.array_split(np.arange(K), procs)

    def row_split():
        out["rows"] = np.vstack(pool.starmap(lab_workers.matmul_rows, [(A[r], B) for r in rows]))

    def k_split():
        # BEGIN SOLUTION: each worker multiplies a slab of A's columns by the matching slab of B's rows; add the partial products
        parts = pool.starmap(lab_workers.matmul_k, [(A[:, k], B[k, :]) for k in ks])
        out["k"] = sum(parts)
        # END SOLUTION

    lab.variant(f"processes x{procs}, row split", row_split, runs_as="processes", workers=procs,
                baseline="NumPy (BLAS)", size=f"{M}x{K}x{N}", work=kit.Work(flops=flops),
                check=lambda: kit.assert_equal(out["rows"], C_ref))
    lab.variant(f"processes x{procs}, k split", k_split, runs_as="processes", workers=procs,
                baseline="NumPy (BLAS)", size=f"{M}x{K}x{N}", work=kit.Work(flops=flops),
                check=lambda: kit.assert_equal(out["k"], C_ref))

# %% [markdown]
# ## Kernels: naive, shared tiles, register blocking

# %%
SOURCE = r"""
#define T 16
#define R 4

__global__ void naive(int M, int N, int K, const float* A, const float* B, float* C) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= M || col >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) acc += A[(size_t)row * K + k] * B[(size_t)k * N + col];
    C[(size_t)row * N + col] = acc;
}

__global__ void tiled(int M, int N, int K, const float* A, const float* B, float* C) {
    __shared__ float As[T][T], Bs[T][T];
    int ty = threadIdx.y, tx = threadIdx.x;
    int row = blockIdx.y * T + ty, col = blockIdx.x * T + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += T) {
        // BEGIN SOLUTION: load one element of each tile (zero outside the matrices), then use the tiles
        As[ty][tx] = row < M && k0 + tx < K ? A[(size_t)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = k0 + ty < K && col < N ? B[(size_t)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < T; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
        // END SOLUTION
    }
    if (row < M && col < N) C[(size_t)row * N + col] = acc;
}

// Each thread computes R results, R rows apart by T: a block covers (R*T) x T of C.
__global__ void register_blocked(int M, int N, int K, const float* A, const float* B, float* C) {
    __shared__ float As[R * T][T], Bs[T][T];
    int ty = threadIdx.y, tx = threadIdx.x;
    int row0 = blockIdx.y * R * T + ty, col = blockIdx.x * T + tx;
    float acc[R];
    for (int r = 0; r < R; ++r) acc[r] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += T) {
        for (int r = 0; r < R; ++r) {
            int row = row0 + r * T;
            As[ty + r * T][tx] = row < M && k0 + tx < K ? A[(size_t)row * K + k0 + tx] : 0.0f;
        }
        Bs[ty][tx] = k0 + ty < K && col < N ? B[(size_t)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < T; ++k) {
            float b = Bs[k][tx];
            for (int r = 0; r < R; ++r) acc[r] += As[ty + r * T][k] * b;
        }
        __syncthreads();
    }
    for (int r = 0; r < R; ++r)
        if (row0 + r * T < M && col < N) C[(size_t)(row0 + r * T) * N + col] = acc[r];
}
"""
module = lab.compile(SOURCE)
on = lab.device
kA, kB = (A[:KM, :KK], B[:KK, :KN]) if KM <= M and KK <= K and KN <= N else (integers((KM, KK)), integers((KK, KN)))
kA, kB = np.ascontiguousarray(kA), np.ascontiguousarray(kB)
kC_ref = (kA.astype(np.int64) @ kB.astype(np.int64)).astype(np.float32)
d_A, d_B = mc.to_device(kA, on), mc.to_device(kB, on)
kflops = 2.0 * KM * KN * KK
shapes = {"naive": ((KN + 15) // 16, (KM + 15) // 16), "tiled": ((KN + 15) // 16, (KM + 15) // 16),
          "register_blocked": ((KN + 15) // 16, (KM + 63) // 64)}
for name, grid in shapes.items():
    f = module.get_function(name)
    d_C = mc.zeros((KM, KN), np.float32, on)
    lab.variant(f"kernel {name}", lambda f=f, d_C=d_C, grid=grid: f(KM, KN, KK, d_A, d_B, d_C, grid=grid, block=(16, 16)),
                runs_as=f"manycore {on.kind}", kernels=[f], compiled="kernels", baseline="kernel naive",
                size=f"{KM}x{KK}x{KN}", work=kit.Work(flops=kflops),
                check=lambda d_C=d_C: kit.assert_equal(d_C, kC_ref))

cupy, why_not = kit.optional("cupy")
if cupy is not None and lab.on_gpu:
    c_A, c_B = cupy.asarray(kA), cupy.asarray(kB)
    lab.variant("cuBLAS (CuPy)", lambda: out.__setitem__("cupy", c_A @ c_B), runs_as="cupy",
                size=f"{KM}x{KK}x{KN}", work=kit.Work(flops=kflops),
                check=lambda: kit.assert_equal(cupy.asnumpy(out["cupy"]), kC_ref))
else:
    lab.skip("cuBLAS (CuPy)", why_not or "needs a GPU")
lab.mpi_context()

# %% [markdown]
# ## MPI: Scatterv the rows of A, Bcast B, Gatherv C

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit

lab = kit.join("matmul")
comm = MPI.COMM_WORLD
M, K, N = lab.pick(small=(1023, 1025, 1027), default=(2047, 2049, 2051), large=(4095, 4097, 4099))
rng = np.random.default_rng(6)
A = rng.integers(0, 4, (M, K)).astype(np.float32) if comm.rank == 0 else None
B = rng.integers(0, 4, (K, N)).astype(np.float32) if comm.rank == 0 else np.empty((K, N), np.float32)
rows = np.array([M // comm.size + (r < M % comm.size) for r in range(comm.size)])
row_offsets = np.concatenate(([0], np.cumsum(rows)[:-1]))
mine = np.empty((rows[comm.rank], K), np.float32)
C = np.empty((M, N), np.float32) if comm.rank == 0 else None


def mpi_matmul():
    comm.Scatterv([A, rows * K, row_offsets * K, MPI.FLOAT] if comm.rank == 0 else None, mine, root=0)
    comm.Bcast([B, MPI.FLOAT], root=0)
    comm.Gatherv(mine @ B, [C, rows * N, row_offsets * N, MPI.FLOAT] if comm.rank == 0 else None, root=0)


def check():
    if comm.rank == 0:
        kit.assert_equal(C, (A.astype(np.int64) @ B.astype(np.int64)).astype(np.float32))


lab.variant(f"MPI x{comm.size} (Scatterv, Bcast, Gatherv)", mpi_matmul, runs_as="mpi",
            workers=comm.size, size=f"{M}x{K}x{N}", work=kit.Work(flops=2.0 * M * N * K), check=check)
lab.finish()

# %%
lab.collect("matmul", ["MPI x2 (Scatterv, Bcast, Gatherv)"])

# %% [markdown]
# ## What the numbers say

# %%
lab.claim("shared tiles make the kernel faster than naive on a GPU" if lab.on_gpu else
          "NumPy's BLAS is faster than the Python loop per multiply-add",
          (lab.best("kernel tiled") < lab.best("kernel naive")) if lab.on_gpu else
          lab.best("NumPy (BLAS)") / flops < lab.best("Python") / (2.0 * n_python**3),
          "" if lab.on_gpu else f"{lab.best('Python') / (2.0 * n_python**3) / (lab.best('NumPy (BLAS)') / flops):.0f}x")
lab.finish()

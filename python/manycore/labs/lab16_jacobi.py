# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 16 of the course (jupytext percent format): `manycore labs open 16` makes the notebook.

# %% [markdown]
# # Lab 16: Jacobi relaxation (the heat stencil)
#
# The steady temperature of a plate with fixed edges: every inner cell becomes the mean of
# its four neighbours, again and again, until nothing changes by more than a tolerance.
# Each step reads the old field and writes a new one (two arrays: in place, a cell would
# read neighbours already updated). A **stencil**: every cell reads a few neighbours, so:
#
# - **NumPy**: the whole step as four shifted slices;
# - **naive kernel**: a thread per cell, four reads from global memory (each value is read by
#   four threads);
# - **shared halo tile**: a block loads its tile *plus a one-cell border* (the halo) into
#   shared memory once, waits, and computes from there;
# - **MPI**: the grid is cut into blocks, one per rank; before every step each rank sends its
#   edge cells to its neighbours' halos (`manycore.dist`: `CartGrid`, `exchange_halos`).
#
# Every version adds the four neighbours in the same order, in float64: after k steps all
# are **identical** to NumPy, bit for bit.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
import numpy as np

import manycore as mc
from manycore.dist.examples.heat2d import initial, serial
from manycore.labs import kit

lab = kit.start(16, size=SIZE, device=DEVICE, result=RESULT)
N, steps, tol = lab.pick(small=(514, 50, 1e-3), default=(4098, 200, 1e-3), large=(16386, 1000, 1e-4),
                         memory=lambda s: 3 * 8 * s[0] ** 2)
u0 = initial(N)
print(f"{N} x {N} float64 (boundary included), {steps} steps; tolerance {tol}")

# %% [markdown]
# ## NumPy

# %%
def jacobi_numpy(u0, steps):
    u, un = u0.copy(), u0.copy()
    for _ in range(steps):
        # BEGIN SOLUTION: the mean of the four neighbours of every inner cell, from u into un
        un[1:-1, 1:-1] = 0.25 * (((u[:-2, 1:-1] + u[2:, 1:-1]) + u[1:-1, :-2]) + u[1:-1, 2:])
        # END SOLUTION
        u, un = un, u
    return u


field = {}
lab.variant("NumPy slicing", lambda: field.__setitem__("numpy", jacobi_numpy(u0, steps)), runs_as="numpy",
            size=f"{N}^2 x {steps}", work=kit.Work(bytes=2 * 8 * N * N * steps, flops=4 * N * N * steps),
            check=lambda: kit.assert_equal(field["numpy"], serial(u0, steps)[0]))  # manycore.dist's own
reference = field["numpy"]
np.save(lab.workdir / "reference.npy", reference)


def to_tolerance():
    u, un = u0.copy(), u0.copy()
    for k in range(1, 200_000):
        un[1:-1, 1:-1] = 0.25 * (((u[:-2, 1:-1] + u[2:, 1:-1]) + u[1:-1, :-2]) + u[1:-1, 2:])
        residual = np.max(np.abs(un - u))
        u, un = un, u
        if residual < tol:
            break
    field["converged"] = (k, residual)


lab.variant("NumPy to the tolerance", to_tolerance, runs_as="numpy", size=f"{N}^2",
            check=lambda: kit.assert_equal(np.bool_(field["converged"][1] < tol), np.bool_(True),
                                           f"residual {field['converged'][1]:.2e} < {tol}"))
print(f"converged to {tol} in {field['converged'][0]} steps")

# %% [markdown]
# ## Kernels

# %%
SOURCE = r"""
#define BX 32
#define BY 8

__global__ void jacobi_naive(int n, const double* u, double* un) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i <= 0 || j <= 0 || i >= n - 1 || j >= n - 1) return;  // edges keep their values
    size_t k = (size_t)i * n + j;
    un[k] = 0.25 * (((u[k - n] + u[k + n]) + u[k - 1]) + u[k + 1]);
}

__global__ void jacobi_tiled(int n, const double* u, double* un) {
    __shared__ double t[BY + 2][BX + 2];
    int tx = threadIdx.x + 1, ty = threadIdx.y + 1;
    int j = blockIdx.x * BX + threadIdx.x, i = blockIdx.y * BY + threadIdx.y;
    bool inside = i < n && j < n;
    // BEGIN SOLUTION: load the tile and its halo (every thread its cell, the edge threads the border), then wait
    t[ty][tx] = inside ? u[(size_t)i * n + j] : 0.0;
    if (threadIdx.y == 0) t[0][tx] = i > 0 && j < n ? u[(size_t)(i - 1) * n + j] : 0.0;
    if (threadIdx.y == BY - 1) t[BY + 1][tx] = i + 1 < n && j < n ? u[(size_t)(i + 1) * n + j] : 0.0;
    if (threadIdx.x == 0) t[ty][0] = j > 0 && i < n ? u[(size_t)i * n + j - 1] : 0.0;
    if (threadIdx.x == BX - 1) t[ty][BX + 1] = j + 1 < n && i < n ? u[(size_t)i * n + j + 1] : 0.0;
    __syncthreads();
    // END SOLUTION
    if (!inside || i == 0 || j == 0 || i == n - 1 || j == n - 1) return;  // after the barrier
    un[(size_t)i * n + j] = 0.25 * (((t[ty - 1][tx] + t[ty + 1][tx]) + t[ty][tx - 1]) + t[ty][tx + 1]);
}
"""
module = lab.compile(SOURCE)
on = lab.device
grid = ((N + 31) // 32, (N + 7) // 8)
result = {}
for name in ("jacobi_naive", "jacobi_tiled"):
    f = module.get_function(name)
    pair = (mc.to_device(u0, on), mc.to_device(u0, on))

    def run(f=f, pair=pair, name=name):
        for d in pair:
            mc.copy(d, u0)
        a, b = pair
        for _ in range(steps):
            f(N, a, b, grid=grid, block=(32, 8))
            a, b = b, a
        result[name] = a

    lab.variant(f"kernel {name.split('_')[1]}", run, runs_as=f"manycore {on.kind}", kernels=[f],
                compiled="kernels", baseline="NumPy slicing", size=f"{N}^2 x {steps}",
                work=kit.Work(bytes=2 * 8 * N * N * steps, flops=4 * N * N * steps),
                check=lambda name=name: kit.assert_equal(result[name], reference))
lab.mpi_context()

# %% [markdown]
# ## MPI: blocks with halos, exchanged every step
#
# `manycore.dist.examples.heat2d` is the distributed solver: each rank keeps its block with a
# one-cell halo, `exchange_halos()` fills the halo from the neighbours, a kernel updates the
# block, and `gather` puts the field together on rank 0.

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np

from manycore import dist
from manycore.dist.examples.heat2d import Heat2D, initial
from manycore.labs import kit

lab = kit.join("jacobi")
comm = dist.world()
N, steps = lab.pick(small=(514, 50), default=(4098, 200), large=(16386, 1000))
grid = dist.CartGrid(comm, ndim=2)
u0 = initial(N) if comm.rank == 0 else None
reference = np.load(lab.parts.parent / "reference.npy") if comm.rank == 0 else None
out = {}


def mpi_jacobi():
    solver = Heat2D(grid, u0, device=lab.device)
    solver.run(steps)
    out["u"] = solver.gather()


lab.variant(f"MPI x{comm.size} halo exchange", mpi_jacobi, runs_as="mpi", workers=comm.size,
            size=f"{N}^2 x {steps}", work=kit.Work(bytes=2 * 8 * N * N * steps, flops=4 * N * N * steps),
            check=lambda: comm.rank != 0 or kit.assert_equal(out["u"], reference))
lab.finish()

# %%
lab.collect("jacobi", ["MPI x2 halo exchange"])
for v in lab.variants:
    if v.name.startswith("MPI"):
        v.baseline = "NumPy slicing"

# %% [markdown]
# ## What the numbers say

# %%
k, residual = field["converged"]
lab.claim(f"Jacobi reaches the tolerance {tol}", residual < tol, f"{k} steps, residual {residual:.2e}")
lab.claim("the MPI version is bitwise the serial one", lab.get("MPI x2 halo exchange").status == "passed",
          "exact equality after every step's halo exchange")
if lab.on_gpu:
    lab.claim("on a GPU the kernels are faster than NumPy",
              lab.best("kernel naive") < lab.best("NumPy slicing"),
              f"{lab.best('NumPy slicing') / lab.best('kernel naive'):.0f}x")
lab.finish()

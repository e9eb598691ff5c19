# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 12 of the course (jupytext percent format): `manycore labs open 12` makes the notebook.

# %% [markdown]
# # Lab 12: N-body
#
# N bodies attract each other by gravity, softened by ε so that close encounters stay finite:
#
#   a_i = Σ_j m_j (x_j − x_i) / (|x_j − x_i|² + ε²)^{3/2}
#
# and move by **leap-frog** (kick half a step, drift a step, kick half a step), which keeps
# the total momentum Σ m v exactly where it started, up to rounding: a check of any
# implementation. The force is N² work on N data, so it parallelises well:
#
# - **NumPy**: all pairs at once by broadcasting, (N, N, 3) arrays;
# - **MPI**: each rank computes the forces on its bodies and `Allgather` shares the new
#   positions (with the datatype of the data: `MPI.DOUBLE` for float64); or a master that
#   broadcasts positions and gathers the workers' forces;
# - **kernels**: a thread per body reading every other body from global memory, or the
#   classic **shared-memory tiles**: the block loads a tile of bodies together, all threads
#   use it, then the next.
#
# The MPI versions do the same arithmetic in the same order as the serial one, so they agree
# to 1e-12; the float32 kernels agree with the float64 forces to 1e-4.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(12, size=SIZE, device=DEVICE, result=RESULT)
n, steps, n_kernel = lab.pick(small=(258, 100, 4099), default=(1026, 100, 2**16 + 3),
                              large=(1026, 100, 2**20 + 3))
EPS2, DT = 1e-2, 1e-3
print(f"NumPy and MPI: {n} bodies, {steps} steps; kernels: {n_kernel} bodies, one force step")


def initial(count, seed=12):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 3))
    v = rng.standard_normal((count, 3)) * 0.1
    m = rng.uniform(0.5, 1.5, count) / count
    v -= (m[:, None] * v).sum(axis=0) / m.sum()  # total momentum zero
    return x, v, m

# %% [markdown]
# ## NumPy

# %%
def accelerations(x, m, rows=slice(None)):
    """Forces on bodies ``rows`` from all bodies (float64)."""
    # BEGIN SOLUTION: all pairs by broadcasting: d[i, j] = x[j] - x[i]
    d = x[None, :, :] - x[rows, None, :]
    r2 = (d * d).sum(axis=2) + EPS2
    return (d * (m[None, :] * r2 ** -1.5)[:, :, None]).sum(axis=1)
    # END SOLUTION


def leapfrog(x, v, m, steps):
    x, v = x.copy(), v.copy()
    a = accelerations(x, m)
    for _ in range(steps):
        v += 0.5 * DT * a
        x += DT * v
        a = accelerations(x, m)
        v += 0.5 * DT * a
    return x, v


x0, v0, m0 = initial(n)
state = {}
lab.variant("NumPy", lambda: state.__setitem__("numpy", leapfrog(x0, v0, m0, steps)),
            runs_as="numpy", workers=1, size=f"{n} x {steps} steps",
            work=kit.Work(flops=20 * n * n * steps),
            check=lambda: kit.assert_close(np.abs((m0[:, None] * state["numpy"][1]).sum(axis=0)),
                                           np.zeros(3), atol=1e-12))
np.save(lab.workdir / "serial_x.npy", state["numpy"][0])
lab.mpi_context()

# %% [markdown]
# ## MPI: Allgather, and master/worker

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit

lab = kit.join("nbody")
comm = MPI.COMM_WORLD
n, steps = lab.pick(small=(258, 100), default=(1026, 100), large=(1026, 100))
EPS2, DT = 1e-2, 1e-3
serial_x = np.load(lab.parts.parent / "serial_x.npy")


def initial(count, seed=12):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 3))
    v = rng.standard_normal((count, 3)) * 0.1
    m = rng.uniform(0.5, 1.5, count) / count
    v -= (m[:, None] * v).sum(axis=0) / m.sum()
    return x, v, m


def accelerations(x, m, rows=slice(None)):
    d = x[None, :, :] - x[rows, None, :]
    r2 = (d * d).sum(axis=2) + EPS2
    return (d * (m[None, :] * r2 ** -1.5)[:, :, None]).sum(axis=1)


assert n % comm.size == 0, "Allgather needs equal shares"
mine = slice(comm.rank * n // comm.size, (comm.rank + 1) * n // comm.size)
x0, v0, m = initial(n)
out = {}


def allgather_run():
    x, v = x0.copy(), v0[mine].copy()
    a = accelerations(x, m, mine)
    for _ in range(steps):
        v += 0.5 * DT * a
        local = x[mine] + DT * v
        comm.Allgather([local, MPI.DOUBLE], [x, MPI.DOUBLE])  # float64 data: MPI.DOUBLE
        a = accelerations(x, m, mine)
        v += 0.5 * DT * a
    out["x"] = x


def master_worker_run():
    x = x0.copy()
    v = v0.copy() if comm.rank == 0 else None
    forces = np.empty((n, 3)) if comm.rank == 0 else None
    comm.Bcast([x, MPI.DOUBLE], root=0)
    comm.Gather([accelerations(x, m, mine), MPI.DOUBLE], [forces, MPI.DOUBLE] if comm.rank == 0 else None, root=0)
    for _ in range(steps):
        if comm.rank == 0:
            v += 0.5 * DT * forces
            x += DT * v
        comm.Bcast([x, MPI.DOUBLE], root=0)
        comm.Gather([accelerations(x, m, mine), MPI.DOUBLE], [forces, MPI.DOUBLE] if comm.rank == 0 else None, root=0)
        if comm.rank == 0:
            v += 0.5 * DT * forces
    out["x"] = x


for name, fn in ((f"MPI x{comm.size} Allgather", allgather_run),
                 (f"MPI x{comm.size} master/worker", master_worker_run)):
    lab.variant(name, fn, runs_as="mpi", workers=comm.size, size=f"{n} x {steps} steps",
                work=kit.Work(flops=20 * n * n * steps),
                check=lambda: kit.assert_close(out["x"], serial_x, rtol=0, atol=1e-12))
lab.finish()

# %%
lab.collect("nbody", ["MPI x2 Allgather", "MPI x2 master/worker"])
for v in lab.variants:
    if v.name.startswith("MPI"):
        v.baseline = "NumPy"

# %% [markdown]
# ## Kernels: global memory, then shared tiles
#
# The tiled kernel loads TILE bodies into `__shared__` arrays (one per thread of the block),
# waits for the whole tile (`__syncthreads`), uses it, and waits again before the next tile
# overwrites it. Threads past the last body still take part in loading and in both barriers
# (a barrier must be reached by every thread of the block), and pad the tile with zero masses.

# %%
SOURCE = r"""
#define TILE 128

__device__ inline void pull(float xi, float yi, float zi, float xj, float yj, float zj, float mj,
                            float eps2, float& ax, float& ay, float& az) {
    float dx = xj - xi, dy = yj - yi, dz = zj - zi;
    float inv = rsqrtf(dx * dx + dy * dy + dz * dz + eps2);
    float s = mj * inv * inv * inv;
    ax += s * dx; ay += s * dy; az += s * dz;
}

__global__ void accel_global(int n, float eps2, const float* x, const float* y, const float* z,
                             const float* m, float* ax, float* ay, float* az) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float xi = x[i], yi = y[i], zi = z[i], sx = 0, sy = 0, sz = 0;
    for (int j = 0; j < n; ++j) pull(xi, yi, zi, x[j], y[j], z[j], m[j], eps2, sx, sy, sz);
    ax[i] = sx; ay[i] = sy; az[i] = sz;
}

__global__ void accel_tiled(int n, float eps2, const float* x, const float* y, const float* z,
                            const float* m, float* ax, float* ay, float* az) {
    __shared__ float tx[TILE], ty[TILE], tz[TILE], tm[TILE];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    bool live = i < n;
    float xi = live ? x[i] : 0, yi = live ? y[i] : 0, zi = live ? z[i] : 0;
    float sx = 0, sy = 0, sz = 0;
    for (int start = 0; start < n; start += TILE) {
        // BEGIN SOLUTION: load one body per thread into the tile (zero mass past the end), use the tile, and keep the barriers uniform
        int j = start + threadIdx.x;
        tx[threadIdx.x] = j < n ? x[j] : 0;
        ty[threadIdx.x] = j < n ? y[j] : 0;
        tz[threadIdx.x] = j < n ? z[j] : 0;
        tm[threadIdx.x] = j < n ? m[j] : 0;
        __syncthreads();
        for (int k = 0; k < TILE; ++k) pull(xi, yi, zi, tx[k], ty[k], tz[k], tm[k], eps2, sx, sy, sz);
        __syncthreads();
        // END SOLUTION
    }
    if (live) { ax[i] = sx; ay[i] = sy; az[i] = sz; }
}
"""
module = lab.compile(SOURCE)
kx, kv, km = initial(n_kernel, seed=3)
# The float64 reference for every body when there are few, else for 2048 bodies spread over
# the range (the last one included): all pairs at once would take n^2 * 24 bytes (100 GB at
# the default size), so the rows go through in chunks.
checked = np.arange(n_kernel) if n_kernel <= 8192 else np.linspace(0, n_kernel - 1, 2048).astype(np.int64)
reference = np.concatenate([accelerations(kx, km, checked[k:k + 64]) for k in range(0, checked.size, 64)])
on = lab.device
dev_in = [mc.to_device(np.ascontiguousarray(kx[:, c], dtype=np.float32), on) for c in range(3)]
d_m = mc.to_device(km.astype(np.float32), on)
scale = np.abs(reference).max()
for name, tile in (("accel_global", None), ("accel_tiled", 128)):
    f = module.get_function(name)
    outs = [mc.zeros(n_kernel, np.float32, on) for _ in range(3)]
    block = 128
    grid = ((n_kernel + block - 1) // block,)

    def force_step(f=f, outs=outs):
        f(n_kernel, np.float32(EPS2), *dev_in, d_m, *outs, grid=grid, block=(block,))

    lab.variant(f"kernel {name.split('_')[1]}", force_step, runs_as=f"manycore {on.kind}",
                kernels=[f], compiled="kernels", size=f"{n_kernel} bodies, 1 step",
                work=kit.Work(flops=20 * n_kernel * n_kernel),
                check=lambda outs=outs: kit.assert_close(np.stack([o.get()[checked] for o in outs], axis=1) / scale,
                                                         reference / scale, rtol=0, atol=1e-4))

# %% [markdown]
# ## What the numbers say

# %%
x_end, v_end = state["numpy"]
momentum = np.abs((m0[:, None] * v_end).sum(axis=0)).max()
lab.claim("leap-frog keeps the total momentum at zero (to 1e-12)", momentum <= 1e-12, f"{momentum:.1e}")
per_pair_numpy = lab.best("NumPy") / (n * n * steps)
per_pair_kernel = lab.best("kernel global") / n_kernel**2
lab.claim("a kernel computes a pair's force faster than NumPy's broadcasting",
          per_pair_kernel < per_pair_numpy,
          f"{per_pair_kernel * 1e9:.2f} vs {per_pair_numpy * 1e9:.2f} ns per pair")
lab.finish()

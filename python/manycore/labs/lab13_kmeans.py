# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 13 of the course (jupytext percent format): `manycore labs open 13` makes the notebook.

# %% [markdown]
# # Lab 13: k-means
#
# Lloyd's algorithm: assign every point to its nearest centroid, move every centroid to the
# mean of its points, repeat. The assignment is independent per point; the update is a sum
# per cluster. So each worker assigns its own points and sums them per cluster **locally**,
# and the partial sums are combined: by the parent process, by `Allreduce` on MPI ranks, or
# by atomic additions in a kernel.
#
# Checks: every variant gives the serial assignments and centroids from the same start
# (float64), and the inertia (sum of squared distances) never increases from one iteration
# to the next — Lloyd's algorithm can only improve it.

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

lab = kit.start(13, size=SIZE, device=DEVICE, result=RESULT)
n, K, iters = lab.pick(small=(10**5 + 3, 8, 20), default=(10**6 + 3, 8, 20),
                       large=(10**7 + 3, 8, 20))


points, start = lab_workers.blobs(n, K)  # Gaussian blobs; the ranks make the same
print(f"{n:,} points in 2-D, K = {K}, {iters} iterations")

# %% [markdown]
# ## Serial NumPy

# %%
def assign(points, centroids):
    d = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1), d.min(axis=1).sum()


def update(sums, counts, old):
    # BEGIN SOLUTION: the mean of each cluster; an empty cluster keeps its centroid
    new = old.copy()
    filled = counts > 0
    new[filled] = sums[filled] / counts[filled, None]
    return new
    # END SOLUTION


def kmeans_serial(points, centroids):
    inertia = []
    for _ in range(iters):
        labels, sse = assign(points, centroids)
        inertia.append(sse)
        sums = np.stack([np.bincount(labels, weights=points[:, d], minlength=K) for d in range(2)], axis=1)
        centroids = update(sums, np.bincount(labels, minlength=K), centroids)
    return labels, centroids, inertia


result = {}
lab.variant("NumPy", lambda: result.__setitem__("NumPy", kmeans_serial(points, start)),
            runs_as="numpy", workers=1, size=f"{n:,} x {iters} it",
            work=kit.Work(flops=6 * n * K * iters),
            check=lambda: kit.assert_equal(
                np.array([b <= a * (1 + 1e-12) for a, b in zip(result["NumPy"][2], result["NumPy"][2][1:])]),
                np.ones(iters - 1, bool), "inertia not increasing"))
labels_ref, centroids_ref, inertia_ref = result["NumPy"]
np.save(lab.workdir / "centroids.npy", centroids_ref)


def same_as_serial(name):
    def check():
        labels, centroids, history = result[name]
        inertia = [assign(points, c)[1] for c in history]
        kit.assert_equal(labels, labels_ref, f"{name}: assignments")
        kit.assert_close(centroids, centroids_ref, rtol=1e-12, atol=1e-12)
        assert all(b <= a * (1 + 1e-12) for a, b in zip(inertia, inertia[1:])), \
            f"{name}: the inertia increased: {inertia}"
    return check


assert all(b <= a * (1 + 1e-12) for a, b in zip(inertia_ref, inertia_ref[1:])), inertia_ref

# %% [markdown]
# ## Processes: each its slice, the parent adds
#
# The points go to each worker once, when it starts; every iteration sends only the
# centroids and brings back K sums and counts.

# %%
procs = 2
slices = np.array_split(np.arange(n), procs)
with mp.get_context("spawn").Pool(procs, lab_workers.keep_points, (points,)) as pool:
    pool.map(abs, range(procs))

    def kmeans_processes():
        centroids, history = start, []
        for _ in range(iters):
            history.append(centroids)
            parts = pool.starmap(lab_workers.kmeans_slice, [(s[0], s[-1] + 1, centroids) for s in slices])
            labels = np.concatenate([p[0] for p in parts])
            sums = sum(p[1] for p in parts)
            counts = sum(p[2] for p in parts)
            centroids = update(sums, counts, centroids)
        result[f"processes x{procs}"] = (labels, centroids, history)

    lab.variant(f"processes x{procs}", kmeans_processes, runs_as="processes", workers=procs,
                baseline="NumPy", size=f"{n:,} x {iters} it", work=kit.Work(flops=6 * n * K * iters),
                check=same_as_serial(f"processes x{procs}"))

# %% [markdown]
# ## A kernel: assignment per thread, sums by atomics
#
# Each thread takes one point, finds its nearest centroid, and adds the point to that
# cluster's sums with `atomicAdd` (float64). The order of the additions changes from run to
# run, so the centroids agree with the serial ones to rounding (1e-12), not bit for bit.

# %%
SOURCE = r"""
__global__ void assign_and_sum(int n, int k, const double* points, const double* centroids,
                               int* labels, double* sums, unsigned long long* counts) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double px = points[2 * i], py = points[2 * i + 1];
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < k; ++c) {
        double dx = px - centroids[2 * c], dy = py - centroids[2 * c + 1];
        double d = dx * dx + dy * dy;
        if (d < best_d) { best_d = d; best = c; }
    }
    labels[i] = best;
    atomicAdd(&sums[2 * best], px);
    atomicAdd(&sums[2 * best + 1], py);
    atomicAdd(&counts[best], 1ULL);
}
"""
assign_and_sum = lab.compile(SOURCE).get_function("assign_and_sum")
on = lab.device
d_points = mc.to_device(points, on)
d_labels = mc.empty(n, np.int32, on)
d_sums, d_counts = mc.zeros((K, 2), np.float64, on), mc.zeros(K, np.uint64, on)
zero_sums, zero_counts = np.zeros((K, 2)), np.zeros(K, np.uint64)


def kmeans_kernel():
    centroids, history = start, []
    for _ in range(iters):
        history.append(centroids)
        mc.copy(d_sums, zero_sums)
        mc.copy(d_counts, zero_counts)
        assign_and_sum(n, K, d_points, mc.to_device(centroids, on), d_labels, d_sums, d_counts,
                       grid=((n + 255) // 256,), block=(256,))
        centroids = update(d_sums.get(), d_counts.get().astype(np.int64), centroids)
    result["kernel"] = (d_labels.get(), centroids, history)


lab.variant("kernel (atomics)", kmeans_kernel, runs_as=f"manycore {on.kind}",
            kernels=[assign_and_sum], compiled="kernels", baseline="NumPy",
            size=f"{n:,} x {iters} it", work=kit.Work(flops=6 * n * K * iters),
            check=same_as_serial("kernel"))
lab.mpi_context()

# %% [markdown]
# ## MPI: local sums, then Allreduce

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit
from manycore.labs.workers import blobs

lab = kit.join("kmeans")
comm = MPI.COMM_WORLD
n, K, iters = lab.pick(small=(10**5 + 3, 8, 20), default=(10**6 + 3, 8, 20),
                       large=(10**7 + 3, 8, 20))
reference = np.load(lab.parts.parent / "centroids.npy")
points, start = blobs(n, K)
mine = np.array_split(points, comm.size)[comm.rank]
out = {}


def kmeans_mpi():
    centroids = start.copy()
    for _ in range(iters):
        d = ((mine[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        labels = d.argmin(axis=1)
        local = np.zeros((K, 3))  # per cluster: sum of x, sum of y, count
        for dim in range(2):
            local[:, dim] = np.bincount(labels, weights=mine[:, dim], minlength=K)
        local[:, 2] = np.bincount(labels, minlength=K)
        total = np.empty_like(local)
        comm.Allreduce([local, MPI.DOUBLE], [total, MPI.DOUBLE], op=MPI.SUM)
        filled = total[:, 2] > 0
        centroids[filled] = total[filled, :2] / total[filled, 2:3]
    out["centroids"] = centroids


lab.variant(f"MPI x{comm.size} (Allreduce)", kmeans_mpi, runs_as="mpi", workers=comm.size,
            size=f"{n:,} x {iters} it", work=kit.Work(flops=6 * n * K * iters),
            check=lambda: kit.assert_close(out["centroids"], reference, rtol=1e-12, atol=1e-12))
lab.finish()

# %%
lab.collect("kmeans", ["MPI x2 (Allreduce)"])

# %% [markdown]
# ## What the numbers say

# %%
lab.claim("the inertia never increases over the iterations (serial)",
          all(b <= a * (1 + 1e-12) for a, b in zip(inertia_ref, inertia_ref[1:])),
          f"{inertia_ref[0]:.4g} -> {inertia_ref[-1]:.4g}")
lab.claim("the kernel is faster than NumPy", lab.best("kernel (atomics)") < lab.best("NumPy"),
          f"{lab.best('NumPy') / lab.best('kernel (atomics)'):.1f}x")
lab.finish()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 9 of the course (jupytext percent format): `manycore labs open 9` makes the notebook.

# %% [markdown]
# # Lab 9: π by Monte Carlo
#
# Throw N random points into the unit square; the fraction p that lands inside the quarter
# circle x² + y² ≤ 1 tends to π/4. Every point is independent, so the work splits perfectly —
# *if* every worker draws from its **own** random stream. Two workers with the same seed
# throw the same points, and the estimate gets no better than one worker's.
#
# How close must the estimate be? The count is binomial: its standard error is
# σ = 4·sqrt(p(1−p)/N) with p = π/4. A correct program lands within 5σ of π except once in
# about 1.7 million runs, so that is the check. It is also a check of the workers' shares:
# when N does not divide evenly, the program must still draw exactly N points.
#
# Variants: pure Python, NumPy, threads and processes over NumPy (independent streams from one
# `SeedSequence`), MPI ranks with a reduce, and a kernel in which every thread draws from a
# counter-based generator (Philox, `manycore/random.h`): point i always gets the same random
# numbers, on any device and any launch shape.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import math
import multiprocessing as mp
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import manycore as mc
from manycore.labs import kit
from manycore.labs.workers import count_in_circle

lab = kit.start(9, size=SIZE, device=DEVICE, result=RESULT)
n_python, n_numpy, n_kernel = lab.pick(small=(10**6, 2 * 10**7 + 7, 5 * 10**7 + 7),
                                       default=(10**6, 10**8 + 7, 2**32 + 7),
                                       large=(10**6, 10**9 + 7, 2**36 + 7))
SEED = 2024
print(f"samples: Python {n_python:,}, NumPy {n_numpy:,}, kernel {n_kernel:,}")


def check_pi(inside, n, what):
    p = math.pi / 4
    sigma = 4 * math.sqrt(p * (1 - p) / n)
    estimate = 4 * inside / n
    assert abs(estimate - math.pi) <= 5 * sigma, \
        f"{what}: pi = {estimate:.7f}, off by {abs(estimate - math.pi) / sigma:.1f} sigma"


def shares(n, parts):
    """n split into `parts` whole shares, as even as possible, adding up to exactly n."""
    # BEGIN SOLUTION: the first n % parts workers take one point more
    return [n // parts + (k < n % parts) for k in range(parts)]
    # END SOLUTION


assert sum(shares(n_numpy, 3)) == n_numpy and max(shares(n_numpy, 3)) - min(shares(n_numpy, 3)) <= 1

# %% [markdown]
# ## Python and NumPy

# %%
results = {}


def python_pi():
    rnd = random.Random(SEED)
    inside = 0
    for _ in range(n_python):
        x, y = rnd.random(), rnd.random()
        inside += x * x + y * y <= 1.0
    results["Python"] = inside


lab.variant("Python", python_pi, runs_as="python", size=f"{n_python:,}",
            check=lambda: check_pi(results["Python"], n_python, "Python"))
lab.variant("NumPy", lambda: results.__setitem__("NumPy", count_in_circle(SEED, n_numpy)),
            runs_as="numpy", workers=1, size=f"{n_numpy:,}",
            check=lambda: check_pi(results["NumPy"], n_numpy, "NumPy"))

# %% [markdown]
# ## Threads and processes: one independent stream each
#
# `SeedSequence(SEED).spawn(k)` gives k seeds whose streams do not overlap. NumPy's generator
# releases the GIL while it fills an array, so threads run in parallel too.

# %%
def streams(k):
    return np.random.SeedSequence(SEED).spawn(k)


for workers in (2, 4):
    with ThreadPoolExecutor(workers) as pool:
        name = f"threads x{workers}"
        lab.variant(name, lambda: results.__setitem__(
                        name, sum(pool.map(count_in_circle, streams(workers), shares(n_numpy, workers)))),
                    runs_as="threads", workers=workers, baseline="NumPy", size=f"{n_numpy:,}",
                    check=lambda: check_pi(results[name], n_numpy, name))

procs = 2
with mp.get_context("spawn").Pool(procs) as pool:
    pool.map(abs, range(procs))
    name = f"processes x{procs}"
    lab.variant(name, lambda: results.__setitem__(
                    name, sum(pool.starmap(count_in_circle, zip(streams(procs), shares(n_numpy, procs))))),
                runs_as="processes", workers=procs, baseline="NumPy", size=f"{n_numpy:,}",
                check=lambda: check_pi(results[name], n_numpy, name))

# %% [markdown]
# ## A kernel with its own random numbers
#
# Point i uses the Philox counter i: `mc_random_bits(seed, i)` gives four 32-bit words, two for
# x and two for y. A grid-stride loop covers all N points whatever the grid; each thread adds
# its count once, atomically (one atomic per thread, not per point). The kernel also counts
# the points it drew, to prove it drew exactly N.

# %%
SOURCE = r"""
#include <manycore/random.h>

__global__ void throw_points(unsigned long long n, unsigned long long seed,
                             unsigned long long* inside, unsigned long long* drawn) {
    unsigned long long mine = 0, count = 0;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
         i < n; i += stride) {
        // BEGIN SOLUTION: draw x and y for point i, and count it when it is in the circle
        mc_philox4 r = mc_random_bits(seed, i);
        double x = mc_bits_to_double(r.v[0], r.v[1]);
        double y = mc_bits_to_double(r.v[2], r.v[3]);
        mine += x * x + y * y <= 1.0;
        // END SOLUTION
        ++count;
    }
    atomicAdd(inside, mine);
    atomicAdd(drawn, count);
}
"""
throw_points = lab.compile(SOURCE).get_function("throw_points")
counters = mc.zeros(2, np.uint64, lab.device)
inside_counter, drawn_counter = counters[0:1], counters[1:2]
blocks = 4 * max(lab.device.compute_units, 1) * (8 if lab.on_gpu else 1)
kernel_counts = []


def kernel_pi():
    mc.copy(counters, np.zeros(2, np.uint64))
    throw_points(n_kernel, SEED, inside_counter, drawn_counter, grid=(blocks,), block=(256,))


def check_kernel():
    inside, drawn = (int(x) for x in counters.get())
    kernel_counts.append(inside)
    assert drawn == n_kernel, f"the kernel drew {drawn:,} points, not {n_kernel:,}"
    check_pi(inside, n_kernel, "kernel")


lab.variant("kernel (Philox per point)", kernel_pi, runs_as=f"manycore {lab.device.kind}",
            kernels=[throw_points], compiled="kernels", size=f"{n_kernel:,}",
            work=kit.Work(flops=5 * n_kernel), check=check_kernel)

# %% [markdown]
# Reproducible: the same seed gives the same count, whatever the launch shape.

# %%
def other_shape():
    mc.copy(counters, np.zeros(2, np.uint64))
    throw_points(n_kernel, SEED, inside_counter, drawn_counter, grid=(blocks // 2 + 1,), block=(128,))


lab.variant("kernel, another launch shape", other_shape, runs_as=f"manycore {lab.device.kind}",
            kernels=[throw_points], size=f"{n_kernel:,}",
            check=lambda: kit.assert_equal(counters.get()[0], np.uint64(kernel_counts[0]),
                                           "count with another grid and block"))

# %% [markdown]
# ## MPI: every rank its share and its stream, then a reduce
#
# The lowercase `comm.reduce` sums Python integers (pickled); one integer per rank is
# nothing to send.

# %%
# %load_ext manycore.dist.magic
lab.mpi_context()

# %%
# %%mpirun -n 2 --timeout 300
import math

import numpy as np
from mpi4py import MPI

from manycore.labs import kit
from manycore.labs.workers import count_in_circle

lab = kit.join("pi")
comm = MPI.COMM_WORLD
n = lab.pick(small=3 * 10**7 + 7, default=10**8 + 7, large=10**9 + 7)
mine = n // comm.size + (comm.rank < n % comm.size)
seed = np.random.SeedSequence(2024).spawn(comm.size)[comm.rank]
total = {}


def mpi_pi():
    inside = count_in_circle(seed, mine)
    total["inside"] = comm.reduce(inside, op=MPI.SUM, root=0)
    total["drawn"] = comm.reduce(mine, op=MPI.SUM, root=0)


def check():
    if comm.rank == 0:
        assert total["drawn"] == n, f"{total['drawn']:,} points drawn, not {n:,}"
        p = math.pi / 4
        sigma = 4 * math.sqrt(p * (1 - p) / n)
        assert abs(4 * total["inside"] / n - math.pi) <= 5 * sigma


lab.variant(f"MPI x{comm.size} (reduce)", mpi_pi, runs_as="mpi", workers=comm.size,
            size=f"{n:,}", check=check)
lab.finish()

# %%
lab.collect("pi", ["MPI x2 (reduce)"])

# %% [markdown]
# ## What the numbers say

# %%
lab.claim("the same seed gives the same count (NumPy)", count_in_circle(SEED, 10**5) == count_in_circle(SEED, 10**5))
one, two = streams(2)
m = 10**5
lab.claim("spawned streams are independent: two workers throw different points",
          count_in_circle(one, m) != count_in_circle(two, m),
          f"{count_in_circle(one, m)} vs {count_in_circle(two, m)} of {m:,}")
same = [count_in_circle(SEED, m) for _ in range(2)]
lab.claim("one seed for every worker repeats the same points: 2N throws, N's information",
          same[0] == same[1], f"both workers counted {same[0]} of {m:,}")
lab.finish()

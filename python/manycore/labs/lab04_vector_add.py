# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 4 of the course (jupytext percent format): `manycore labs open 4` makes the notebook.

# %% [markdown]
# # Lab 4: vector and matrix addition
#
# `c = a + b` is the "hello world" of parallel programming: every element is independent, so
# the work splits any way you like. It is also the purest test of **memory bandwidth**: each
# element costs two loads, one store and a single addition, so no processor can be faster
# than its memory lets it be. This lab runs the same addition as a Python loop, with NumPy,
# with threads and processes over NumPy chunks, on MPI ranks, and as a CUDA-style kernel on
# the CPU (and on a GPU when there is one), and compares each with the machine's measured
# peak bandwidth.
#
# What to look for:
# - the Python loop is 100-1000 times slower than NumPy: every `+` is an interpreted call;
# - NumPy, threads and kernels all end up near the same bandwidth on the CPU: the memory is
#   the limit, not the arithmetic;
# - the sizes are *not* powers of two (10^7 + 3, 8191 x 8193): a kernel without a bounds
#   guard writes past the end, or leaves the tail unwritten, and the exact check catches it;
# - at the large size (5 x 2^30 elements, 65536^2 matrices) `row * N + col` no longer fits in
#   a 32-bit `int`: the kernels index with `size_t`.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto (the largest that fits the device's memory)
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(4, size=SIZE, device=DEVICE, result=RESULT)
n, (rows, cols), n_python = lab.pick(
    small=(10**7 + 3, (8191, 8193), 10**6),
    default=(2**28 + 3, (16381, 16387), 10**6),
    large=(5 * 2**30, (65536, 65536), 10**6),
    memory=lambda s: 3 * 4 * max(s[0], s[1][0] * s[1][1]),
)
print(f"1-D: {n:,} float32; 2-D: {rows} x {cols} float32; Python loop: {n_python:,}")

# %% [markdown]
# ## The reference
#
# The sum of two float32 numbers, computed exactly in float64 and rounded once to float32, is
# what a float32 addition must give bit for bit. So every variant is checked for **exact**
# equality, never "close enough".

# %%
rng = np.random.default_rng(4)
a = rng.random(n, dtype=np.float32)
b = rng.random(n, dtype=np.float32)
reference = (a.astype(np.float64) + b).astype(np.float32)
c = np.empty_like(a)
work_1d = kit.Work(bytes=3 * 4 * n)

# %% [markdown]
# ## Python and NumPy
#
# The Python loop runs on the first 10^6 elements only (the whole vector would take minutes);
# its time is per element, like everyone else's once you divide.

# %%
xs, ys = a[:n_python].tolist(), b[:n_python].tolist()
out_py = [0.0] * n_python


def python_add():
    for i in range(n_python):
        out_py[i] = xs[i] + ys[i]


# Python adds in float64: rounded to float32 it is the reference.
lab.variant("Python loop", python_add, group="1-D", runs_as="python", size=f"{n_python:,}",
            work=kit.Work(bytes=3 * 4 * n_python),
            check=lambda: kit.assert_equal(np.float32(out_py), reference[:n_python]))
lab.variant("NumPy", lambda: np.add(a, b, out=c), group="1-D", runs_as="numpy", workers=1,
            size=f"{n:,}", work=work_1d, check=lambda: kit.assert_equal(c, reference))

# %% [markdown]
# ## Threads and processes on chunks
#
# NumPy releases the GIL inside `np.add`, so threads over chunks of the arrays do run in
# parallel. Processes cannot share Python objects; with `multiprocessing.shared_memory` the
# arrays live in memory every worker maps, and only their names travel (pickling 10^7
# elements to each worker would cost more than the addition).

# %%
def chunks(count, parts):
    edges = np.linspace(0, count, parts + 1).astype(np.int64)
    return list(zip(edges[:-1], edges[1:]))


def threaded_add(pool, parts):
    list(pool.map(lambda se: np.add(a[se[0]:se[1]], b[se[0]:se[1]], out=c[se[0]:se[1]]),
                  chunks(n, parts)))  # list(): wait for every chunk, and raise its errors


for workers in (2, 4):
    with ThreadPoolExecutor(workers) as pool:
        c[:] = 0
        lab.variant(f"threads x{workers}", lambda: threaded_add(pool, workers), group="1-D",
                    runs_as="threads", workers=workers, size=f"{n:,}", work=work_1d,
                    baseline="NumPy", check=lambda: kit.assert_equal(c, reference))

# %%
import multiprocessing as mp
from multiprocessing import shared_memory

from manycore.labs import workers as lab_workers

blocks = [shared_memory.SharedMemory(create=True, size=a.nbytes) for _ in range(3)]
sa, sb, sc = (np.ndarray(a.shape, np.float32, buffer=blk.buf) for blk in blocks)
sa[:], sb[:] = a, b
names = tuple(blk.name for blk in blocks)
procs = min(2, os.cpu_count() or 1)
# Each worker maps the three blocks once, when it starts; a task then sends two integers.
with mp.get_context("spawn").Pool(procs, lab_workers.attach,
                                   (names, a.shape, "float32")) as pool:
    pool.map(abs, range(procs))  # the workers have started before the timing
    lab.variant(f"processes x{procs} (shared memory)",
                lambda: pool.starmap(lab_workers.add_slice, chunks(n, procs)),
                group="1-D", runs_as="processes", workers=procs, size=f"{n:,}", work=work_1d,
                baseline="NumPy", check=lambda: kit.assert_equal(sc, reference))
del sa, sb, sc
for blk in blocks:
    blk.close()
    blk.unlink()

# %% [markdown]
# ## The kernel
#
# One thread per element. The grid is rounded *up* to whole blocks, so the last block has
# threads past the end of the arrays: the guard `if (i < n)` keeps them from writing there.
# The index is a `size_t`: `blockIdx.x * blockDim.x` in `int` overflows past 2^31 elements.

# %%
SOURCE = r"""
__global__ void add_1d(size_t n, const float* a, const float* b, float* c) {
    // BEGIN SOLUTION: the global index of this thread (64-bit), and the guard
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
    // END SOLUTION
}

__global__ void add_2d(int rows, int cols, const float* a, const float* b, float* c) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    // BEGIN SOLUTION: guard both coordinates, then index with size_t (row * cols overflows int)
    if (row < rows && col < cols) {
        size_t k = (size_t)row * cols + col;
        c[k] = a[k] + b[k];
    }
    // END SOLUTION
}
"""
module = lab.compile(SOURCE)
add_1d, add_2d = module.get_function("add_1d"), module.get_function("add_2d")
print("add_1d runs as:", kit.execution_mode(add_1d))

# %%
block = 256
grid = ((n + block - 1) // block,)
on = lab.device
d_a, d_b, d_c = mc.to_device(a, on), mc.to_device(b, on), mc.zeros(n, np.float32, on)

lab.variant("kernel", lambda: add_1d(n, d_a, d_b, d_c, grid=grid, block=(block,)),
            group="1-D", runs_as=f"manycore {on.kind}", size=f"{n:,}", work=work_1d,
            kernels=[add_1d], compiled="kernels", baseline="NumPy",
            check=lambda: kit.assert_equal(d_c, reference))

# %% [markdown]
# With the copies: on a GPU the arrays start on the host, go to the device and come back, and
# the copies cost far more than the addition (PCIe moves tens of GB/s, the GPU's memory
# thousands). On the CPU `mc.to_device` is a copy in memory.

# %%
h_c = np.empty_like(a)


def copy_in():
    global d_a, d_b
    d_a, d_b = mc.to_device(a, on), mc.to_device(b, on)


lab.variant("kernel with copies", lambda: add_1d(n, d_a, d_b, d_c, grid=grid, block=(block,)),
            copy_in=copy_in, copy_out=lambda: mc.copyto(h_c, d_c),
            group="1-D", runs_as=f"manycore {on.kind}", size=f"{n:,}", work=work_1d,
            kernels=[add_1d], compiled="kernels",
            check=lambda: kit.assert_equal(h_c, reference))

# %% [markdown]
# ### GPU-only variants: pinned memory, and data made on the device
#
# Copies from *pinned* (page-locked) host memory go at the bus's full speed; from ordinary
# pageable memory the driver stages them. And data that is *made* on the device (by a random
# generator there) never crosses the bus at all.

# %%
if lab.on_gpu:
    pinned = mc.pinned_empty(n, np.float32)
    pinned[:] = a
    lab.variant("copy to device, pageable", lambda: mc.copyto(d_a, a), group="copies",
                runs_as="copy", size=f"{n:,}", work=kit.Work(bytes=4 * n),
                check=lambda: kit.assert_equal(d_a, a))
    lab.variant("copy to device, pinned", lambda: mc.copyto(d_a, pinned), group="copies",
                runs_as="copy", size=f"{n:,}", work=kit.Work(bytes=4 * n),
                baseline="copy to device, pageable", check=lambda: kit.assert_equal(d_a, a))
    g_a = mc.random.uniform(n, dtype=np.float32, device=on, seed=1)
    g_b = mc.random.uniform(n, dtype=np.float32, device=on, seed=2)
    lab.variant("kernel on generated data",
                lambda: add_1d(n, g_a, g_b, d_c, grid=grid, block=(block,)), group="1-D",
                runs_as=f"manycore {on.kind}", size=f"{n:,}", work=work_1d, kernels=[add_1d],
                check=lambda: kit.assert_equal(
                    d_c, (g_a.get().astype(np.float64) + g_b.get()).astype(np.float32)))
    del pinned, g_a, g_b
else:
    for name in ("copy to device, pageable", "copy to device, pinned", "kernel on generated data"):
        lab.skip(name, "needs a GPU: on the CPU the kernel reads the host's memory directly",
                 group="copies")

# %% [markdown]
# ### PyCUDA's In/Out
#
# PyCUDA's `drv.In(a)` / `drv.Out(c)` copy around each launch implicitly: convenient, and the
# copies then hide inside the kernel's time. Through manycore's PyCUDA layer the same program
# runs unchanged; its time is the kernel *with* both copies.

# %%
import importlib.util

if importlib.util.find_spec("manycore.pycuda") is None:
    lab.skip("PyCUDA form: drv.In / drv.Out", "the PyCUDA layer (manycore.pycuda) is not in this version",
             group="copies")
else:
    from manycore.pycuda import driver as drv
    from manycore.pycuda.compiler import SourceModule as PyCudaModule

    py_add = PyCudaModule(SOURCE).get_function("add_1d")
    c_io = np.zeros_like(a)
    lab.variant("PyCUDA form: drv.In / drv.Out",
                lambda: py_add(np.uint64(n), drv.In(a), drv.In(b), drv.Out(c_io), grid=grid, block=(block, 1, 1)),
                group="copies", runs_as="manycore.pycuda", size=f"{n:,}", work=work_1d,
                check=lambda: kit.assert_equal(c_io, reference))

# %% [markdown]
# ### Block size
#
# Each block size gives the same answer; the time changes little on the CPU (a block is a
# loop) and on a GPU mostly through occupancy: blocks of 32 threads leave most of a
# multiprocessor's warp slots empty.

# %%
occupancy = getattr(mc, "occupancy", None)
for bs in (32, 64, 128, 256, 512, 1024):
    d_c = mc.zeros(n, np.float32, on)  # a fresh output: the check sees this block size's work
    g = ((n + bs - 1) // bs,)
    note = ""
    if occupancy is not None:
        note = f"occupancy {occupancy(add_1d, (bs,))}"
    lab.variant(f"block {bs}", lambda: add_1d(n, d_a, d_b, d_c, grid=g, block=(bs,)),
                group="block sweep", runs_as=f"manycore {on.kind}", size=f"{n:,}",
                work=work_1d, kernels=[add_1d], note=note,
                check=lambda: kit.assert_equal(d_c, reference))
del d_a, d_b, d_c

# %% [markdown]
# ## 2-D: a matrix, a 2-D grid of 2-D blocks
#
# 8191 x 8193 is divisible by no block shape, so both guards matter. Blocks of 32 x 8: 32
# threads along a row touch 32 neighbouring floats, one 128-byte line (coalesced).

# %%
del a, b, c, reference
A = rng.random((rows, cols), dtype=np.float32)
B = rng.random((rows, cols), dtype=np.float32)
reference_2d = (A.astype(np.float64) + B).astype(np.float32)
C = np.empty_like(A)
work_2d = kit.Work(bytes=3 * 4 * rows * cols)
lab.variant("NumPy 2-D", lambda: np.add(A, B, out=C), group="2-D", runs_as="numpy",
            size=f"{rows}x{cols}", work=work_2d, check=lambda: kit.assert_equal(C, reference_2d))

d_A, d_B, d_C = mc.to_device(A, on), mc.to_device(B, on), mc.zeros((rows, cols), np.float32, on)
block_2d = (32, 8)
grid_2d = ((cols + 31) // 32, (rows + 7) // 8)
lab.variant("kernel 2-D", lambda: add_2d(rows, cols, d_A, d_B, d_C, grid=grid_2d, block=block_2d),
            group="2-D", runs_as=f"manycore {on.kind}", size=f"{rows}x{cols}", work=work_2d,
            kernels=[add_2d], compiled="kernels", baseline="NumPy 2-D",
            check=lambda: kit.assert_equal(d_C, reference_2d))
del d_A, d_B, d_C, A, B, C

# %% [markdown]
# ## MPI: each rank adds its slice
#
# Rank 0 holds the vectors; `Scatterv` sends each rank its slice (the counts differ by one
# when the ranks do not divide n), every rank adds, `Gatherv` brings the slices back. The
# time includes the messages, which is the lesson: for one addition per element, moving the
# data costs more than the work.

# %%
# %load_ext manycore.dist.magic
lab.mpi_context()

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit

lab = kit.join("slices")
comm = MPI.COMM_WORLD
n = lab.pick(small=10**7 + 3, default=2**26 + 3, large=2**28 + 3)
counts = np.array([n // comm.size + (r < n % comm.size) for r in range(comm.size)])
offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
if comm.rank == 0:
    rng = np.random.default_rng(4)
    a, b = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    c = np.empty(n, np.float32)
else:
    a = b = c = None
mine = counts[comm.rank]
la, lb = np.empty(mine, np.float32), np.empty(mine, np.float32)


def mpi_add():
    comm.Scatterv([a, counts, offsets, MPI.FLOAT], la, root=0)
    comm.Scatterv([b, counts, offsets, MPI.FLOAT], lb, root=0)
    comm.Gatherv(la + lb, [c, counts, offsets, MPI.FLOAT], root=0)


def check():
    if comm.rank == 0:
        kit.assert_equal(c, (a.astype(np.float64) + b).astype(np.float32))


lab.variant(f"MPI x{comm.size} (Scatterv, add, Gatherv)", mpi_add, group="MPI", runs_as="mpi",
            workers=comm.size, size=f"{n:,}", work=kit.Work(bytes=3 * 4 * n), check=check)
lab.finish()

# %%
lab.collect("slices", ["MPI x2 (Scatterv, add, Gatherv)"])

# %% [markdown]
# ## What the numbers say

# %%
kernel = lab.get("kernel")
lab.claim("the Python loop is at least 20x slower per element than NumPy",
          lab.median("Python loop") / n_python > 20 * lab.median("NumPy") / n,
          f"{lab.median('Python loop') / n_python * 1e9:.1f} ns vs "
          f"{lab.median('NumPy') / n * 1e9:.2f} ns per element")
if lab.on_gpu:
    peak = lab.peak()["bandwidth"]
    achieved = kernel.throughput(lab.peak()).get("GB/s", 0) * 1e9
    lab.claim("the GPU kernel reaches at least 70% of a device-to-device copy's bandwidth",
              achieved >= 0.7 * peak, f"{achieved / 1e9:.0f} of {peak / 1e9:.0f} GB/s")
else:
    lab.claim("the kernel is within 3x of NumPy's bandwidth on the CPU (both memory-bound)",
              lab.median("kernel") < 3 * lab.median("NumPy"),
              f"kernel {lab.median('kernel') * 1e3:.1f} ms, NumPy {lab.median('NumPy') * 1e3:.1f} ms")
lab.finish()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 15 of the course (jupytext percent format): `manycore labs open 15` makes the notebook.

# %% [markdown]
# # Lab 15: GPU memory spaces and occupancy
#
# A GPU thread can keep a value in:
#
# | space | where | who sees it | cost |
# |---|---|---|---|
# | register | in the multiprocessor | the thread | none |
# | global | device memory (HBM) | everyone | hundreds of cycles, hidden by other warps |
# | shared | on-chip, per block | the block | a few cycles; bank conflicts |
# | constant | device memory, cached, broadcast | everyone, read-only | one read for a whole warp when all read the same address |
#
# Each kernel below adds a value `reps` times and writes the sum, reading the value from a
# different space each time; one reloads it from shared memory behind a `__syncthreads` at
# every step, to show what barriers cost. All must give the same float32 sum.
#
# The CPU baseline must do the same arithmetic: *accumulate* 0.1f `reps` times. Computing
# `0.1f * reps` instead (or dividing a total by the count) is a different number in float32
# — a baseline that makes correct kernels look wrong.
#
# **Occupancy**: a multiprocessor runs a limited number of warps at once; blocks of 32 threads
# leave most of its slots empty, blocks of 1024 may not fit when each thread needs many
# registers. The block-size sweep shows the effect on a GPU; on the CPU a block is a loop and
# the block size matters little.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(15, size=SIZE, device=DEVICE, result=RESULT)
n, reps = lab.pick(small=(2**16 + 1, 64), default=(2**22 + 1, 256), large=(2**28 + 1, 256),
                   memory=lambda s: 8 * s[0])
VALUE = np.float32(0.1)
print(f"{n:,} threads, {reps} additions each")

# %% [markdown]
# ## The CPU baseline: accumulated, not multiplied

# %%
def accumulate():
    acc = np.zeros(n, np.float32)
    # BEGIN SOLUTION: add VALUE reps times, in float32, as the kernels do
    for _ in range(reps):
        acc += VALUE
    # END SOLUTION
    return acc


def one_sum():
    """The same sum for one element, with NumPy float32 scalars."""
    acc = np.float32(0)
    for _ in range(reps):
        acc = np.float32(acc + VALUE)
    return acc


baseline = {}
lab.variant("CPU baseline (NumPy, accumulated)", lambda: baseline.__setitem__("acc", accumulate()),
            runs_as="numpy", size=f"{n:,} x {reps}",
            check=lambda: kit.assert_equal(baseline["acc"], np.full(n, one_sum(), np.float32)))


# %% [markdown]
# ## Five kernels

# %%
SOURCE = r"""
#define BLOCK 256
__constant__ float constant_value = 0.1f;

__global__ void in_register(int n, int reps, float value, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float acc = 0.0f;
    for (int r = 0; r < reps; ++r) acc += value;
    out[i] = acc;
}

__global__ void from_global(int n, int reps, const float* value, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float acc = 0.0f;
    for (int r = 0; r < reps; ++r) acc += value[i];
    out[i] = acc;
}

__global__ void from_shared(int n, int reps, const float* value, float* out) {
    __shared__ float s[BLOCK];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? value[i] : 0.0f;
    __syncthreads();
    float acc = 0.0f;
    for (int r = 0; r < reps; ++r) acc += s[threadIdx.x];
    if (i < n) out[i] = acc;
}

__global__ void shared_with_barriers(int n, int reps, const float* value, float* out) {
    __shared__ float s[BLOCK];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float acc = 0.0f;
    for (int r = 0; r < reps; ++r) {
        // BEGIN SOLUTION: every step: write the shared slot, wait, read it, wait before the next write
        s[threadIdx.x] = i < n ? value[i] : 0.0f;
        __syncthreads();
        acc += s[threadIdx.x];
        __syncthreads();
        // END SOLUTION
    }
    if (i < n) out[i] = acc;
}

__global__ void from_constant(int n, int reps, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float acc = 0.0f;
    for (int r = 0; r < reps; ++r) acc += constant_value;
    out[i] = acc;
}
"""
# -ffp-contract=off / --fmad=false: the additions round as NumPy's do.
module = lab.compile(SOURCE, options=["--fmad=false"] if lab.on_gpu else ["-O3", "-march=native", "-ffp-contract=off"])
on = lab.device
d_value = mc.to_device(np.full(n, VALUE, np.float32), on)
B = 256
grid = ((n + B - 1) // B,)
launches = {
    "in_register": lambda f, out: f(n, reps, VALUE, out, grid=grid, block=(B,)),
    "from_global": lambda f, out: f(n, reps, d_value, out, grid=grid, block=(B,)),
    "from_shared": lambda f, out: f(n, reps, d_value, out, grid=grid, block=(B,)),
    "shared_with_barriers": lambda f, out: f(n, reps, d_value, out, grid=grid, block=(B,)),
    "from_constant": lambda f, out: f(n, reps, out, grid=grid, block=(B,)),
}
for name, launch in launches.items():
    f = module.get_function(name)
    out = mc.zeros(n, np.float32, on)
    lab.variant(f"kernel {name}", lambda f=f, out=out, launch=launch: launch(f, out),
                runs_as=f"manycore {on.kind}", kernels=[f], compiled="kernels",
                baseline="kernel in_register", size=f"{n:,} x {reps}",
                work=kit.Work(flops=n * reps),
                check=lambda out=out: kit.assert_equal(out, baseline["acc"]))

# %% [markdown]
# ## Block size sweep

# %%
occupancy = getattr(mc, "occupancy", None)
f = module.get_function("in_register")
for block in (32, 64, 128, 256, 512, 1024):
    out = mc.zeros(n, np.float32, on)
    g = ((n + block - 1) // block,)
    lab.variant(f"block {block}", lambda out=out, g=g, block=block: f(n, reps, VALUE, out, grid=g, block=(block,)),
                group="block sweep", runs_as=f"manycore {on.kind}", kernels=[f],
                size=f"{n:,} x {reps}", work=kit.Work(flops=n * reps),
                note=f"occupancy {occupancy(f, (block,))}" if occupancy else "",
                check=lambda out=out: kit.assert_equal(out, baseline["acc"]))

# %% [markdown]
# ## What the numbers say

# %%
multiplied = np.float32(VALUE * np.float32(reps))
lab.claim("accumulating 0.1f differs from multiplying it: the baseline must accumulate",
          baseline["acc"][0] != multiplied, f"accumulated {baseline['acc'][0]!r}, multiplied {multiplied!r}")
# On the CPU, loop fission cuts the barrier kernel at each __syncthreads into loops over the
# block's threads: a barrier is where one loop ends and the next begins, and nothing waits.
barriers = kit.execution_mode(module.get_function("shared_with_barriers"))
ratio = lab.best("kernel shared_with_barriers") / lab.best("kernel from_shared")
lab.claim("a barrier at every step costs time (slower than reading shared memory once)",
          ratio > 1, f"{ratio:.1f}x",
          skip="" if barriers in ("gpu", "fibers") else
          f"on the CPU the barriers are loop boundaries (the kernel runs as {barriers}), {ratio:.1f}x")
lab.finish()

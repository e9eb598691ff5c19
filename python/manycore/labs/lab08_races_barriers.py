# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 8 of the course (jupytext percent format): `manycore labs open 8` makes the notebook.

# %% [markdown]
# # Lab 8: races and barriers
#
# Rotate an array left by one, in place: `a[i] = a[i + 1]`. Thread i reads what thread i + 1
# writes. Unless every read happens before the write it depends on, the result depends on
# the order the threads happen to run in: a **race**. Within a block, `__syncthreads()`
# orders them: everyone reads, barrier, everyone writes. Between blocks there is no barrier
# at all — only the end of a kernel, or writing somewhere else (out of place).
#
# A barrier has its own rule: **every** thread of the block must reach the **same**
# `__syncthreads`. One inside an `if` that splits the block is undefined behaviour on a GPU
# (a hang, or silently wrong data).
#
# A race may give the right answer nine times and the wrong one the tenth, so testing the
# output proves little. **Checked mode** (`mc.SourceModule(..., checked=True)`, or
# `manycore check script.py`) runs the kernel on the CPU and records every access: it reports
# the race, with the two threads and the line, and the divergent barrier, every time. On a
# GPU, `compute-sanitizer --tool racecheck` / `synccheck` (`manycore check --sanitizer`) do
# the same.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import shutil
import subprocess
import sys

import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(8, size=SIZE, device=DEVICE, result=RESULT)
n, n_checked = lab.pick(small=(10**6 + 3, 10**5 + 3), default=(2**24 + 3, 10**5 + 3),
                        large=(2**28 + 3, 10**6 + 3))
rng = np.random.default_rng(8)
a0 = rng.random(n, dtype=np.float32)
rotated = np.roll(a0, -1)
print(f"{n:,} float32; checked runs on {n_checked:,}")

SOURCE = r"""
// One block walks the array in chunks of blockDim.x: read, barrier, write, barrier.
__global__ void rotate_one_block(int n, float* a) {
    __shared__ float first;
    if (threadIdx.x == 0) first = a[0];
    __syncthreads();
    for (int start = 0; start < n - 1; start += blockDim.x) {
        int i = start + threadIdx.x;
        // BEGIN SOLUTION: read the right neighbour, wait until every thread has read, then write
        float next = i < n - 1 ? a[i + 1] : 0.0f;
        __syncthreads();
        if (i < n - 1) a[i] = next;
        __syncthreads();
        // END SOLUTION
    }
    if (threadIdx.x == 0) a[n - 1] = first;
}

// Many blocks in place: block b's last thread reads what block b + 1's first thread writes.
__global__ void rotate_racy(int n, float* a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) a[i] = a[i + 1];
}

__global__ void rotate_out_of_place(int n, const float* a, float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) b[i] = a[i + 1 < n ? i + 1 : 0];
}

__global__ void copy(int n, const float* a, float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) b[i] = a[i];
}

__global__ void add_next_racy(int n, float* a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) a[i] += a[i + 1];
}

__global__ void add_next(int n, const float* a, float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) b[i] = a[i] + a[i + 1];
}

// Half the block waits at one barrier, half at another.
__global__ void scale_divergent(int n, const float* a, float* b) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (threadIdx.x < 128) {
        s[threadIdx.x] = i < n ? a[i] : 0.0f;
        __syncthreads();
    } else {
        s[threadIdx.x] = i < n ? 2.0f * a[i] : 0.0f;
        __syncthreads();
    }
    if (i < n) b[i] = s[blockDim.x - 1 - threadIdx.x];
}

// The fix: one barrier that every thread reaches.
__global__ void scale_uniform(int n, const float* a, float* b) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = i < n ? a[i] : 0.0f;
    s[threadIdx.x] = threadIdx.x < 128 ? v : 2.0f * v;
    __syncthreads();
    if (i < n) b[i] = s[blockDim.x - 1 - threadIdx.x];
}
"""
module = lab.compile(SOURCE)
checked = lab.compile(SOURCE, name="checked kernels", checked=True, device="cpu")
on = lab.device
B = 256
grid = ((n + B - 1) // B,)

# %% [markdown]
# ## The correct rotations

# %%
d_a = mc.to_device(a0, on)
d_b = mc.zeros(n, np.float32, on)
f1 = module.get_function("rotate_one_block")
lab.variant("rotate: one block in place, with barriers", lambda: f1(n, d_a, grid=(1,), block=(1024,)),
            reset=lambda: mc.copy(d_a, a0), runs_as=f"manycore {on.kind}", kernels=[f1],
            compiled="kernels", size=f"{n:,}", work=kit.Work(bytes=8 * n),
            check=lambda: kit.assert_equal(d_a, rotated))
f2 = module.get_function("rotate_out_of_place")
d_a = mc.to_device(a0, on)
lab.variant("rotate: out of place", lambda: f2(n, d_a, d_b, grid=grid, block=(B,)),
            runs_as=f"manycore {on.kind}", kernels=[f2], compiled="kernels", size=f"{n:,}",
            work=kit.Work(bytes=8 * n), check=lambda: kit.assert_equal(d_b, rotated))
fcopy = module.get_function("copy")
d_c = mc.zeros(n, np.float32, on)


def two_kernels():
    f2(n, d_a, d_c, grid=grid, block=(B,))    # the end of a kernel is the barrier of the grid
    fcopy(n, d_c, d_a, grid=grid, block=(B,))


lab.variant("rotate: two kernels, in place", two_kernels, reset=lambda: mc.copy(d_a, a0),
            runs_as=f"manycore {on.kind}", kernels=[f2, fcopy], compiled="kernels", size=f"{n:,}",
            work=kit.Work(bytes=16 * n), check=lambda: kit.assert_equal(d_a, rotated))
fadd = module.get_function("add_next")
sums = np.append(a0[:-1] + a0[1:], np.float32(0))
d_a = mc.to_device(a0, on)
lab.variant("a[i] + a[i+1]: out of place", lambda: fadd(n, d_a, d_b, grid=grid, block=(B,)),
            reset=lambda: mc.copy(d_b, np.zeros(n, np.float32)), runs_as=f"manycore {on.kind}",
            kernels=[fadd], compiled="kernels", size=f"{n:,}", work=kit.Work(bytes=12 * n),
            check=lambda: kit.assert_equal(d_b, sums))

# %% [markdown]
# ## Checked mode finds the bugs
#
# The checked launches run on the CPU, whatever the lab's device. A launch that finds
# problems raises `mc.KernelFault`; its `findings` say what, where and which threads.

# %%
small = a0[:n_checked]
findings = {}


def run_checked(name, kernel, *args, block=B):
    def run():
        try:
            kernel(*args, grid=((n_checked + block - 1) // block,), block=(block,))
            findings[name] = []
        except mc.KernelFault as fault:
            findings[name] = fault.findings
    return run


def reported(name, kind, variable):
    def check():
        kinds = {(f.kind, f.variable if variable else None) for f in findings[name]}
        assert (kind, variable) in kinds, f"{name}: expected a {kind} on '{variable}', got {kinds}"
    return check


cases = [
    ("rotate: many blocks in place (race), checked", "rotate_racy", "race", "a", lambda: (n_checked, small.copy())),
    ("a[i] += a[i+1] in place (race), checked", "add_next_racy", "race", "a", lambda: (n_checked, small.copy())),
    ("__syncthreads in a divergent branch, checked", "scale_divergent", "barrier-divergence", None,
     lambda: (n_checked, small, np.zeros(n_checked, np.float32))),
]
for name, kernel, kind, variable, args in cases:
    f = checked.get_function(kernel)
    lab.variant(name, run_checked(name, f, *args()), runs_as="manycore cpu (checked)", kernels=[f],
                compiled="checked kernels", size=f"{n_checked:,}",
                check=reported(name, kind, variable))

uniform = checked.get_function("scale_uniform")
out = np.zeros(n_checked, np.float32)
expected = np.zeros(n_checked, np.float32)
for start in range(0, n_checked, B):
    block_in = np.zeros(B, np.float32)
    part = small[start:start + B]
    block_in[:part.size] = part
    s = np.where(np.arange(B) < 128, block_in, 2 * block_in)
    expected[start:start + B] = s[::-1][:part.size]


def clean_and_right():
    assert findings["barrier outside the branch, checked"] == [], findings["barrier outside the branch, checked"]
    kit.assert_equal(out, expected)


lab.variant("barrier outside the branch, checked",
            run_checked("barrier outside the branch, checked", uniform, n_checked, small, out),
            runs_as="manycore cpu (checked)", kernels=[uniform], compiled="checked kernels",
            size=f"{n_checked:,}", check=clean_and_right)

# %% [markdown]
# ## On a GPU: compute-sanitizer
#
# The same racy kernel on the GPU, under `manycore check --sanitizer --tool racecheck`
# (compute-sanitizer's race detector for shared memory; global-memory races between blocks
# are beyond it, which is one more reason to prefer the out-of-place form).

# %%
SANITIZED = r'''
import numpy as np, manycore as mc
src = """
__global__ void reverse_racy(int n, float* a) {
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    a[threadIdx.x] = s[255 - threadIdx.x];   // no barrier: reads a neighbour's write
}"""
f = mc.SourceModule(src, device="cuda").get_function("reverse_racy")
a = mc.to_device(np.arange(256, dtype=np.float32))
f(256, a, grid=(1,), block=(256,))
mc.synchronize("cuda")
'''
sanitizer_out = {}
if lab.on_gpu and shutil.which("compute-sanitizer"):
    script = lab.workdir / "racy_on_gpu.py"
    script.write_text(SANITIZED)

    def sanitize():
        r = subprocess.run([sys.executable, "-m", "manycore", "check", "--sanitizer", "--tool",
                            "racecheck", str(script)], capture_output=True, text=True, timeout=300)
        sanitizer_out["rc"], sanitizer_out["text"] = r.returncode, r.stdout + r.stderr

    lab.variant("compute-sanitizer racecheck (GPU)", sanitize, runs_as="compute-sanitizer",
                size="256", check=lambda: kit.assert_equal(np.int64(sanitizer_out["rc"]), np.int64(1),
                                                           "manycore check's status (1: findings)"))
else:
    lab.skip("compute-sanitizer racecheck (GPU)",
             "needs a GPU and compute-sanitizer" if not lab.on_gpu else "compute-sanitizer is not on PATH")

# %% [markdown]
# ## What the runs say

# %%
racy = findings["rotate: many blocks in place (race), checked"]
lab.claim("checked mode reports the race in the in-place rotation",
          any(f.kind == "race" and f.variable == "a" for f in racy),
          f"{len(racy)} findings; first: {racy[0].kind} at line {racy[0].line}" if racy else "none")
div = findings["__syncthreads in a divergent branch, checked"]
lab.claim("checked mode reports the divergent barrier", any(f.kind == "barrier-divergence" for f in div),
          f"{len(div)} findings")
lab.finish()

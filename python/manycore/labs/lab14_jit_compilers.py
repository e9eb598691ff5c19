# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 14 of the course (jupytext percent format): `manycore labs open 14` makes the notebook.

# %% [markdown]
# # Lab 14: JIT compilers on the CPU
#
# A just-in-time compiler turns a function into machine code the first time it is called.
# Two kinds meet here:
#
# - **Numba** compiles *Python* functions (`@njit`), and with `parallel=True` and `prange`
#   spreads a loop over the cores;
# - **manycore** compiles *CUDA C++* kernels with the host compiler and runs them on a
#   thread pool.
#
# Both pay once, at the first call: the **first call** (compile + run) and the **steady
# state** (run) are reported apart. A timing that includes the first compile measures the
# compiler, not the code.
#
# Workloads: a matrix addition (memory-bound) and the Mandelbrot set (compute-bound: up to
# `max_iter` iterations per pixel, and very uneven work across the image). The iteration
# counts are integers, so every variant must give exactly the same image.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import time

import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(14, size=SIZE, device=DEVICE, result=RESULT)
side, (width, height, max_iter), py_pixels = lab.pick(
    small=(2000, (1200, 1000, 200), 4000), default=(4000, (2048, 1536, 300), 4000),
    large=(16384, (16384, 16384, 1000), 4000))
print(f"matrix add {side}x{side}; Mandelbrot {width}x{height}, {max_iter} iterations")
X0, X1, Y0, Y1 = -2.0, 0.6, -1.2, 1.2

# %% [markdown]
# ## The reference: NumPy, whole-array steps
#
# Every pixel iterates z ← z² + c until |z| > 2 or `max_iter`; the NumPy version iterates
# all pixels together and masks the finished ones. The same arithmetic in the same order
# (float64) in every variant gives the same counts.

# %%
xs = X0 + (X1 - X0) * np.arange(width) / width
ys = Y0 + (Y1 - Y0) * np.arange(height) / height


def mandel_numpy():
    cr, ci = (g.ravel() for g in np.meshgrid(xs, ys))
    count = np.zeros(cr.size, np.int32)
    index = np.arange(cr.size)  # the pixels still iterating
    zr, zi = np.zeros(cr.size), np.zeros(cr.size)
    for _ in range(max_iter):
        zr2, zi2 = zr * zr, zi * zi
        alive = zr2 + zi2 <= 4.0
        index, zr, zi, zr2, zi2 = index[alive], zr[alive], zi[alive], zr2[alive], zi2[alive]
        if index.size == 0:
            break
        zi = 2.0 * zr * zi + ci[index]
        zr = zr2 - zi2 + cr[index]
        count[index] += 1
    return count.reshape(height, width)


image = {}
lab.variant("Mandelbrot NumPy", lambda: image.__setitem__("numpy", mandel_numpy()), runs_as="numpy",
            size=f"{width}x{height}", repeat=5,
            check=lambda: kit.assert_equal(np.bool_(image["numpy"].max() == max_iter), np.bool_(True)))
reference = image["numpy"]


def escape(cr, ci):
    zr = zi = 0.0
    n = 0
    while n < max_iter:
        zr2, zi2 = zr * zr, zi * zi
        if zr2 + zi2 > 4.0:
            break
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        n += 1
    return n


pick = np.random.default_rng(14).choice(width * height, py_pixels, replace=False)
py_rows, py_cols = np.divmod(pick, width)
lab.variant("Mandelbrot Python (sample of pixels)",
            lambda: image.__setitem__("python", [escape(xs[c], ys[r]) for r, c in zip(py_rows, py_cols)]),
            runs_as="python", size=f"{py_pixels} pixels",
            check=lambda: kit.assert_equal(np.int32(image["python"]), reference[py_rows, py_cols]))

# %% [markdown]
# ## Numba

# %%
numba, why_not = kit.optional("numba")
if numba is not None:
    escape_jit = numba.njit(escape)  # the Python function above, compiled (max_iter a constant)

    def mandel_body(xs, ys, out):
        for r in numba.prange(ys.size):
            for c in range(xs.size):
                out[r, c] = escape_jit(xs[c], ys[r])

    serial = numba.njit(mandel_body)
    parallel = numba.njit(parallel=True)(mandel_body)
    for name, fn in (("Mandelbrot Numba", serial), ("Mandelbrot Numba parallel", parallel)):
        out = np.zeros((height, width), np.int32)
        t0 = time.perf_counter()
        fn(xs, ys, out)  # the first call compiles
        first_call = time.perf_counter() - t0
        lab.notes[f"{name}: first call (compile and run)"] = first_call
        v = lab.variant(name, lambda fn=fn, out=out: fn(xs, ys, out), runs_as="numba",
                        size=f"{width}x{height}", baseline="Mandelbrot NumPy",
                        check=lambda out=out: kit.assert_equal(out, reference))
        v.compile = first_call
else:
    lab.skip("Mandelbrot Numba", why_not)
    lab.skip("Mandelbrot Numba parallel", why_not)

# %% [markdown]
# ## manycore: a kernel per pixel
#
# The first `SourceModule` of a source compiles it (or loads it from the disk cache, which
# `lab.compile` records); the launches after that are the steady state.

# %%
SOURCE = r"""
__global__ void mandelbrot(int width, int height, int max_iter, const double* xs, const double* ys,
                           int* out) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (c >= width || r >= height) return;
    double cr = xs[c], ci = ys[r], zr = 0.0, zi = 0.0;
    int n = 0;
    // BEGIN SOLUTION: iterate z <- z^2 + c until |z| > 2 or max_iter, counting the steps
    while (n < max_iter) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0) break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        ++n;
    }
    // END SOLUTION
    out[(size_t)r * width + c] = n;
}

__global__ void add2d(int rows, int cols, const float* a, const float* b, float* c) {
    int col = blockIdx.x * blockDim.x + threadIdx.x, row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row < rows && col < cols) c[(size_t)row * cols + col] = a[(size_t)row * cols + col] + b[(size_t)row * cols + col];
}
"""
# -ffp-contract=off: no fused multiply-adds, so the kernel rounds as NumPy does, step by step.
options = ["-O3", "-march=native", "-ffp-contract=off"] if not lab.on_gpu else ["--fmad=false"]
module = lab.compile(SOURCE, options=options)
mandelbrot = module.get_function("mandelbrot")
on = lab.device
d_xs, d_ys = mc.to_device(xs, on), mc.to_device(ys, on)
d_img = mc.zeros((height, width), np.int32, on)
grid = ((width + 31) // 32, (height + 7) // 8)
lab.variant("Mandelbrot manycore kernel",
            lambda: mandelbrot(width, height, max_iter, d_xs, d_ys, d_img, grid=grid, block=(32, 8)),
            runs_as=f"manycore {on.kind}", kernels=[mandelbrot], compiled="kernels",
            baseline="Mandelbrot NumPy", size=f"{width}x{height}",
            check=lambda: kit.assert_equal(d_img, reference))

# %% [markdown]
# ## Matrix addition: the same three ways

# %%
rng = np.random.default_rng(14)
a, b = rng.random((side, side), dtype=np.float32), rng.random((side, side), dtype=np.float32)
add_ref = (a.astype(np.float64) + b).astype(np.float32)
c = np.empty_like(a)
work = kit.Work(bytes=3 * 4 * side * side)
lab.variant("add NumPy", lambda: np.add(a, b, out=c), runs_as="numpy", size=f"{side}^2", work=work,
            check=lambda: kit.assert_equal(c, add_ref))
if numba is not None:
    @numba.njit(parallel=True)
    def add_numba(a, b, c):
        for i in numba.prange(a.shape[0]):
            for j in range(a.shape[1]):
                c[i, j] = a[i, j] + b[i, j]

    c2 = np.empty_like(a)
    t0 = time.perf_counter()
    add_numba(a, b, c2)
    first = time.perf_counter() - t0
    v = lab.variant("add Numba parallel", lambda: add_numba(a, b, c2), runs_as="numba", size=f"{side}^2",
                    work=work, baseline="add NumPy", check=lambda: kit.assert_equal(c2, add_ref))
    v.compile = first
else:
    lab.skip("add Numba parallel", why_not)
add2d = module.get_function("add2d")
d_a, d_b, d_c = mc.to_device(a, on), mc.to_device(b, on), mc.zeros((side, side), np.float32, on)
lab.variant("add manycore kernel",
            lambda: add2d(side, side, d_a, d_b, d_c, grid=((side + 31) // 32, (side + 7) // 8), block=(32, 8)),
            runs_as=f"manycore {on.kind}", kernels=[add2d], compiled="kernels", size=f"{side}^2",
            work=work, baseline="add NumPy", check=lambda: kit.assert_equal(d_c, add_ref))

# %% [markdown]
# ## What the numbers say

# %%
lab.claim("the manycore kernel is at least 5x faster than NumPy on the Mandelbrot set",
          lab.best("Mandelbrot NumPy") / lab.best("Mandelbrot manycore kernel") >= 5,
          f"{lab.best('Mandelbrot NumPy') / lab.best('Mandelbrot manycore kernel'):.1f}x")
if numba is not None:
    first = lab.get("Mandelbrot Numba").compile
    steady = lab.best("Mandelbrot Numba")
    lab.claim("Numba's first call (it compiles) takes longer than a steady-state call",
              first > steady, f"first {first:.2f} s, then {steady:.3f} s")
lab.finish()

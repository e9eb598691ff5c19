# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 5 of the course (jupytext percent format): `manycore labs open 5` makes the notebook.

# %% [markdown]
# # Lab 5: transpose
#
# `out[c][r] = in[r][c]` does no arithmetic at all: it is all memory traffic, and the *order*
# of the accesses decides its speed. A warp's 32 threads take 32 neighbouring columns:
#
# - **naive**: reads a row (32 neighbours, one 128-byte line: **coalesced**) and writes a
#   column (32 different lines: **strided**);
# - **the reverse**: strided reads, coalesced writes;
# - **shared tile**: the block reads a 32 x 32 tile coalesced into `__shared__` memory, waits
#   (`__syncthreads`), and writes it transposed, coalesced too: the transposition happens in
#   the fast on-chip memory;
# - **padded tile**: shared memory has 32 banks; reading a tile's *column* hits one bank 32
#   times (a 32-way **bank conflict**). One extra column (`[32][33]`) shifts each row by one
#   bank, and the conflicts vanish.
#
# The matrix is 4097 x 8191 at the small size (and more above): neither side is a multiple of the tile, so the guards in the
# kernels matter, and the check is exact equality with `a.T`.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(5, size=SIZE, device=DEVICE, result=RESULT)
(rows, cols), (py_rows, py_cols) = lab.pick(
    small=((4097, 8191), (1000, 1001)), default=((16385, 16383), (1000, 1001)),
    large=((65537, 65535), (1000, 1001)), memory=lambda s: 2 * 4 * s[0][0] * s[0][1])
print(f"kernels and NumPy: {rows} x {cols} float32; Python: {py_rows} x {py_cols}")
rng = np.random.default_rng(5)
a = rng.random((rows, cols), dtype=np.float32)
reference = np.ascontiguousarray(a.T)
work = kit.Work(bytes=2 * 4 * rows * cols)

# %% [markdown]
# ## Python and NumPy
#
# `a.T` is a *view* (no data moves); `np.ascontiguousarray(a.T)` makes the copy.

# %%
small = a[:py_rows, :py_cols].tolist()
out_py = {}


def python_transpose():
    out_py["t"] = [[small[r][c] for r in range(py_rows)] for c in range(py_cols)]


lab.variant("Python", python_transpose, runs_as="python", size=f"{py_rows}x{py_cols}",
            work=kit.Work(bytes=2 * 4 * py_rows * py_cols),
            check=lambda: kit.assert_equal(np.float32(out_py["t"]), reference[:py_cols, :py_rows]))
t = np.empty((cols, rows), np.float32)
lab.variant("NumPy", lambda: np.copyto(t, a.T), runs_as="numpy", size=f"{rows}x{cols}",
            work=work, check=lambda: kit.assert_equal(t, reference))

# %% [markdown]
# ## Four kernels
#
# Blocks of 32 x 8 threads; each thread moves 4 elements (rows y, y+8, y+16, y+24 of a
# 32 x 32 tile). Indices are `size_t` products: 65536² elements do not fit an `int`.

# %%
SOURCE = r"""
#define TILE 32
#define ROWS 8

__global__ void naive(int rows, int cols, const float* in, float* out) {
    int c = blockIdx.x * TILE + threadIdx.x;
    int r0 = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS) {
        int r = r0 + j;
        if (r < rows && c < cols) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
    }
}

__global__ void reverse(int rows, int cols, const float* in, float* out) {
    // thread x walks along a row of *out*: coalesced writes, strided reads
    int r = blockIdx.x * TILE + threadIdx.x;
    int c0 = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS) {
        int c = c0 + j;
        if (r < rows && c < cols) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
    }
}

__global__ void tiled(int rows, int cols, const float* in, float* out) {
    __shared__ float tile[TILE][TILE];
    int c = blockIdx.x * TILE + threadIdx.x;
    int r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(size_t)(r + j) * cols + c];
    __syncthreads();
    // BEGIN SOLUTION: write the tile transposed: out's row is in's column, coalesced
    int oc = blockIdx.y * TILE + threadIdx.x;  // a column of out is a row of in
    int orow = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (orow + j < cols && oc < rows) out[(size_t)(orow + j) * rows + oc] = tile[threadIdx.x][threadIdx.y + j];
    // END SOLUTION
}

__global__ void tiled_padded(int rows, int cols, const float* in, float* out) {
    __shared__ float tile[TILE][TILE + 1];  // one column of padding: no bank conflicts
    int c = blockIdx.x * TILE + threadIdx.x;
    int r = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = in[(size_t)(r + j) * cols + c];
    __syncthreads();
    int oc = blockIdx.y * TILE + threadIdx.x;
    int orow = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS)
        if (orow + j < cols && oc < rows) out[(size_t)(orow + j) * rows + oc] = tile[threadIdx.x][threadIdx.y + j];
}
"""
module = lab.compile(SOURCE)
on = lab.device
d_a = mc.to_device(a, on)
block = (32, 8)
tiles = ((cols + 31) // 32, (rows + 31) // 32)
for name in ("naive", "reverse", "tiled", "tiled_padded"):
    f = module.get_function(name)
    d_t = mc.zeros((cols, rows), np.float32, on)
    grid = (tiles[1], tiles[0]) if name == "reverse" else tiles
    lab.variant(f"kernel {name}", lambda f=f, d_t=d_t, grid=grid: f(rows, cols, d_a, d_t, grid=grid, block=block),
                runs_as=f"manycore {on.kind}", kernels=[f], compiled="kernels", baseline="NumPy",
                size=f"{rows}x{cols}", work=work, check=lambda d_t=d_t: kit.assert_equal(d_t, reference))
    del d_t

# %% [markdown]
# ## What the numbers say
#
# On a GPU the tiled kernels are the fastest and the padded one beats the unpadded one. On the
# CPU there are no warps, banks or coalescing: caches decide, and the barrier kernels run each
# thread as a fiber (or, split at their barriers, as loops), which costs more.

# %%
if lab.on_gpu:
    lab.claim("on a GPU the padded tile is at least as fast as the naive kernel",
              lab.best("kernel tiled_padded") <= lab.best("kernel naive"),
              f"{lab.best('kernel naive') / lab.best('kernel tiled_padded'):.2f}x")
    lab.claim("on a GPU padding does not slow the tile down (no bank conflicts)",
              lab.best("kernel tiled_padded") <= 1.05 * lab.best("kernel tiled"),
              f"{lab.best('kernel tiled') / lab.best('kernel tiled_padded'):.2f}x")
lab.claim("the Python loop is at least 5x slower per element than NumPy",
          lab.best("Python") / (py_rows * py_cols) > 5 * lab.best("NumPy") / (rows * cols),
          f"{lab.best('Python') / (py_rows * py_cols) * 1e9:.1f} vs "
          f"{lab.best('NumPy') / (rows * cols) * 1e9:.2f} ns per element")
lab.finish()

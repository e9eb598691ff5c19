# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The transpose exercise: a naive transpose (strided writes) and one through a shared-memory
tile (both reads and writes coalesced), each timed with events."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
import pycuda.gpuarray as gpuarray
from pycuda.compiler import SourceModule

N = 512
TILE = 32

mod = SourceModule("""
#define TILE 32

__global__ void transpose_naive(float *out, const float *in, int n)
{
    int x = blockIdx.x * TILE + threadIdx.x;
    int y = blockIdx.y * TILE + threadIdx.y;
    if (x < n && y < n)
        out[x * n + y] = in[y * n + x];
}

__global__ void transpose_tiled(float *out, const float *in, int n)
{
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x;
    int y = blockIdx.y * TILE + threadIdx.y;
    if (x < n && y < n)
        tile[threadIdx.y][threadIdx.x] = in[y * n + x];
    __syncthreads();
    x = blockIdx.y * TILE + threadIdx.x;
    y = blockIdx.x * TILE + threadIdx.y;
    if (x < n && y < n)
        out[y * n + x] = tile[threadIdx.x][threadIdx.y];
}
""")

a = np.random.randn(N, N).astype(np.float32)
a_gpu = gpuarray.to_gpu(a)
grid = ((N + TILE - 1) // TILE, (N + TILE - 1) // TILE)
for name in ["transpose_naive", "transpose_tiled"]:
    kernel = mod.get_function(name)
    out_gpu = gpuarray.zeros_like(a_gpu)
    start, end = drv.Event(), drv.Event()
    start.record()
    kernel(out_gpu, a_gpu, np.int32(N), block=(TILE, TILE, 1), grid=grid)
    end.record()
    end.synchronize()
    print(f"{name} {N}x{N}: {start.time_till(end):.3f} ms, "
          f"correct: {bool(np.array_equal(out_gpu.get(), a.T))}")

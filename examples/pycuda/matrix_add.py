# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Matrix addition on a two-dimensional grid of two-dimensional blocks."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
import pycuda.gpuarray as gpuarray
from pycuda.compiler import SourceModule

N = 1024

mod = SourceModule("""
__global__ void matrix_add(float *a, float *b, float *c, int n)
{
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row < n && col < n)
        c[row * n + col] = a[row * n + col] + b[row * n + col];
}
""")
matrix_add = mod.get_function("matrix_add")

a = np.random.randn(N, N).astype(np.float32)
b = np.random.randn(N, N).astype(np.float32)
a_gpu = gpuarray.to_gpu(a)
b_gpu = gpuarray.to_gpu(b)
c_gpu = gpuarray.empty_like(a_gpu)

block = (16, 16, 1)
grid = ((N + 15) // 16, (N + 15) // 16)
start, end = drv.Event(), drv.Event()
start.record()
matrix_add(a_gpu, b_gpu, c_gpu, np.int32(N), block=block, grid=grid)
end.record()
end.synchronize()
print(f"matrix_add {N}x{N}: {start.time_till(end):.3f} ms")
print("correct:", bool(np.allclose(c_gpu.get(), a + b)))

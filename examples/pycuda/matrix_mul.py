# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The matrix product: one thread per element of the result, reading a row and a column."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
from pycuda.compiler import SourceModule

N = 256

mod = SourceModule("""
__global__ void matrix_mul(float *a, float *b, float *c, int n)
{
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row < n && col < n) {
        float sum = 0.0f;
        for (int k = 0; k < n; k++)
            sum += a[row * n + k] * b[k * n + col];
        c[row * n + col] = sum;
    }
}
""")
matrix_mul = mod.get_function("matrix_mul")
matrix_mul.prepare("PPPi")

a = np.random.randn(N, N).astype(np.float32)
b = np.random.randn(N, N).astype(np.float32)
c = np.empty_like(a)
a_gpu, b_gpu, c_gpu = drv.to_device(a), drv.to_device(b), drv.mem_alloc(c.nbytes)

grid = ((N + 15) // 16, (N + 15) // 16)
elapsed = matrix_mul.prepared_timed_call(grid, (16, 16, 1), a_gpu, b_gpu, c_gpu, N)()
drv.memcpy_dtoh(c, c_gpu)
print(f"matrix_mul {N}x{N}: {elapsed * 1e3:.3f} ms, {2 * N**3 / elapsed / 1e9:.2f} GFLOP/s")
print("correct:", bool(np.allclose(c, a @ b, rtol=1e-3, atol=1e-3)))

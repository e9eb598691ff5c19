# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Vector addition, second version: device memory allocated and copied by hand, and the kernel
timed alone between two events (after a warm-up launch)."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
from pycuda.compiler import SourceModule

N = 1 << 20

mod = SourceModule("""
__global__ void vector_add(float *a, float *b, float *c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}
""")
vector_add = mod.get_function("vector_add")

a = np.random.randn(N).astype(np.float32)
b = np.random.randn(N).astype(np.float32)
c = np.empty_like(a)

a_gpu = drv.mem_alloc(a.nbytes)
b_gpu = drv.mem_alloc(b.nbytes)
c_gpu = drv.mem_alloc(c.nbytes)
drv.memcpy_htod(a_gpu, a)
drv.memcpy_htod(b_gpu, b)

block = 256
grid = (N + block - 1) // block
vector_add(a_gpu, b_gpu, c_gpu, np.int32(N), block=(block, 1, 1), grid=(grid, 1))

start = drv.Event()
end = drv.Event()
start.record()
vector_add(a_gpu, b_gpu, c_gpu, np.int32(N), block=(block, 1, 1), grid=(grid, 1))
end.record()
end.synchronize()

drv.memcpy_dtoh(c, c_gpu)
print(f"vector_add of {N} elements: {start.time_till(end):.3f} ms")
print("correct:", bool(np.allclose(c, a + b)))

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Vector addition, first version: host arrays passed with drv.In/drv.Out.

A PyCUDA program in the style of the course's day 2, bugs included: the arrays are uint32 but
the kernel takes int*, N is passed as np.uint32 to an int parameter, and the timed region starts
before the module is compiled. Run it with `manycore pycuda vector_add_v0.py`.
"""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
from pycuda.compiler import SourceModule

N = 1 << 20

a = np.random.randint(0, 1000, N).astype(np.uint32)
b = np.random.randint(0, 1000, N).astype(np.uint32)
c = np.zeros_like(a)

start = drv.Event()
end = drv.Event()
start.record()

mod = SourceModule("""
__global__ void vector_add(int *a, int *b, int *c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}
""")
vector_add = mod.get_function("vector_add")

block = 256
grid = (N + block - 1) // block
vector_add(drv.In(a), drv.In(b), drv.Out(c), np.uint32(N), block=(block, 1, 1), grid=(grid, 1))

end.record()
end.synchronize()
print(f"vector_add of {N} elements: {start.time_till(end):.3f} ms")
print("correct:", bool(np.array_equal(c, a + b)))

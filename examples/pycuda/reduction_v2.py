# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reduction, second version: sequential addressing (no divergence, no bank conflicts), the
input on the device beforehand, the kernel timed alone."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
import pycuda.gpuarray as gpuarray
from pycuda.compiler import SourceModule

N = 1 << 18
BLOCK = 256

mod = SourceModule("""
#define BLOCK 256
__global__ void reduce_v2(const float *in, float *partial, int n)
{
    __shared__ float s[BLOCK];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[tid] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (tid < stride)
            s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0)
        partial[blockIdx.x] = s[0];
}
""")
reduce_v2 = mod.get_function("reduce_v2")

x = np.random.rand(N).astype(np.float32)
x_gpu = gpuarray.to_gpu(x)
blocks = (N + BLOCK - 1) // BLOCK
partial_gpu = gpuarray.zeros(blocks, np.float32)
start, end = drv.Event(), drv.Event()
start.record()
reduce_v2(x_gpu, partial_gpu, np.int32(N), block=(BLOCK, 1, 1), grid=(blocks, 1))
end.record()
end.synchronize()
total = gpuarray.sum(partial_gpu).get()
print(f"reduce_v2 of {N} floats: {start.time_till(end):.3f} ms, sum = {float(total):.2f}")
print("correct:", bool(np.isclose(total, x.sum(dtype=np.float64), rtol=1e-4)))

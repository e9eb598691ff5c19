# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reduction, first version: each block sums its part in shared memory with interleaved
addressing (divergent warps); the host adds the blocks' partial sums."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
from pycuda.compiler import SourceModule

N = 1 << 18
BLOCK = 256

mod = SourceModule("""
#define BLOCK 256
__global__ void reduce_v1(float *in, float *partial, int n)
{
    __shared__ float s[BLOCK];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[tid] = i < n ? in[i] : 0.0f;
    __syncthreads();
    for (unsigned int stride = 1; stride < blockDim.x; stride *= 2) {
        if (tid % (2 * stride) == 0)
            s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0)
        partial[blockIdx.x] = s[0];
}
""")
reduce_v1 = mod.get_function("reduce_v1")

x = np.random.rand(N).astype(np.float32)
blocks = (N + BLOCK - 1) // BLOCK
partial = np.zeros(blocks, np.float32)
start, end = drv.Event(), drv.Event()
start.record()
reduce_v1(drv.In(x), drv.Out(partial), np.int32(N), block=(BLOCK, 1, 1), grid=(blocks, 1))
end.record()
end.synchronize()
total = partial.sum()
print(f"reduce_v1 of {N} floats: {start.time_till(end):.3f} ms, sum = {total:.2f}")
print("correct:", bool(np.isclose(total, x.sum(dtype=np.float64), rtol=1e-4)))

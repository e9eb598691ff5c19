# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reduction, third version: integers, each block's sum added to one total with atomicAdd.

The course's bug is kept: the total is an int64 array but the kernel takes int*, so the kernel
adds into the low half of the int64 (right while the sum fits in an int and stays positive)."""
import numpy as np

import pycuda.autoinit  # noqa: F401
import pycuda.driver as drv
import pycuda.gpuarray as gpuarray
from pycuda.compiler import SourceModule

N = 1 << 18
BLOCK = 256

mod = SourceModule("""
#define BLOCK 256
__global__ void reduce_v3(const int *in, int *total, int n)
{
    __shared__ int s[BLOCK];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[tid] = i < n ? in[i] : 0;
    __syncthreads();
    for (unsigned int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (tid < stride)
            s[tid] += s[tid + stride];
        __syncthreads();
    }
    if (tid == 0)
        atomicAdd(total, s[0]);
}
""")
reduce_v3 = mod.get_function("reduce_v3")

x = np.random.randint(0, 100, N).astype(np.int32)
x_gpu = gpuarray.to_gpu(x)
total_gpu = gpuarray.zeros(1, np.int64)
blocks = (N + BLOCK - 1) // BLOCK
start, end = drv.Event(), drv.Event()
start.record()
reduce_v3(x_gpu, total_gpu, np.int32(N), block=(BLOCK, 1, 1), grid=(blocks, 1))
end.record()
end.synchronize()
total = int(total_gpu.get()[0])
print(f"reduce_v3 of {N} ints: {start.time_till(end):.3f} ms, sum = {total}")
print("correct:", total == int(x.sum()))

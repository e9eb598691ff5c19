// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cuda_bf16.h> names a CUDA feature the CPU device does not have; including it says so.
#error "manycore: <cuda_bf16.h>: bfloat16 (__nv_bfloat16) is not supported on the CPU device yet; use float"

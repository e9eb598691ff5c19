// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cuda_fp16.h> names a CUDA feature the CPU device does not have; including it says so.
#error "manycore: <cuda_fp16.h>: half precision (__half) is not supported on the CPU device yet; use float"

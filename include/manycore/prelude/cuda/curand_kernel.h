// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <curand_kernel.h> names a CUDA feature the CPU device does not have; including it says so.
#error "manycore: <curand_kernel.h>: cuRAND device functions are not supported on the CPU device; generate random numbers on the host"

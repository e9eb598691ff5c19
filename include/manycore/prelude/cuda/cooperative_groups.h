// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cooperative_groups.h> names a CUDA feature the CPU device does not have; including it says so.
#error "manycore: <cooperative_groups.h>: cooperative groups are not supported on the CPU device yet; use __syncthreads and the *_sync warp intrinsics"

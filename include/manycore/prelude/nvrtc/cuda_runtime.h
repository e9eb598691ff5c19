// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Stand-in for CUDA's <cuda_runtime.h> under NVRTC: NVRTC already declares what kernels use of it.
#pragma once

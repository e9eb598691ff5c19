// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Stand-in for CUDA's <cuda.h> under NVRTC: NVRTC already declares what kernels use of it.
#pragma once

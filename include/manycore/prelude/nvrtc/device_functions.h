// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Stand-in for CUDA's <device_functions.h> under NVRTC: NVRTC already declares what kernels use of it.
#pragma once

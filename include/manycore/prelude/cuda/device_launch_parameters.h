// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Stand-in for CUDA's <device_launch_parameters.h> on the CPU device: the prelude already declares what kernels use.
#pragma once

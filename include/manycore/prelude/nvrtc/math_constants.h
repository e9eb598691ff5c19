// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// CUDA's <math_constants.h> under NVRTC: the same header the CPU device uses (its values are bit patterns NVRTC also reads).
#pragma once
#include "manycore/prelude/cuda/math_constants.h"

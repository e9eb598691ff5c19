// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cfloat> for kernels compiled by NVRTC (registered under that name).
#include <float.h>

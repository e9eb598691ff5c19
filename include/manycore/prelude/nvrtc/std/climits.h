// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <climits> for kernels compiled by NVRTC (registered under that name).
#include <limits.h>

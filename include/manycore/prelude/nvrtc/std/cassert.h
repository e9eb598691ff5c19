// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cassert> for kernels compiled by NVRTC (registered under that name; re-reads NDEBUG each time, like <assert.h>).
#include <assert.h>

// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <string.h> for kernels compiled by NVRTC: what kernels use of it (memcpy, memset) NVRTC already declares.
#pragma once

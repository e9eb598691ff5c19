// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <stdlib.h> for kernels compiled by NVRTC: what kernels use of it (malloc, free, abs, labs, llabs) NVRTC already declares.
#pragma once

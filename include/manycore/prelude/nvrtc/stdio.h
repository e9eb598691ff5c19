// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <stdio.h> for kernels compiled by NVRTC: what kernels use of it (printf) NVRTC already declares.
#pragma once

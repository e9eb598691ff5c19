// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cstdio> for kernels compiled by NVRTC (registered under that name): std::printf.
#pragma once
#include <stdio.h>
namespace std {
using ::printf;
}  // namespace std

// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cstdlib> for kernels compiled by NVRTC (registered under that name): device malloc/free and abs.
#pragma once
#include <stddef.h>
#include <stdlib.h>
namespace std {
using ::abs;
using ::free;
using ::labs;
using ::llabs;
using ::malloc;
using ::size_t;
}  // namespace std

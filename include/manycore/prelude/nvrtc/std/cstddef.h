// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cstddef> for kernels compiled by NVRTC (registered under that name; NVRTC ships no C++ library).
#ifndef MANYCORE_NVRTC_CSTDDEF
#define MANYCORE_NVRTC_CSTDDEF
#include <stddef.h>
namespace std {
using ::max_align_t;
using ::nullptr_t;
using ::ptrdiff_t;
using ::size_t;
enum class byte : unsigned char {};
}  // namespace std
#endif

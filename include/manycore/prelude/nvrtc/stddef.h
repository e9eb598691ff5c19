// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <stddef.h> for kernels compiled by NVRTC, which ships no C library headers (it predefines size_t and NULL).
#ifndef MANYCORE_NVRTC_STDDEF_H
#define MANYCORE_NVRTC_STDDEF_H

typedef decltype(static_cast<int*>(0) - static_cast<int*>(0)) ptrdiff_t;
typedef decltype(nullptr) nullptr_t;
typedef struct {
    alignas(16) long long __mc_align;
} max_align_t;
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

#endif  // MANYCORE_NVRTC_STDDEF_H

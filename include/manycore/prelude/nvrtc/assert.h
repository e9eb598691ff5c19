// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <assert.h> for kernels compiled by NVRTC: re-reads NDEBUG at each inclusion, as the C standard says.
// No include guard, on purpose. A failed assert traps the kernel (CUDA_ERROR_ASSERT), which
// manycore reports as KernelFault; __assertfail is declared by NVRTC itself.
#undef assert
#ifdef NDEBUG
#define assert(e) (static_cast<void>(0))
#else
#define assert(e) \
    ((e) ? static_cast<void>(0) : __assertfail(#e, __FILE__, __LINE__, __PRETTY_FUNCTION__, sizeof(char)))
#endif

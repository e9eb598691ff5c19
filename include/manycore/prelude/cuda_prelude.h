// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What a kernel source sees before its first line when NVRTC compiles it for a GPU.
//
// The GPU needs no dialect: NVRTC is CUDA C++. This prelude only evens out what the CPU
// prelude gives every kernel (the standard headers below, included up front there too, so a
// source that compiles on one device compiles on the other) and generates, per kernel, the
// parameter descriptors the launcher checks arguments against (the same mc_param_desc the CPU
// gets). The standard headers are manycore's small stand-ins (prelude/nvrtc/): NVRTC ships none.
#ifndef MANYCORE_PRELUDE_CUDA_PRELUDE_H
#define MANYCORE_PRELUDE_CUDA_PRELUDE_H

#include <assert.h>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "manycore/prelude/abi.h"
#include "manycore/prelude/param_desc.h"

#define __MANYCORE__ 1
#define __MANYCORE_CUDA__ 1

namespace __mc {

/// The descriptor table of a kernel of type `void(P...)`, laid out for the host to read after
/// loading: a count, then one mc_param_desc per parameter (and a zeroed one, so that a kernel
/// without parameters still has an array).
template <class F>
struct param_table;
template <class... P>
struct param_table<void(P...)> {
    uint32_t count;
    uint32_t reserved;
    mc_param_desc params[sizeof...(P) + 1];
    __host__ __device__ static constexpr param_table make() {
        return param_table{static_cast<uint32_t>(sizeof...(P)), 0u, {describe<P>()..., mc_param_desc{}}};
    }
};

}  // namespace __mc

// ---- Atomics CUDA lacks but the CPU prelude has -----------------------------------------------
// The CPU device gives every integer atomic on 32- and 64-bit types, signed or not (NumPy's
// int64 is `long` here, CUDA's 64-bit atomics take `unsigned long long`), and the float ones
// on float and double. These fill CUDA's gaps with the same results, through the 64-bit
// unsigned atomics (two's complement makes add, sub, exchange and CAS bit-identical) and
// compare-and-swap loops, so one kernel source compiles on every device.
#define MC_ATOMIC_AS(T, U, name)                                                                \
    __device__ inline T name(T* a, T v) { return (T)name(reinterpret_cast<U*>(a), (U)v); }      \
    __device__ inline T name##_block(T* a, T v) {                                               \
        return (T)name##_block(reinterpret_cast<U*>(a), (U)v);                                  \
    }                                                                                           \
    __device__ inline T name##_system(T* a, T v) {                                              \
        return (T)name##_system(reinterpret_cast<U*>(a), (U)v);                                 \
    }
#define MC_ATOMIC_CAS_AS(T, U)                                                                  \
    __device__ inline T atomicCAS(T* a, T expected, T desired) {                                \
        return (T)atomicCAS(reinterpret_cast<U*>(a), (U)expected, (U)desired);                  \
    }                                                                                           \
    __device__ inline T atomicCAS_block(T* a, T expected, T desired) {                          \
        return (T)atomicCAS_block(reinterpret_cast<U*>(a), (U)expected, (U)desired);            \
    }                                                                                           \
    __device__ inline T atomicCAS_system(T* a, T expected, T desired) {                         \
        return (T)atomicCAS_system(reinterpret_cast<U*>(a), (U)expected, (U)desired);           \
    }
#define MC_ATOMIC_SUB_AS_ADD(T)                                                                 \
    __device__ inline T atomicSub(T* a, T v) { return atomicAdd(a, (T)(0 - v)); }               \
    __device__ inline T atomicSub_block(T* a, T v) { return atomicAdd_block(a, (T)(0 - v)); }   \
    __device__ inline T atomicSub_system(T* a, T v) { return atomicAdd_system(a, (T)(0 - v)); }

MC_ATOMIC_SUB_AS_ADD(unsigned long long)
MC_ATOMIC_AS(long long, unsigned long long, atomicAdd)
MC_ATOMIC_AS(long long, unsigned long long, atomicExch)
MC_ATOMIC_CAS_AS(long long, unsigned long long)
MC_ATOMIC_SUB_AS_ADD(long long)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicAdd)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicExch)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicAnd)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicOr)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicXor)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicMin)
MC_ATOMIC_AS(unsigned long, unsigned long long, atomicMax)
MC_ATOMIC_CAS_AS(unsigned long, unsigned long long)
MC_ATOMIC_SUB_AS_ADD(unsigned long)
MC_ATOMIC_AS(long, unsigned long long, atomicAdd)
MC_ATOMIC_AS(long, unsigned long long, atomicExch)
MC_ATOMIC_AS(long, unsigned long long, atomicAnd)
MC_ATOMIC_AS(long, unsigned long long, atomicOr)
MC_ATOMIC_AS(long, unsigned long long, atomicXor)
MC_ATOMIC_AS(long, long long, atomicMin)
MC_ATOMIC_AS(long, long long, atomicMax)
MC_ATOMIC_CAS_AS(long, unsigned long long)
MC_ATOMIC_SUB_AS_ADD(long)
#undef MC_ATOMIC_SUB_AS_ADD
#undef MC_ATOMIC_CAS_AS
#undef MC_ATOMIC_AS

namespace __mc {
// A float read-modify-write as a compare-and-swap loop on the bits, as the CPU prelude does.
template <class F, class Bits, class Op>
__device__ inline F atomic_float_rmw(F* address, F value, Op op) {
    Bits* raw = reinterpret_cast<Bits*>(address);
    Bits old_bits = *reinterpret_cast<volatile Bits*>(raw);
    for (;;) {
        F old;
        memcpy(&old, &old_bits, sizeof(F));
        const F updated = op(old, value);
        Bits new_bits;
        memcpy(&new_bits, &updated, sizeof(F));
        const Bits seen = atomicCAS(raw, old_bits, new_bits);
        if (seen == old_bits) return old;
        old_bits = seen;
    }
}
}  // namespace __mc
__device__ inline float atomicSub(float* a, float v) { return atomicAdd(a, -v); }
__device__ inline double atomicExch(double* a, double v) {
    return __longlong_as_double(
        (long long)atomicExch(reinterpret_cast<unsigned long long*>(a), (unsigned long long)__double_as_longlong(v)));
}
__device__ inline float atomicMin(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, unsigned int>(a, v, [](float x, float y) { return fminf(x, y); });
}
__device__ inline float atomicMax(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, unsigned int>(a, v, [](float x, float y) { return fmaxf(x, y); });
}
__device__ inline double atomicMin(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, unsigned long long>(a, v, [](double x, double y) { return fmin(x, y); });
}
__device__ inline double atomicMax(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, unsigned long long>(a, v, [](double x, double y) { return fmax(x, y); });
}

// Checked mode (MC_CHECKED): bounds-checked pointer parameters and shared arrays. After the
// atomics, which the checked overloads forward to.
#if MC_CHECKED
#include "manycore/prelude/checked_cuda.h"
#include "manycore/prelude/checked.h"
// The host passes each checked pointer argument as an mc_gpu_checked_ptr.
static_assert(sizeof(::__mc::checked_ptr<int>) == sizeof(mc_gpu_checked_ptr) &&
                  alignof(::__mc::checked_ptr<int>) == alignof(mc_gpu_checked_ptr),
              "a GPU checked pointer is an mc_gpu_checked_ptr");
#endif

/// The generated table's one entry per kernel: MC_PARAM_TABLE(0, *static_cast<void (*)(float*)>(&saxpy))
/// defines the device
/// symbol __mc_params_0 that the CUDA room reads after loading the module.
// The kernel comes as `*address` of its exact type (a function lvalue, so decltype is a
// reference to the function type).
#define MC_PARAM_TABLE(index, ...)                                                          \
    extern "C" __device__ const ::__mc::param_table<                                        \
        typename ::std::remove_reference<decltype(__VA_ARGS__)>::type>                      \
        __mc_params_##index =                                                               \
            ::__mc::param_table<typename ::std::remove_reference<decltype(__VA_ARGS__)>::type>::make();

#endif  // MANYCORE_PRELUDE_CUDA_PRELUDE_H

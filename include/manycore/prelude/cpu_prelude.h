// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CUDA C++ dialect for the host compiler: what a kernel source sees before its first line.
//
// Design (docs/architecture.md, "Kernels on the CPU"):
// - threadIdx & co. are static thread_local variables of the kernel library. Their address is
//   never taken, so the compiler knows no kernel store can alias them and keeps them in
//   registers: the loop over a block's threads vectorises.
// - __shared__ variables are static thread_local: all threads of a block run on one OS thread
//   (as a loop or as fibers), and an OS thread runs one block at a time.
// - Everything that must wait for other threads (barriers, warp intrinsics) calls the runtime
//   through mc_runtime_api, which switches fibers, then restores this fiber's threadIdx.
#ifndef MANYCORE_PRELUDE_CPU_PRELUDE_H
#define MANYCORE_PRELUDE_CPU_PRELUDE_H

// <assert.h> first: it declares __assert_fail once (guarded by _ASSERT_H_DECLS), so that the
// rename below reroutes every later `assert` into a kernel fault instead of abort().
#include <assert.h>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "abi.h"
#include "vector_types.h"
#include "cuda_math.h"

// ---- Qualifiers -------------------------------------------------------------------------------
#define __global__ __attribute__((always_inline)) inline
#define __device__
#define __host__
#define __forceinline__ __attribute__((always_inline)) inline
#define __noinline__ __attribute__((noinline))
#define __constant__
#define __managed__
#define __shared__ thread_local  // at block scope thread_local is static: `static __shared__` works too
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __maxnreg__(n)
#define __grid_constant__
#define __cudart_builtin__
#define __device_builtin__
#define __builtin_align__(n) __attribute__((aligned(n)))
#define CUDART_CB

#define __MANYCORE__ 1
#define __MANYCORE_CPU__ 1

namespace __mc {

// The launch state of the thread running kernel code on this OS thread.
static thread_local uint3 tid;
static thread_local uint3 bid;
static thread_local dim3 bdim;
static thread_local dim3 gdim;
static thread_local mc_worker* worker;
static thread_local const mc_launch* launch;
static thread_local void* dynamic_shared;
// The blocks of the running run_blocks call, for kernels whose loops run across blocks.
static thread_local uint64_t grid_first, grid_last;

__attribute__((always_inline)) inline uint32_t thread_linear() {
    return tid.x + tid.y * bdim.x + tid.z * bdim.x * bdim.y;
}
__attribute__((always_inline)) inline uint64_t block_linear() {
    return bid.x + static_cast<uint64_t>(bid.y) * gdim.x +
           static_cast<uint64_t>(bid.z) * gdim.x * gdim.y;
}
__attribute__((always_inline)) inline unsigned lane_id() { return thread_linear() & 31u; }

// Calls into the runtime that may switch to another fiber of the block; the other fiber set
// `tid` to its own index, so this fiber's index is put back on return.
template <class F>
__attribute__((always_inline)) inline auto switching(F&& call) {
    const uint3 mine = tid;
    auto result = call();
    tid = mine;
    return result;
}

[[noreturn]] inline void fault(const char* what, const char* file, unsigned line) {
    char message[512];
    std::snprintf(message, sizeof message, "thread (%u,%u,%u) of block (%u,%u,%u): %s", tid.x,
                  tid.y, tid.z, bid.x, bid.y, bid.z, what);
    launch->rt->fault(worker, message, file, line);
    __builtin_unreachable();
}

}  // namespace __mc

#define threadIdx (::__mc::tid)
#define blockIdx (::__mc::bid)
#define blockDim (::__mc::bdim)
#define gridDim (::__mc::gdim)
static constexpr int warpSize = 32;

/// Base address of the block's dynamic shared memory (`extern __shared__ T s[];`).
__attribute__((always_inline)) inline void* __mc_dynamic_shared() { return ::__mc::dynamic_shared; }

// ---- Barriers and warp intrinsics -------------------------------------------------------------
// A checked module tells the runtime the line of every barrier and warp intrinsic it enters
// (barrier divergence is threads at different call sites): a defaulted last parameter, filled
// in at the user's call.
#if MC_CHECKED
// The line, and the column in bits 20-30, so that two barriers on one line differ.
#include <source_location>
namespace __mc {
constexpr unsigned site_of(std::source_location at) {
    return at.line() | (at.column() & 0x7ffu) << 20;
}
}  // namespace __mc
#define MC_SITE_ONLY unsigned __mc_line = ::__mc::site_of(std::source_location::current())
#define MC_SITE , MC_SITE_ONLY
#define MC_SITE_ARG , __mc_line
#define MC_ENTER_SITE() (::__mc::launch->check->site_line = __mc_line)
#else
#define MC_SITE_ONLY
#define MC_SITE
#define MC_SITE_ARG
#define MC_ENTER_SITE() ((void)0)
#endif
inline void __syncthreads(MC_SITE_ONLY) {
    MC_ENTER_SITE();
    ::__mc::switching([] { return ::__mc::launch->rt->sync_block(::__mc::worker, MC_SYNC_PLAIN, 0); });
}
inline int __syncthreads_count(int predicate MC_SITE) {
    MC_ENTER_SITE();
    return ::__mc::switching([=] {
        return ::__mc::launch->rt->sync_block(::__mc::worker, MC_SYNC_COUNT, predicate != 0);
    });
}
inline int __syncthreads_and(int predicate MC_SITE) {
    MC_ENTER_SITE();
    return ::__mc::switching([=] {
        return ::__mc::launch->rt->sync_block(::__mc::worker, MC_SYNC_AND, predicate != 0);
    });
}
inline int __syncthreads_or(int predicate MC_SITE) {
    MC_ENTER_SITE();
    return ::__mc::switching([=] {
        return ::__mc::launch->rt->sync_block(::__mc::worker, MC_SYNC_OR, predicate != 0);
    });
}

namespace __mc {

// Every lane's value of one warp collective, and which lanes took part.
struct WarpValues {
    uint64_t lanes[32];
    uint32_t took_part;
};

template <class T>
inline WarpValues collect(unsigned mask, T value, [[maybe_unused]] unsigned __mc_line = 0) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                  "manycore: warp intrinsics take values of at most 8 bytes");
    MC_ENTER_SITE();
    WarpValues out;
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    out.took_part = switching([&] {
        return launch->rt->warp_collect(worker, mask, bits, out.lanes);
    });
    return out;
}

template <class T>
inline T lane_value(const WarpValues& v, unsigned lane) {
    T out;
    std::memcpy(&out, &v.lanes[lane], sizeof(T));
    return out;
}

}  // namespace __mc

inline void __syncwarp(unsigned mask = 0xffffffffu MC_SITE) {
    (void)::__mc::collect(mask, 0u MC_SITE_ARG);
}
// The lanes that execute together: on the CPU, every lane of the warp that has not exited
// reaches this point (or exits) before any goes on, as a converged warp would.
inline unsigned __activemask(MC_SITE_ONLY) {
#if MC_CHECKED
    return ::__mc::collect(0xffffffffu, 0u, __mc_line | MC_SITE_EVERY_LANE).took_part;
#else
    return ::__mc::collect(0xffffffffu, 0u).took_part;
#endif
}

// Source lanes follow CUDA: within segments of `width` lanes; a source outside the caller's
// segment (shfl_up/down/xor) yields the caller's own value.
template <class T>
inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize MC_SITE) {
    const auto v = ::__mc::collect(mask, var MC_SITE_ARG);
    const unsigned lane = ::__mc::lane_id();
    const unsigned base = lane & ~static_cast<unsigned>(width - 1);
    return ::__mc::lane_value<T>(v, base + (static_cast<unsigned>(src_lane) & (width - 1)));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize MC_SITE) {
    const auto v = ::__mc::collect(mask, var MC_SITE_ARG);
    const int lane = static_cast<int>(::__mc::lane_id());
    const int base = lane & ~(width - 1);
    const int src = lane - static_cast<int>(delta);
    return src < base ? var : ::__mc::lane_value<T>(v, static_cast<unsigned>(src));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize MC_SITE) {
    const auto v = ::__mc::collect(mask, var MC_SITE_ARG);
    const int lane = static_cast<int>(::__mc::lane_id());
    const int base = lane & ~(width - 1);
    const int src = lane + static_cast<int>(delta);
    return src >= base + width ? var : ::__mc::lane_value<T>(v, static_cast<unsigned>(src));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize MC_SITE) {
    const auto v = ::__mc::collect(mask, var MC_SITE_ARG);
    const int lane = static_cast<int>(::__mc::lane_id());
    const int base = lane & ~(width - 1);
    const int src = lane ^ lane_mask;
    return src >= base + width ? var : ::__mc::lane_value<T>(v, static_cast<unsigned>(src & 31));
}
inline unsigned __ballot_sync(unsigned mask, int predicate MC_SITE) {
    const auto v = ::__mc::collect(mask, static_cast<uint32_t>(predicate != 0) MC_SITE_ARG);
    unsigned bits = 0;
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((v.took_part >> lane & 1u) && v.lanes[lane]) bits |= 1u << lane;
    }
    return bits;
}
inline int __all_sync(unsigned mask, int predicate MC_SITE) {
    const auto v = ::__mc::collect(mask, static_cast<uint32_t>(predicate != 0) MC_SITE_ARG);
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((v.took_part >> lane & 1u) && !v.lanes[lane]) return 0;
    }
    return 1;
}
inline int __any_sync(unsigned mask, int predicate MC_SITE) {
    const auto v = ::__mc::collect(mask, static_cast<uint32_t>(predicate != 0) MC_SITE_ARG);
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((v.took_part >> lane & 1u) && v.lanes[lane]) return 1;
    }
    return 0;
}
template <class T>
inline unsigned __match_any_sync(unsigned mask, T value MC_SITE) {
    const auto v = ::__mc::collect(mask, value MC_SITE_ARG);
    const uint64_t mine = v.lanes[::__mc::lane_id()];
    unsigned bits = 0;
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((v.took_part >> lane & 1u) && v.lanes[lane] == mine) bits |= 1u << lane;
    }
    return bits;
}
template <class T>
inline unsigned __match_all_sync(unsigned mask, T value, int* pred MC_SITE) {
    const auto v = ::__mc::collect(mask, value MC_SITE_ARG);
    const uint64_t mine = v.lanes[::__mc::lane_id()];
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((v.took_part >> lane & 1u) && v.lanes[lane] != mine) {
            *pred = 0;
            return 0;
        }
    }
    *pred = 1;
    return v.took_part;
}

namespace __mc {
template <class T, class Op>
inline T warp_reduce(unsigned mask, T value, Op op) {
    const auto v = collect(mask, value);
    bool first = true;
    T acc{};
    for (unsigned lane = 0; lane < 32; ++lane) {
        if (!(v.took_part >> lane & 1u)) continue;
        const T x = lane_value<T>(v, lane);
        acc = first ? x : op(acc, x);
        first = false;
    }
    return acc;
}
}  // namespace __mc

inline unsigned __reduce_add_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a + b; });
}
inline int __reduce_add_sync(unsigned mask, int value) {
    return static_cast<int>(__reduce_add_sync(mask, static_cast<unsigned>(value)));
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a < b ? a : b; });
}
inline int __reduce_min_sync(unsigned mask, int value) {
    return ::__mc::warp_reduce(mask, value, [](int a, int b) { return a < b ? a : b; });
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a > b ? a : b; });
}
inline int __reduce_max_sync(unsigned mask, int value) {
    return ::__mc::warp_reduce(mask, value, [](int a, int b) { return a > b ? a : b; });
}
inline unsigned __reduce_and_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a & b; });
}
inline unsigned __reduce_or_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a | b; });
}
inline unsigned __reduce_xor_sync(unsigned mask, unsigned value) {
    return ::__mc::warp_reduce(mask, value, [](unsigned a, unsigned b) { return a ^ b; });
}

#include "fission.h"

// ---- Atomics ----------------------------------------------------------------------------------
// CUDA's atomics are relaxed read-modify-writes; overloads (not templates) so that
// atomicAdd(&unsigned_counter, 1) converts the literal as CUDA's overloads do.
#define MC_ATOMIC_INTEGER(T)                                                                  \
    inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }      \
    inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }      \
    inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }    \
    inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }      \
    inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }        \
    inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }      \
    inline T atomicCAS(T* a, T expected, T desired) {                                         \
        __atomic_compare_exchange_n(a, &expected, desired, false, __ATOMIC_RELAXED,           \
                                    __ATOMIC_RELAXED);                                        \
        return expected;                                                                      \
    }                                                                                         \
    inline T atomicMin(T* a, T v) {                                                           \
        T old = __atomic_load_n(a, __ATOMIC_RELAXED);                                         \
        while (v < old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED,    \
                                                       __ATOMIC_RELAXED)) {                   \
        }                                                                                     \
        return old;                                                                           \
    }                                                                                         \
    inline T atomicMax(T* a, T v) {                                                           \
        T old = __atomic_load_n(a, __ATOMIC_RELAXED);                                         \
        while (v > old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED,    \
                                                       __ATOMIC_RELAXED)) {                   \
        }                                                                                     \
        return old;                                                                           \
    }
MC_ATOMIC_INTEGER(int)
MC_ATOMIC_INTEGER(unsigned int)
MC_ATOMIC_INTEGER(long)
MC_ATOMIC_INTEGER(unsigned long)
MC_ATOMIC_INTEGER(long long)
MC_ATOMIC_INTEGER(unsigned long long)
#undef MC_ATOMIC_INTEGER

namespace __mc {
// Floating-point read-modify-write through a compare-and-swap on the bits.
template <class F, class Bits, class Op>
inline F atomic_float_rmw(F* address, F value, Op op) {
    static_assert(sizeof(F) == sizeof(Bits));
    Bits* raw = reinterpret_cast<Bits*>(address);
    Bits old_bits = __atomic_load_n(raw, __ATOMIC_RELAXED);
    for (;;) {
        F old;
        std::memcpy(&old, &old_bits, sizeof(F));
        const F updated = op(old, value);
        Bits new_bits;
        std::memcpy(&new_bits, &updated, sizeof(F));
        if (__atomic_compare_exchange_n(raw, &old_bits, new_bits, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
            return old;
        }
    }
}
}  // namespace __mc

inline float atomicAdd(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, uint32_t>(a, v, [](float x, float y) { return x + y; });
}
inline double atomicAdd(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, uint64_t>(a, v, [](double x, double y) { return x + y; });
}
inline float atomicSub(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, uint32_t>(a, v, [](float x, float y) { return x - y; });
}
inline float atomicExch(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, uint32_t>(a, v, [](float, float y) { return y; });
}
inline double atomicExch(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, uint64_t>(a, v, [](double, double y) { return y; });
}
inline float atomicMin(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, uint32_t>(a, v, [](float x, float y) { return fminf(x, y); });
}
inline float atomicMax(float* a, float v) {
    return ::__mc::atomic_float_rmw<float, uint32_t>(a, v, [](float x, float y) { return fmaxf(x, y); });
}
inline double atomicMin(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, uint64_t>(a, v, [](double x, double y) { return fmin(x, y); });
}
inline double atomicMax(double* a, double v) {
    return ::__mc::atomic_float_rmw<double, uint64_t>(a, v, [](double x, double y) { return fmax(x, y); });
}
inline unsigned int atomicInc(unsigned int* a, unsigned int limit) {
    unsigned old = __atomic_load_n(a, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(a, &old, old >= limit ? 0u : old + 1u, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return old;
}
inline unsigned int atomicDec(unsigned int* a, unsigned int limit) {
    unsigned old = __atomic_load_n(a, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(a, &old, (old == 0u || old > limit) ? limit : old - 1u,
                                        true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return old;
}
// Scoped variants: every scope is the whole process on the CPU.
#define MC_ATOMIC_SCOPED(name)                                                           \
    template <class... A>                                                                \
    inline auto name##_block(A... a) -> decltype(name(a...)) { return name(a...); }      \
    template <class... A>                                                                \
    inline auto name##_system(A... a) -> decltype(name(a...)) { return name(a...); }
MC_ATOMIC_SCOPED(atomicAdd)
MC_ATOMIC_SCOPED(atomicSub)
MC_ATOMIC_SCOPED(atomicExch)
MC_ATOMIC_SCOPED(atomicMin)
MC_ATOMIC_SCOPED(atomicMax)
MC_ATOMIC_SCOPED(atomicInc)
MC_ATOMIC_SCOPED(atomicDec)
MC_ATOMIC_SCOPED(atomicCAS)
MC_ATOMIC_SCOPED(atomicAnd)
MC_ATOMIC_SCOPED(atomicOr)
MC_ATOMIC_SCOPED(atomicXor)
#undef MC_ATOMIC_SCOPED

// ---- printf, assert, __trap -------------------------------------------------------------------
// printf output is collected per launch and written at its end, ordered by block and thread,
// as on a GPU where it appears at the next synchronisation. A format that does not match its
// arguments (`%s` given a number) would read memory that is not there inside the C library:
// it is a compile error at the user's line instead.
#pragma GCC diagnostic error "-Wformat"
__attribute__((format(printf, 1, 2))) inline int __mc_printf(const char* format, ...) {
    char small[512];
    va_list args;
    va_start(args, format);
    int length = std::vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (length < 0) return length;
    const char* text = small;
    char* large = nullptr;
    if (static_cast<size_t>(length) >= sizeof small) {
        large = static_cast<char*>(std::malloc(static_cast<size_t>(length) + 1));
        if (large == nullptr) return -1;
        va_start(args, format);
        std::vsnprintf(large, static_cast<size_t>(length) + 1, format, args);
        va_end(args);
        text = large;
    }
    ::__mc::launch->rt->print(::__mc::worker, ::__mc::block_linear(), ::__mc::thread_linear(),
                              text, static_cast<size_t>(length));
    std::free(large);
    return length;
}
namespace std {
using ::__mc_printf;
}
#define printf __mc_printf

[[noreturn]] inline void __mc_assert_fail(const char* expression, const char* file,
                                          unsigned line, const char* function) {
    char what[384];
    std::snprintf(what, sizeof what, "assertion '%s' failed in %s", expression, function);
    ::__mc::fault(what, file, line);
}
#define __assert_fail __mc_assert_fail

// The caller's line, as for assert: `__trap()` in kernel.cu at line 12 says kernel.cu:12.
[[noreturn]] inline void __trap(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    ::__mc::fault("__trap() called", file, line);
}
[[noreturn]] inline void __brkpt(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    ::__mc::fault("__brkpt() called", file, line);
}

// ---- What the CPU device does not do ----------------------------------------------------------
// Each fails at compile time, at the user's line, with a message naming the feature.
#define MC_UNSUPPORTED(name, why)                                                        \
    template <class... A>                                                                \
    inline int name(A&&...) {                                                            \
        static_assert(sizeof...(A) < 0, "manycore: " #name " is not supported: " why);   \
        return 0;                                                                        \
    }
MC_UNSUPPORTED(__shfl, "it was removed in CUDA 9; use __shfl_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__shfl_up, "it was removed in CUDA 9; use __shfl_up_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__shfl_down, "it was removed in CUDA 9; use __shfl_down_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__shfl_xor, "it was removed in CUDA 9; use __shfl_xor_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__ballot, "it was removed in CUDA 9; use __ballot_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__any, "it was removed in CUDA 9; use __any_sync(0xffffffff, ...)")
MC_UNSUPPORTED(__all, "it was removed in CUDA 9; use __all_sync(0xffffffff, ...)")
MC_UNSUPPORTED(tex1Dfetch, "texture objects; read the array through a pointer instead")
MC_UNSUPPORTED(tex1D, "texture objects; read the array through a pointer instead")
MC_UNSUPPORTED(tex2D, "texture objects; read the array through a pointer instead")
MC_UNSUPPORTED(tex3D, "texture objects; read the array through a pointer instead")
MC_UNSUPPORTED(surf1Dread, "surface objects; use a pointer instead")
MC_UNSUPPORTED(surf2Dread, "surface objects; use a pointer instead")
MC_UNSUPPORTED(surf1Dwrite, "surface objects; use a pointer instead")
MC_UNSUPPORTED(surf2Dwrite, "surface objects; use a pointer instead")
MC_UNSUPPORTED(cudaMalloc, "device-side allocation; allocate on the host and pass the array")
MC_UNSUPPORTED(cudaFree, "device-side allocation; allocate on the host and pass the array")
MC_UNSUPPORTED(cudaDeviceSynchronize, "device-side synchronisation (dynamic parallelism)")
MC_UNSUPPORTED(cudaLaunchDevice, "dynamic parallelism; launch kernels from the host")
#undef MC_UNSUPPORTED

// ---- Entry points generated for each kernel -----------------------------------------------------
#include "param_desc.h"

#if MC_CHECKED
#if MC_MEMORY_PROFILE
#include "memory_profile_cpu.h"
#else
#include "checked_cpu.h"
#endif
#include "checked.h"
#endif
namespace __mc {

__attribute__((always_inline)) inline void enter(const mc_launch* l, mc_worker* w, void* shared) {
#if MC_CHECKED
    check = l->check;
#endif
    launch = l;
    worker = w;
    dynamic_shared = shared;
    bdim = dim3(l->block.x, l->block.y, l->block.z);
    gdim = dim3(l->grid.x, l->grid.y, l->grid.z);
}

// Block `linear` of the grid (x fastest), and the one after `b`: a launch's blocks are
// walked with increments, not three divisions each.
__attribute__((always_inline)) inline uint3 first_block(const mc_launch* l, uint64_t linear) {
    const uint64_t gx = l->grid.x, gy = l->grid.y;
    return uint3{static_cast<unsigned>(linear % gx), static_cast<unsigned>(linear / gx % gy),
                 static_cast<unsigned>(linear / (gx * gy))};
}
__attribute__((always_inline)) inline void next_block(const mc_launch* l, uint3& b) {
    if (++b.x < l->grid.x) return;
    b.x = 0;
    if (++b.y < l->grid.y) return;
    b.y = 0;
    ++b.z;
}

template <auto Kernel>
struct entry;

// Argument `i` as parameter type P takes it; a checked pointer is made from the raw pointer
// the runtime passed and the variable it describes.
template <class P>
__attribute__((always_inline)) inline decltype(auto) argument(const mc_launch* l, size_t i) {
    using D = std::decay_t<P>;
    if constexpr (is_checked_ptr<D>::value) {
        return D(*static_cast<typename D::element_type* const*>(l->args[i]), &l->check->params[i]);
    } else {
        return *static_cast<const D*>(l->args[i]);
    }
}

template <class... P, void (*Kernel)(P...)>
struct entry<Kernel> {
    static constexpr mc_param_desc params[sizeof...(P) + 1] = {describe<P>()..., mc_param_desc{}};

    template <size_t... I>
    static void blocks(const mc_launch* l, uint64_t first, uint64_t last,
                       std::index_sequence<I...>) {
        // Copies of the arguments, so the thread loop reads them from registers.
        auto body = [... a = argument<P>(l, I)]() {
            Kernel(a...);
        };
        const int bx = static_cast<int>(l->block.x), by = static_cast<int>(l->block.y),
                  bz = static_cast<int>(l->block.z);
        uint3 b3 = first_block(l, first);
        for (uint64_t b = first; b < last; ++b, next_block(l, b3)) {
            bid = b3;
#if MC_CHECKED
            check->begin_block(check, b);
#endif
            // Signed thread indices (at most 1024 a block): the compiler may take
            // `blockIdx.x * blockDim.x + threadIdx.x`-shaped indices as affine.
            for (int z = 0; z < bz; ++z) {
                tid.z = static_cast<unsigned>(z);
                for (int y = 0; y < by; ++y) {
                    tid.y = static_cast<unsigned>(y);
                    for (int x = 0; x < bx; ++x) {
                        tid.x = static_cast<unsigned>(x);
                        body();
                    }
                }
            }
        }
    }
    static void run_blocks(const mc_launch* l, mc_worker* w, void* shared, uint64_t first,
                           uint64_t last) {
        enter(l, w, shared);
        blocks(l, first, last, std::index_sequence_for<P...>{});
    }

    template <size_t... I>
    static void thread(const mc_launch* l, std::index_sequence<I...>) {
        Kernel(argument<P>(l, I)...);
    }
    static void run_thread(const mc_launch* l, mc_worker* w, void* shared, mc_dim3 b, mc_dim3 t) {
        enter(l, w, shared);
        bid = uint3{b.x, b.y, b.z};
        tid = uint3{t.x, t.y, t.z};
        thread(l, std::index_sequence_for<P...>{});
    }

    static constexpr mc_kernel_entry make(const char* name) {
        return mc_kernel_entry{name, static_cast<uint32_t>(sizeof...(P)), params, &run_blocks,
                               &run_thread, 0};
    }

    // A kernel that loop fission rewrote runs once per block: its body loops over the block's
    // threads itself (src/core/fission.cpp).
    template <size_t... I>
    static void block_calls(const mc_launch* l, uint64_t first, uint64_t last,
                            std::index_sequence<I...>) {
        uint3 b3 = first_block(l, first);
        for (uint64_t b = first; b < last; ++b, next_block(l, b3)) {
            bid = b3;
            Kernel(argument<P>(l, I)...);
        }
    }
    static void run_split_blocks(const mc_launch* l, mc_worker* w, void* shared, uint64_t first,
                                 uint64_t last) {
        enter(l, w, shared);
        block_calls(l, first, last, std::index_sequence_for<P...>{});
    }
    static constexpr mc_kernel_entry make_block(const char* name) {
        return mc_kernel_entry{name, static_cast<uint32_t>(sizeof...(P)), params,
                               &run_split_blocks, nullptr, 0};
    }

    // A kernel whose rewritten body loops over blocks [grid_first, grid_last) itself (a
    // grid-stride loop taking every block's threads at each step): called once per range.
    template <size_t... I>
    static void grid_call(const mc_launch* l, std::index_sequence<I...>) {
        Kernel(argument<P>(l, I)...);
    }
    static void run_grid(const mc_launch* l, mc_worker* w, void* shared, uint64_t first,
                         uint64_t last) {
        enter(l, w, shared);
        grid_first = first;
        grid_last = last;
        grid_call(l, std::index_sequence_for<P...>{});
    }
    static constexpr mc_kernel_entry make_grid(const char* name) {
        return mc_kernel_entry{name, static_cast<uint32_t>(sizeof...(P)), params, &run_grid,
                               nullptr, MC_KERNEL_GRID_MAJOR};
    }
};

}  // namespace __mc


/// The generated table's one entry per kernel: MC_KERNEL_ENTRY(saxpy, "saxpy").
#define MC_KERNEL_ENTRY(expression, name) ::__mc::entry<&expression>::make(name)

#endif  // MANYCORE_PRELUDE_CPU_PRELUDE_H

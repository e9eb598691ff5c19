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

#define __MANYCORE__ 1
#define __MANYCORE_CUDA__ 1

namespace __mc {

template <class T>
struct vector_lanes {
    static constexpr uint8_t lanes = 1;
    static constexpr uint8_t dtype = MC_DT_VOID;
};

// Same rules as cpu_prelude.h's dtype_code and describe: the two must agree field by field
// (tests/cpp/test_cuda_nvrtc.cpp compares them).
template <class T>
__host__ __device__ constexpr uint8_t dtype_code() {
    typedef typename std::remove_cv<T>::type U;
    if constexpr (std::is_void<U>::value) return MC_DT_VOID;
    else if constexpr (std::is_same<U, bool>::value) return MC_DT_BOOL;
    else if constexpr (std::is_same<U, char>::value) return MC_DT_CHAR;
    else if constexpr (std::is_same<U, float>::value) return MC_DT_FLOAT32;
    else if constexpr (std::is_same<U, double>::value) return MC_DT_FLOAT64;
    else if constexpr (std::is_integral<U>::value) {
        constexpr bool s = std::is_signed<U>::value;
        if constexpr (sizeof(U) == 1) return s ? MC_DT_INT8 : MC_DT_UINT8;
        else if constexpr (sizeof(U) == 2) return s ? MC_DT_INT16 : MC_DT_UINT16;
        else if constexpr (sizeof(U) == 4) return s ? MC_DT_INT32 : MC_DT_UINT32;
        else return s ? MC_DT_INT64 : MC_DT_UINT64;
    } else if constexpr (std::is_pointer<U>::value) return MC_DT_UINT64;  // arrays of addresses
    else return MC_DT_RECORD;
}

template <class P>
__host__ __device__ constexpr mc_param_desc describe() {
    typedef typename std::remove_cv<typename std::remove_reference<P>::type>::type T;
    mc_param_desc d{};
    d.size = sizeof(T);
    d.align = alignof(T);
    d.lanes = 1;
    d.lane_dtype = MC_DT_VOID;
    if constexpr (std::is_pointer<T>::value) {
        typedef typename std::remove_pointer<T>::type E;
        d.kind = MC_PARAM_POINTER;
        d.dtype = dtype_code<E>();
        d.pointee_const = std::is_const<E>::value ? 1 : 0;
        if constexpr (!std::is_void<E>::value && !std::is_function<E>::value) {
            d.elem_size = sizeof(E);
            d.lanes = vector_lanes<typename std::remove_cv<E>::type>::lanes;
            d.lane_dtype = vector_lanes<typename std::remove_cv<E>::type>::dtype;
        }
    } else if constexpr (std::is_arithmetic<T>::value || std::is_enum<T>::value) {
        d.kind = MC_PARAM_SCALAR;
        if constexpr (std::is_enum<T>::value) d.dtype = dtype_code<typename std::underlying_type<T>::type>();
        else d.dtype = dtype_code<T>();
    } else {
        d.kind = MC_PARAM_RECORD;
        d.dtype = MC_DT_RECORD;
        d.lanes = vector_lanes<T>::lanes;
        d.lane_dtype = vector_lanes<T>::dtype;
    }
    return d;
}

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

#define MC_VECTOR_LANES(type, n, code)         \
    template <>                                \
    struct vector_lanes<type> {                \
        static constexpr uint8_t lanes = n;    \
        static constexpr uint8_t dtype = code; \
    };
#define MC_VECTOR_LANES_1234(base, code) \
    MC_VECTOR_LANES(base##1, 1, code)    \
    MC_VECTOR_LANES(base##2, 2, code)    \
    MC_VECTOR_LANES(base##3, 3, code)    \
    MC_VECTOR_LANES(base##4, 4, code)
MC_VECTOR_LANES_1234(char, MC_DT_INT8)
MC_VECTOR_LANES_1234(uchar, MC_DT_UINT8)
MC_VECTOR_LANES_1234(short, MC_DT_INT16)
MC_VECTOR_LANES_1234(ushort, MC_DT_UINT16)
MC_VECTOR_LANES_1234(int, MC_DT_INT32)
MC_VECTOR_LANES_1234(uint, MC_DT_UINT32)
MC_VECTOR_LANES_1234(longlong, MC_DT_INT64)
MC_VECTOR_LANES_1234(ulonglong, MC_DT_UINT64)
MC_VECTOR_LANES_1234(float, MC_DT_FLOAT32)
MC_VECTOR_LANES_1234(double, MC_DT_FLOAT64)
#undef MC_VECTOR_LANES_1234
#undef MC_VECTOR_LANES

}  // namespace __mc

/// The generated table's one entry per kernel: MC_PARAM_TABLE(0, saxpy) defines the device
/// symbol __mc_params_0 that the CUDA room reads after loading the module.
#define MC_PARAM_TABLE(index, ...)                                                            \
    extern "C" __device__ const ::__mc::param_table<decltype(__VA_ARGS__)> __mc_params_##index = \
        ::__mc::param_table<decltype(__VA_ARGS__)>::make();

#endif  // MANYCORE_PRELUDE_CUDA_PRELUDE_H

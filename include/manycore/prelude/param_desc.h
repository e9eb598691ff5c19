// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// How a kernel parameter's C++ type becomes the mc_param_desc the launcher checks arguments
// against. One header for both preludes, so the CPU and the GPU describe every type alike
// (tests/cpp/test_cuda_nvrtc.cpp compares the two field by field). It needs <type_traits>,
// <cstdint>, abi.h, the vector types and __host__/__device__ defined before it.
#ifndef MANYCORE_PRELUDE_PARAM_DESC_H
#define MANYCORE_PRELUDE_PARAM_DESC_H

namespace __mc {

template <class T>
struct vector_lanes {
    static constexpr uint8_t lanes = 1;
    static constexpr uint8_t dtype = MC_DT_VOID;
};

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

// The type a parameter is described as: itself, except where a prelude mode says otherwise
// (checked mode's checked_ptr<T> is a T* to the launcher, with `checked` set).
template <class T>
struct described_as {
    typedef T type;
};
template <class T>
struct is_checked_ptr : std::false_type {};

template <class P>
__host__ __device__ constexpr mc_param_desc describe() {
    typedef typename std::remove_cv<typename std::remove_reference<P>::type>::type D;
    typedef typename described_as<D>::type T;
    mc_param_desc d{};
    d.checked = is_checked_ptr<D>::value ? 1 : 0;
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

#endif  // MANYCORE_PRELUDE_PARAM_DESC_H

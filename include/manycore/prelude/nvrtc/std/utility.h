// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <utility> for kernels compiled by NVRTC (registered under that name). std::move and std::forward are built into NVRTC.
#ifndef MANYCORE_NVRTC_UTILITY
#define MANYCORE_NVRTC_UTILITY

#include <type_traits>

namespace std {

template <class T>
__host__ __device__ constexpr void swap(T& a, T& b) noexcept {
    T t = static_cast<T&&>(a);
    a = static_cast<T&&>(b);
    b = static_cast<T&&>(t);
}

template <class T, class U = T>
__host__ __device__ constexpr T exchange(T& obj, U&& value) {
    T old = static_cast<T&&>(obj);
    obj = static_cast<U&&>(value);
    return old;
}

template <class T, T... I>
struct integer_sequence {
    typedef T value_type;
    __host__ __device__ static constexpr decltype(sizeof(0)) size() noexcept { return sizeof...(I); }
};
template <decltype(sizeof(0))... I>
using index_sequence = integer_sequence<decltype(sizeof(0)), I...>;

// NVRTC has no __make_integer_seq: build the sequence by doubling (log depth).
template <class T, class A, class B> struct mc_seq_concat;
template <class T, T... A, T... B>
struct mc_seq_concat<T, integer_sequence<T, A...>, integer_sequence<T, B...>> {
    typedef integer_sequence<T, A..., static_cast<T>(sizeof...(A) + B)...> type;
};
template <class T, decltype(sizeof(0)) N>
struct mc_make_seq {
    typedef typename mc_seq_concat<T, typename mc_make_seq<T, N / 2>::type,
                                   typename mc_make_seq<T, N - N / 2>::type>::type type;
};
template <class T> struct mc_make_seq<T, 0> { typedef integer_sequence<T> type; };
template <class T> struct mc_make_seq<T, 1> { typedef integer_sequence<T, 0> type; };

template <class T, T N>
using make_integer_sequence = typename mc_make_seq<T, static_cast<decltype(sizeof(0))>(N)>::type;
template <decltype(sizeof(0)) N>
using make_index_sequence = make_integer_sequence<decltype(sizeof(0)), N>;
template <class... T>
using index_sequence_for = make_index_sequence<sizeof...(T)>;

template <class T1, class T2>
struct pair {
    typedef T1 first_type;
    typedef T2 second_type;
    T1 first;
    T2 second;
};
template <class T1, class T2>
__host__ __device__ constexpr pair<typename decay<T1>::type, typename decay<T2>::type> make_pair(T1&& a, T2&& b) {
    return {static_cast<T1&&>(a), static_cast<T2&&>(b)};
}

}  // namespace std

#endif  // MANYCORE_NVRTC_UTILITY

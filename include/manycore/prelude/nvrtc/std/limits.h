// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <limits> for kernels compiled by NVRTC (registered under that name): std::numeric_limits of the arithmetic types.
#ifndef MANYCORE_NVRTC_LIMITS
#define MANYCORE_NVRTC_LIMITS

namespace std {

enum float_round_style { round_indeterminate = -1, round_toward_zero = 0, round_to_nearest = 1 };

template <class T>
struct numeric_limits {
    static constexpr bool is_specialized = false;
};
template <class T> struct numeric_limits<const T> : numeric_limits<T> {};
template <class T> struct numeric_limits<volatile T> : numeric_limits<T> {};
template <class T> struct numeric_limits<const volatile T> : numeric_limits<T> {};

// Integers: two's complement, `digits` value bits.
template <class T, bool Signed, int Bits>
struct mc_integer_limits {
    static constexpr bool is_specialized = true;
    static constexpr bool is_signed = Signed;
    static constexpr bool is_integer = true;
    static constexpr bool is_exact = true;
    static constexpr bool has_infinity = false;
    static constexpr bool has_quiet_NaN = false;
    static constexpr bool has_signaling_NaN = false;
    static constexpr bool is_iec559 = false;
    static constexpr bool is_bounded = true;
    static constexpr bool is_modulo = !Signed;
    static constexpr int radix = 2;
    static constexpr int digits = Bits - (Signed ? 1 : 0);
    static constexpr int digits10 = digits * 301 / 1000;
    static constexpr float_round_style round_style = round_toward_zero;
    __host__ __device__ static constexpr T max() noexcept {
        return Signed ? static_cast<T>(((static_cast<unsigned long long>(1) << (Bits - 2)) - 1) * 2 + 1)
                      : static_cast<T>(~static_cast<T>(0));
    }
    __host__ __device__ static constexpr T min() noexcept {
        return Signed ? static_cast<T>(-max() - 1) : static_cast<T>(0);
    }
    __host__ __device__ static constexpr T lowest() noexcept { return min(); }
    __host__ __device__ static constexpr T epsilon() noexcept { return 0; }
    __host__ __device__ static constexpr T round_error() noexcept { return 0; }
    __host__ __device__ static constexpr T infinity() noexcept { return 0; }
    __host__ __device__ static constexpr T quiet_NaN() noexcept { return 0; }
    __host__ __device__ static constexpr T denorm_min() noexcept { return 0; }
};
template <> struct numeric_limits<bool> : mc_integer_limits<bool, false, 1> {
    __host__ __device__ static constexpr bool max() noexcept { return true; }
    __host__ __device__ static constexpr bool min() noexcept { return false; }
    __host__ __device__ static constexpr bool lowest() noexcept { return false; }
};
template <> struct numeric_limits<char> : mc_integer_limits<char, true, 8> {};
template <> struct numeric_limits<signed char> : mc_integer_limits<signed char, true, 8> {};
template <> struct numeric_limits<unsigned char> : mc_integer_limits<unsigned char, false, 8> {};
template <> struct numeric_limits<short> : mc_integer_limits<short, true, 16> {};
template <> struct numeric_limits<unsigned short> : mc_integer_limits<unsigned short, false, 16> {};
template <> struct numeric_limits<int> : mc_integer_limits<int, true, 32> {};
template <> struct numeric_limits<unsigned int> : mc_integer_limits<unsigned int, false, 32> {};
template <> struct numeric_limits<long> : mc_integer_limits<long, true, 64> {};
template <> struct numeric_limits<unsigned long> : mc_integer_limits<unsigned long, false, 64> {};
template <> struct numeric_limits<long long> : mc_integer_limits<long long, true, 64> {};
template <> struct numeric_limits<unsigned long long> : mc_integer_limits<unsigned long long, false, 64> {};

// IEEE binary32 and binary64, from their bit patterns (NVRTC has no __builtin_huge_valf).
template <class T, class Bits, int Digits, int MinExp, int MaxExp, Bits Max, Bits Min, Bits Eps,
          Bits Inf, Bits QNaN, Bits SNaN, Bits Denorm>
struct mc_float_limits {
    static constexpr bool is_specialized = true;
    static constexpr bool is_signed = true;
    static constexpr bool is_integer = false;
    static constexpr bool is_exact = false;
    static constexpr bool has_infinity = true;
    static constexpr bool has_quiet_NaN = true;
    static constexpr bool has_signaling_NaN = true;
    static constexpr bool is_iec559 = true;
    static constexpr bool is_bounded = true;
    static constexpr bool is_modulo = false;
    static constexpr int radix = 2;
    static constexpr int digits = Digits;
    static constexpr int digits10 = (Digits - 1) * 301 / 1000;
    static constexpr int max_digits10 = 2 + Digits * 301 / 1000;
    static constexpr int min_exponent = MinExp;
    static constexpr int max_exponent = MaxExp;
    static constexpr float_round_style round_style = round_to_nearest;
    __host__ __device__ static constexpr T max() noexcept { return __builtin_bit_cast(T, Max); }
    __host__ __device__ static constexpr T min() noexcept { return __builtin_bit_cast(T, Min); }
    __host__ __device__ static constexpr T lowest() noexcept { return -max(); }
    __host__ __device__ static constexpr T epsilon() noexcept { return __builtin_bit_cast(T, Eps); }
    __host__ __device__ static constexpr T round_error() noexcept { return T(0.5); }
    __host__ __device__ static constexpr T infinity() noexcept { return __builtin_bit_cast(T, Inf); }
    __host__ __device__ static constexpr T quiet_NaN() noexcept { return __builtin_bit_cast(T, QNaN); }
    __host__ __device__ static constexpr T signaling_NaN() noexcept { return __builtin_bit_cast(T, SNaN); }
    __host__ __device__ static constexpr T denorm_min() noexcept { return __builtin_bit_cast(T, Denorm); }
};
template <> struct numeric_limits<float>
    : mc_float_limits<float, unsigned int, 24, -125, 128, 0x7f7fffffu, 0x00800000u, 0x34000000u,
                      0x7f800000u, 0x7fc00000u, 0x7fa00000u, 0x00000001u> {};
template <> struct numeric_limits<double>
    : mc_float_limits<double, unsigned long long, 53, -1021, 1024, 0x7fefffffffffffffull,
                      0x0010000000000000ull, 0x3cb0000000000000ull, 0x7ff0000000000000ull,
                      0x7ff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull> {};

}  // namespace std

#endif  // MANYCORE_NVRTC_LIMITS

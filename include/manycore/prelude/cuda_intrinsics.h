// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// CUDA's device intrinsics on the CPU: __expf, __fmul_rn, __float2int_rd, __popc, __ldg, clock64...
//
// Semantics follow the CUDA Math API and the PTX ISA, not the C library, wherever the two differ:
// float->int conversions saturate and give PTX's NaN results, `_rn` arithmetic is never fused into
// an FMA, and the directed roundings (`_rz`, `_ru`, `_rd`) really round that way. The fast
// intrinsics (__expf, __sinf, ...) call the accurate functions: at least as accurate as the GPU's.
#ifndef MANYCORE_PRELUDE_CUDA_INTRINSICS_H
#define MANYCORE_PRELUDE_CUDA_INTRINSICS_H

#include <fenv.h>
#include <limits.h>
// The C++ <math.h> also puts std's float overloads (sqrt(float), ...) at global scope, as CUDA's.
#include <math.h>
#include <stdint.h>

#include <ctime>

#define MC_INTRIN_FN static inline
#define MC_INTRIN_FI static inline __attribute__((always_inline))
// For names the C library has declared extern: inline, and hidden so that an out-of-line copy
// (at -O0) never leaves the kernel library.
#define MC_INTRIN_CFN inline __attribute__((always_inline, visibility("hidden")))

// glibc declares exp10/exp10f and sincos/sincosf as GNU extensions (g++ and clang++ define
// _GNU_SOURCE); elsewhere cuda_math.h defines them.
#if defined(__GLIBC__) && defined(__USE_GNU)
#define MC_LIBM_HAS_GNU_EXTENSIONS 1
#else
#define MC_LIBM_HAS_GNU_EXTENSIONS 0
#endif

namespace __mc_detail {

// An empty asm that claims to change `v` in a floating-point register: the optimiser can no
// longer fuse the operation that made `v` with the one that uses it (no FMA contraction, no
// reassociation), yet no instruction is emitted.
template <class T>
MC_INTRIN_FI T opaque(T v) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__("" : "+x"(v));
#elif defined(__aarch64__)
    __asm__("" : "+w"(v));
#else
    __asm__("" : "+m"(v));
#endif
    return v;
}

// Pins `v` in time as well: a volatile asm with a memory clobber is ordered against the
// fesetround calls around it, so the operation between them cannot be hoisted, sunk or folded.
template <class T>
MC_INTRIN_FI T pin(T v) {
    __asm__ __volatile__("" : "+m"(v) : : "memory");
    return v;
}

// Keeps the value argument of __stcg and friends out of deduction, so `__stcg(float_ptr, 0)`
// converts the 0 as CUDA's non-template overloads would.
template <class T>
struct identity {
    using type = T;
};

// Runs `op` with the FPU in rounding mode `mode` (FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD). Costs
// two mode switches; the directed-rounding intrinsics are rare, and correctness comes first.
template <int mode, class Op>
MC_INTRIN_FN auto with_rounding(Op op) {
    const int saved = fegetround();
    fesetround(mode);
    auto r = pin(op());
    fesetround(saved);
    return r;
}

// The integer that PTX's cvt.{rni,rzi,rpi,rmi} gives for `r`, already rounded to an integral
// value: saturated to I's range; NaN gives 0 for f32 to 32-bit, else 1 << (bits - 1).
template <class I, class F>
MC_INTRIN_FI I saturate_to(F r) {
    constexpr int bits = int(sizeof(I)) * 8;
    constexpr bool is_signed = I(-1) < I(0);
    constexpr F half_range = F(1ull << (bits - 1));                  // 2^(bits-1), exact in F
    constexpr F above = is_signed ? half_range : F(2) * half_range;  // first value past the top
    constexpr F lowest = is_signed ? -half_range : F(0);
    constexpr I max = is_signed ? I(~0ull >> (65 - bits)) : I(~I(0));
    constexpr I min = is_signed ? I(-max - 1) : I(0);
    if (r != r) return (sizeof(F) == 4 && bits == 32) ? I(0) : I(1ull << (bits - 1));
    if (r >= above) return max;
    if (r < lowest) return min;
    return I(r);
}

}  // namespace __mc_detail

// Fast-math intrinsics. CUDA's are approximations with documented error bounds; these are the
// accurate functions, within every one of those bounds. glibc's <math.h> already declares these
// ten names (extern "C", noexcept) as internal aliases it does not export, so they are defined
// with exactly that signature; `static` would contradict the declaration.
extern "C" {
MC_INTRIN_CFN float __expf(float x) noexcept { return expf(x); }
MC_INTRIN_CFN float __exp10f(float x) noexcept {
#if MC_LIBM_HAS_GNU_EXTENSIONS
    return exp10f(x);
#else
    return powf(10.0f, x);
#endif
}
MC_INTRIN_CFN float __logf(float x) noexcept { return logf(x); }
MC_INTRIN_CFN float __log2f(float x) noexcept { return log2f(x); }
MC_INTRIN_CFN float __log10f(float x) noexcept { return log10f(x); }
MC_INTRIN_CFN float __powf(float x, float y) noexcept { return powf(x, y); }
MC_INTRIN_CFN float __sinf(float x) noexcept { return sinf(x); }
MC_INTRIN_CFN float __cosf(float x) noexcept { return cosf(x); }
MC_INTRIN_CFN float __tanf(float x) noexcept { return tanf(x); }
MC_INTRIN_CFN void __sincosf(float x, float* s, float* c) noexcept {
#if MC_LIBM_HAS_GNU_EXTENSIONS
    sincosf(x, s, c);
#else
    *s = sinf(x);
    *c = cosf(x);
#endif
}
}  // extern "C"
MC_INTRIN_FI float __fdividef(float x, float y) { return x / y; }
/// Clamps to [+0, 1]; NaN gives +0.
MC_INTRIN_FI float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }

// IEEE arithmetic rounded to nearest. CUDA promises these are never contracted into an FMA
// (that is their point: Kahan sums, error-free transforms), so operands and result are opaque.
MC_INTRIN_FI float __fadd_rn(float a, float b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) + opaque(b));
}
MC_INTRIN_FI float __fsub_rn(float a, float b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) - opaque(b));
}
MC_INTRIN_FI float __fmul_rn(float a, float b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) * opaque(b));
}
MC_INTRIN_FI double __dadd_rn(double a, double b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) + opaque(b));
}
MC_INTRIN_FI double __dsub_rn(double a, double b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) - opaque(b));
}
MC_INTRIN_FI double __dmul_rn(double a, double b) {
    using __mc_detail::opaque;
    return opaque(opaque(a) * opaque(b));
}
// Division, square root and fma cannot be contracted further, so they stay vectorisable.
MC_INTRIN_FI float __fmaf_rn(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
MC_INTRIN_FI float __fdiv_rn(float a, float b) { return a / b; }
MC_INTRIN_FI float __frcp_rn(float a) { return 1.0f / a; }
MC_INTRIN_FI float __fsqrt_rn(float a) { return __builtin_sqrtf(a); }
// In double, 1/sqrt(x) carries 53 bits for a 24-bit answer; that is correctly rounded for every
// float (checked exhaustively over [1, 4), which covers all exponents).
MC_INTRIN_FI float __frsqrt_rn(float a) { return float(1.0 / __builtin_sqrt(double(a))); }
MC_INTRIN_FI double __fma_rn(double a, double b, double c) { return __builtin_fma(a, b, c); }
MC_INTRIN_FI double __ddiv_rn(double a, double b) { return a / b; }
MC_INTRIN_FI double __drcp_rn(double a) { return 1.0 / a; }
MC_INTRIN_FI double __dsqrt_rn(double a) { return __builtin_sqrt(a); }

// The directed roundings of one operation: NAME_rz, NAME_ru and NAME_rd.
#define MC_DIRECTED(name, T, params, expr)                                             \
    MC_INTRIN_FN T name##_rz params {                                                  \
        using __mc_detail::pin;                                                        \
        return __mc_detail::with_rounding<FE_TOWARDZERO>([&]() -> T { return expr; }); \
    }                                                                                  \
    MC_INTRIN_FN T name##_ru params {                                                  \
        using __mc_detail::pin;                                                        \
        return __mc_detail::with_rounding<FE_UPWARD>([&]() -> T { return expr; });     \
    }                                                                                  \
    MC_INTRIN_FN T name##_rd params {                                                  \
        using __mc_detail::pin;                                                        \
        return __mc_detail::with_rounding<FE_DOWNWARD>([&]() -> T { return expr; });   \
    }

MC_DIRECTED(__fadd, float, (float a, float b), pin(a) + pin(b))
MC_DIRECTED(__fsub, float, (float a, float b), pin(a) - pin(b))
MC_DIRECTED(__fmul, float, (float a, float b), pin(a) * pin(b))
MC_DIRECTED(__fmaf, float, (float a, float b, float c), __builtin_fmaf(pin(a), pin(b), pin(c)))
MC_DIRECTED(__fdiv, float, (float a, float b), pin(a) / pin(b))
MC_DIRECTED(__frcp, float, (float a), 1.0f / pin(a))
MC_DIRECTED(__fsqrt, float, (float a), __builtin_sqrtf(pin(a)))
MC_DIRECTED(__dadd, double, (double a, double b), pin(a) + pin(b))
MC_DIRECTED(__dsub, double, (double a, double b), pin(a) - pin(b))
MC_DIRECTED(__dmul, double, (double a, double b), pin(a) * pin(b))
MC_DIRECTED(__fma, double, (double a, double b, double c), __builtin_fma(pin(a), pin(b), pin(c)))
MC_DIRECTED(__ddiv, double, (double a, double b), pin(a) / pin(b))
MC_DIRECTED(__drcp, double, (double a), 1.0 / pin(a))
MC_DIRECTED(__dsqrt, double, (double a), __builtin_sqrt(pin(a)))

// Conversions to floating point: the hardware conversion honours the rounding mode.
MC_INTRIN_FI float __int2float_rn(int x) { return float(x); }
MC_INTRIN_FI float __uint2float_rn(unsigned int x) { return float(x); }
MC_INTRIN_FI float __ll2float_rn(long long x) { return float(x); }
MC_INTRIN_FI float __ull2float_rn(unsigned long long x) { return float(x); }
MC_INTRIN_FI double __int2double_rn(int x) { return double(x); }
MC_INTRIN_FI double __uint2double_rn(unsigned int x) { return double(x); }
MC_INTRIN_FI double __ll2double_rn(long long x) { return double(x); }
MC_INTRIN_FI double __ull2double_rn(unsigned long long x) { return double(x); }
MC_INTRIN_FI float __double2float_rn(double x) { return float(x); }
MC_DIRECTED(__int2float, float, (int x), float(pin(x)))
MC_DIRECTED(__uint2float, float, (unsigned int x), float(pin(x)))
MC_DIRECTED(__ll2float, float, (long long x), float(pin(x)))
MC_DIRECTED(__ull2float, float, (unsigned long long x), float(pin(x)))
MC_DIRECTED(__ll2double, double, (long long x), double(pin(x)))
MC_DIRECTED(__ull2double, double, (unsigned long long x), double(pin(x)))
MC_DIRECTED(__double2float, float, (double x), float(pin(x)))

#undef MC_DIRECTED

// Conversions to integers: round in floating point (exact), then saturate as PTX does.
#define MC_TO_INT(name, I, F, rint, trunc, ceil, floor)                             \
    MC_INTRIN_FI I name##_rn(F x) { return __mc_detail::saturate_to<I>(rint(x)); }  \
    MC_INTRIN_FI I name##_rz(F x) { return __mc_detail::saturate_to<I>(trunc(x)); } \
    MC_INTRIN_FI I name##_ru(F x) { return __mc_detail::saturate_to<I>(ceil(x)); }  \
    MC_INTRIN_FI I name##_rd(F x) { return __mc_detail::saturate_to<I>(floor(x)); }
#define MC_FROM_FLOAT(name, I) \
    MC_TO_INT(name, I, float, __builtin_rintf, __builtin_truncf, __builtin_ceilf, __builtin_floorf)
#define MC_FROM_DOUBLE(name, I) \
    MC_TO_INT(name, I, double, __builtin_rint, __builtin_trunc, __builtin_ceil, __builtin_floor)

MC_FROM_FLOAT(__float2int, int)
MC_FROM_FLOAT(__float2uint, unsigned int)
MC_FROM_FLOAT(__float2ll, long long)
MC_FROM_FLOAT(__float2ull, unsigned long long)
MC_FROM_DOUBLE(__double2int, int)
MC_FROM_DOUBLE(__double2uint, unsigned int)
MC_FROM_DOUBLE(__double2ll, long long)
MC_FROM_DOUBLE(__double2ull, unsigned long long)

#undef MC_FROM_DOUBLE
#undef MC_FROM_FLOAT
#undef MC_TO_INT

// Reinterpretations. constexpr, so math_constants.h can build constants from bit patterns.
MC_INTRIN_FI constexpr int __float_as_int(float x) { return __builtin_bit_cast(int, x); }
MC_INTRIN_FI constexpr float __int_as_float(int x) { return __builtin_bit_cast(float, x); }
MC_INTRIN_FI constexpr unsigned int __float_as_uint(float x) {
    return __builtin_bit_cast(unsigned int, x);
}
MC_INTRIN_FI constexpr float __uint_as_float(unsigned int x) {
    return __builtin_bit_cast(float, x);
}
MC_INTRIN_FI constexpr long long __double_as_longlong(double x) {
    return __builtin_bit_cast(long long, x);
}
MC_INTRIN_FI constexpr double __longlong_as_double(long long x) {
    return __builtin_bit_cast(double, x);
}
MC_INTRIN_FI constexpr int __double2hiint(double x) {
    return int(__builtin_bit_cast(unsigned long long, x) >> 32);
}
MC_INTRIN_FI constexpr int __double2loint(double x) {
    return int(__builtin_bit_cast(unsigned long long, x) & 0xffffffffu);
}
MC_INTRIN_FI constexpr double __hiloint2double(int hi, int lo) {
    return __builtin_bit_cast(double,
                              (static_cast<unsigned long long>(static_cast<unsigned>(hi)) << 32) |
                                  static_cast<unsigned>(lo));
}

// Integer intrinsics, with CUDA's answers at the edges (__clz(0) == 32, __ffs(0) == 0).
MC_INTRIN_FI int __popc(unsigned int x) { return __builtin_popcount(x); }
MC_INTRIN_FI int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
MC_INTRIN_FI int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
MC_INTRIN_FI int __clzll(long long x) {
    return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
/// 1-based position of the least significant set bit; 0 when none is.
MC_INTRIN_FI int __ffs(int x) { return __builtin_ffs(x); }
MC_INTRIN_FI int __ffsll(long long x) { return __builtin_ffsll(x); }
MC_INTRIN_FI unsigned int __brev(unsigned int x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}
MC_INTRIN_FI unsigned long long __brevll(unsigned long long x) {
    return (static_cast<unsigned long long>(__brev(static_cast<unsigned>(x))) << 32) |
           __brev(static_cast<unsigned>(x >> 32));
}
/// Byte n of the result is byte ((s >> 4n) & 7) of the eight bytes {y, x} (x's are bytes 0-3).
MC_INTRIN_FI unsigned int __byte_perm(unsigned int x, unsigned int y, unsigned int s) {
    const unsigned long long bytes = (static_cast<unsigned long long>(y) << 32) | x;
    unsigned int r = 0;
    for (int n = 0; n < 4; ++n) {
        const unsigned int pick = (s >> (4 * n)) & 7u;
        r |= static_cast<unsigned int>((bytes >> (8 * pick)) & 0xffu) << (8 * n);
    }
    return r;
}
// Funnel shifts of the 64-bit value hi:lo. The plain forms take the shift mod 32, the `c` forms
// clamp it to 32.
MC_INTRIN_FI unsigned int __funnelshift_l(unsigned int lo, unsigned int hi, unsigned int shift) {
    const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
    return static_cast<unsigned int>((v << (shift & 31u)) >> 32);
}
MC_INTRIN_FI unsigned int __funnelshift_lc(unsigned int lo, unsigned int hi, unsigned int shift) {
    const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
    return static_cast<unsigned int>((v << (shift < 32u ? shift : 32u)) >> 32);
}
MC_INTRIN_FI unsigned int __funnelshift_r(unsigned int lo, unsigned int hi, unsigned int shift) {
    const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
    return static_cast<unsigned int>(v >> (shift & 31u));
}
MC_INTRIN_FI unsigned int __funnelshift_rc(unsigned int lo, unsigned int hi, unsigned int shift) {
    const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
    return static_cast<unsigned int>(v >> (shift < 32u ? shift : 32u));
}
/// Low 32 bits of the product of the low 24 bits of x and y, taken as signed 24-bit numbers.
MC_INTRIN_FI int __mul24(int x, int y) {
    const long long a = static_cast<int>(static_cast<unsigned>(x) << 8) >> 8;
    const long long b = static_cast<int>(static_cast<unsigned>(y) << 8) >> 8;
    return static_cast<int>(static_cast<unsigned>(a * b));
}
MC_INTRIN_FI unsigned int __umul24(unsigned int x, unsigned int y) {
    return (x & 0xffffffu) * (y & 0xffffffu);
}
MC_INTRIN_FI int __mulhi(int x, int y) {
    return static_cast<int>((static_cast<long long>(x) * y) >> 32);
}
MC_INTRIN_FI unsigned int __umulhi(unsigned int x, unsigned int y) {
    return static_cast<unsigned int>((static_cast<unsigned long long>(x) * y) >> 32);
}
MC_INTRIN_FI long long __mul64hi(long long x, long long y) {
    __extension__ typedef __int128 wide;
    return static_cast<long long>((static_cast<wide>(x) * y) >> 64);
}
MC_INTRIN_FI unsigned long long __umul64hi(unsigned long long x, unsigned long long y) {
    __extension__ typedef unsigned __int128 wide;
    return static_cast<unsigned long long>((static_cast<wide>(x) * y) >> 64);
}
// Halving adds without intermediate overflow; the signed ones round toward -infinity
// (__hadd(-3, 0) == -2), the `r` ones add 1 first.
MC_INTRIN_FI int __hadd(int x, int y) {
    return static_cast<int>((static_cast<long long>(x) + y) >> 1);
}
MC_INTRIN_FI int __rhadd(int x, int y) {
    return static_cast<int>((static_cast<long long>(x) + y + 1) >> 1);
}
MC_INTRIN_FI unsigned int __uhadd(unsigned int x, unsigned int y) {
    return static_cast<unsigned int>((static_cast<unsigned long long>(x) + y) >> 1);
}
MC_INTRIN_FI unsigned int __urhadd(unsigned int x, unsigned int y) {
    return static_cast<unsigned int>((static_cast<unsigned long long>(x) + y + 1) >> 1);
}
/// |x - y| + z, computed without overflow of the difference.
MC_INTRIN_FI unsigned int __sad(int x, int y, unsigned int z) {
    const long long d = static_cast<long long>(x) - y;
    return static_cast<unsigned int>(d < 0 ? -d : d) + z;
}
MC_INTRIN_FI unsigned int __usad(unsigned int x, unsigned int y, unsigned int z) {
    return (x > y ? x - y : y - x) + z;
}
/// Four-way byte dot product plus c (sm_61's dp4a), wrapping modulo 2^32.
MC_INTRIN_FI int __dp4a(int a, int b, int c) {
    unsigned int sum = static_cast<unsigned int>(c);
    for (int n = 0; n < 4; ++n) {
        const int pa = static_cast<signed char>(static_cast<unsigned>(a) >> (8 * n));
        const int pb = static_cast<signed char>(static_cast<unsigned>(b) >> (8 * n));
        sum += static_cast<unsigned int>(pa * pb);
    }
    return static_cast<int>(sum);
}
MC_INTRIN_FI unsigned int __dp4a(unsigned int a, unsigned int b, unsigned int c) {
    for (int n = 0; n < 4; ++n) c += ((a >> (8 * n)) & 0xffu) * ((b >> (8 * n)) & 0xffu);
    return c;
}

// Cache-hinted loads and stores. The CPU has one coherent memory, so every hint is a plain
// access; the "volatile" ones (__ldcv: fetch again, __stwt: write through) keep the compiler from
// reusing or delaying the access, which is what code that polls other blocks' writes relies on.
template <class T>
MC_INTRIN_FI T __ldg(const T* p) {
    return *p;
}
template <class T>
MC_INTRIN_FI T __ldcg(const T* p) {
    return *p;
}
template <class T>
MC_INTRIN_FI T __ldca(const T* p) {
    return *p;
}
template <class T>
MC_INTRIN_FI T __ldcs(const T* p) {
    return *p;
}
template <class T>
MC_INTRIN_FI T __ldlu(const T* p) {
    return *p;
}
template <class T>
MC_INTRIN_FI T __ldcv(const T* p) {
    __asm__ __volatile__("" : : : "memory");
    T v = *p;
    __asm__ __volatile__("" : : : "memory");
    return v;
}
template <class T>
MC_INTRIN_FI void __stcg(T* p, typename __mc_detail::identity<T>::type v) {
    *p = v;
}
template <class T>
MC_INTRIN_FI void __stcs(T* p, typename __mc_detail::identity<T>::type v) {
    *p = v;
}
template <class T>
MC_INTRIN_FI void __stwb(T* p, typename __mc_detail::identity<T>::type v) {
    *p = v;
}
template <class T>
MC_INTRIN_FI void __stwt(T* p, typename __mc_detail::identity<T>::type v) {
    __asm__ __volatile__("" : : : "memory");
    *p = v;
    __asm__ __volatile__("" : : : "memory");
}

// Memory fences. Blocks may run on different cores at once, so even the block-scope fence has
// to be a full one.
MC_INTRIN_FI void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
MC_INTRIN_FI void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
MC_INTRIN_FI void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/// Profiler counters do not exist here.
MC_INTRIN_FI void __prof_trigger(int) {}

/// A per-core cycle counter, as the GPU's: the TSC on x86 (invariant on every CPU of the last
/// fifteen years), else nanoseconds of the monotonic clock.
MC_INTRIN_FI long long clock64() {
#if defined(__x86_64__) || defined(__i386__)
    return static_cast<long long>(__builtin_ia32_rdtsc());
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000ll + ts.tv_nsec;
#endif
}
MC_INTRIN_FI clock_t __mc_clock() { return static_cast<clock_t>(clock64()); }
// CUDA's device clock() is a cycle counter; the C library's is process CPU time in microseconds,
// a thousand times too coarse for `while (clock() - t0 < cycles)` spin loops. So calls are
// renamed. <ctime> is included above: its declaration of clock, its `using ::clock` and its
// `#undef clock` have all been seen, and a later #include of it or of <time.h> is a no-op.
// Object-like, so that a kernel may itself be named clock (an overload of __mc_clock that
// the launch table picks by its type).
#define clock __mc_clock

/// Sleeps for about `ns` nanoseconds (CUDA caps the request at one millisecond).
MC_INTRIN_FN void __nanosleep(unsigned int ns) {
    if (ns > 1000000u) ns = 1000000u;
    struct timespec ts = {0, static_cast<long>(ns)};
    nanosleep(&ts, nullptr);
}

#undef MC_INTRIN_CFN
#undef MC_INTRIN_FI
#undef MC_INTRIN_FN

#endif  // MANYCORE_PRELUDE_CUDA_INTRINSICS_H

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Shared pieces of the kernel generators: C++ type names, the op preamble, launch shapes, caches.

Every array operation is a generated CUDA C++ kernel compiled through ``SourceModule`` on the
array's device, so the CPU and GPUs run the same code and share the compile cache. Generating
source text costs more than the launch itself, so each generator keeps a dict from what decides
the text (op, dtypes, rank, layout, device) to the compiled ``Function``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from ._core import Device, Function
from ._module import SourceModule

__all__ = ["c_type", "PREAMBLE", "cached_function", "launch_1d", "DeviceFacts", "facts"]

_C_TYPES = {
    "bool": "bool",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "float32": "float",
    "float64": "double",
    "complex64": "mc_complex<float>",
    "complex128": "mc_complex<double>",
}


_c_type_of: dict[Any, str] = {}


def c_type(dtype: Any) -> str:
    """The C++ spelling of a NumPy dtype inside generated kernels."""
    try:
        return _c_type_of[dtype]  # dtype.name costs microseconds; array operations ask often
    except (KeyError, TypeError):
        pass
    name = np.dtype(dtype).name
    if name in _C_TYPES and isinstance(dtype, np.dtype):
        _c_type_of[dtype] = _C_TYPES[name]
    try:
        return _C_TYPES[name]
    except KeyError:
        raise TypeError(
            f"manycore array operations do not support dtype {name}; use bool, int8-int64, "
            "uint8-uint64, float32, float64, complex64 or complex128"
        ) from None


def is_complex(dtype: np.dtype) -> bool:
    return dtype.kind == "c"


def param_type(dtype: np.dtype, const: bool) -> str:
    """A kernel parameter that receives a contiguous array of ``dtype``.

    Complex arrays travel as untyped pointers (the launch checks a struct pointer against a
    record dtype) and are cast back in the kernel.
    """
    if is_complex(dtype):
        return "const void*" if const else "void*"
    return ("const " if const else "") + c_type(dtype) + "*"


# Everything generated kernels call: NumPy's integer semantics (wrap-around, floor division,
# x // 0 == 0), its float floor-division and remainder, and a small complex type. Templates are
# instantiated only where used, so the text costs little to compile.
PREAMBLE = r"""
#ifndef MC_ARRAY_PREAMBLE
#define MC_ARRAY_PREAMBLE
// Before a short loop over the lanes of a CPU reduction: kept a loop, GCC's loop vectoriser
// turns it into vector selects; completely unrolled first, each lane's NaN-aware max becomes a
// branch on random data.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define MC_ROLLED _Pragma("GCC unroll 1")
#else
#define MC_ROLLED
#endif
template <class T> struct mc_complex { T re, im; };
template <class T> struct mc_is_complex { static const bool value = false; };
template <class T> struct mc_is_complex<mc_complex<T> > { static const bool value = true; };
template <class T> struct mc_is_int { static const bool value = false; static const bool is_signed = false; typedef unsigned int wide; };
#define MC_INT(T, U, S) template <> struct mc_is_int<T> { static const bool value = true; \
    typedef U wide; static const bool is_signed = S; };
MC_INT(signed char, unsigned int, true) MC_INT(short, unsigned int, true)
MC_INT(int, unsigned int, true) MC_INT(long long, unsigned long long, true)
MC_INT(unsigned char, unsigned int, false) MC_INT(unsigned short, unsigned int, false)
MC_INT(unsigned int, unsigned int, false) MC_INT(unsigned long long, unsigned long long, false)
#undef MC_INT

__device__ inline float mc_floor(float x) { return floorf(x); }
__device__ inline double mc_floor(double x) { return floor(x); }
__device__ inline float mc_fmod(float a, float b) { return fmodf(a, b); }
__device__ inline double mc_fmod(double a, double b) { return fmod(a, b); }
__device__ inline float mc_copysign(float a, float b) { return copysignf(a, b); }
__device__ inline double mc_copysign(double a, double b) { return copysign(a, b); }
__device__ inline float mc_pow(float a, float b) { return powf(a, b); }
__device__ inline double mc_pow(double a, double b) { return pow(a, b); }
__device__ inline float mc_hypot(float a, float b) { return hypotf(a, b); }
__device__ inline double mc_hypot(double a, double b) { return hypot(a, b); }

// Casts between element types: C++ conversions, and the real part when leaving complex.
template <class To, class From> struct mc_cast_t {
    __device__ static inline To run(From x) { return (To)x; } };
template <class To, class F> struct mc_cast_t<To, mc_complex<F> > {
    __device__ static inline To run(mc_complex<F> x) { return (To)x.re; } };
template <class T, class From> struct mc_cast_t<mc_complex<T>, From> {
    __device__ static inline mc_complex<T> run(From x) { mc_complex<T> r; r.re = (T)x; r.im = (T)0; return r; } };
template <class T, class F> struct mc_cast_t<mc_complex<T>, mc_complex<F> > {
    __device__ static inline mc_complex<T> run(mc_complex<F> x) { mc_complex<T> r; r.re = (T)x.re; r.im = (T)x.im; return r; } };
template <class F> struct mc_cast_t<bool, mc_complex<F> > {
    __device__ static inline bool run(mc_complex<F> x) { return x.re != 0 || x.im != 0; } };
template <class To, class From> __device__ inline To mc_cast(From x) { return mc_cast_t<To, From>::run(x); }

// + - * and unary -: integers wrap around as in NumPy (computed unsigned: no undefined overflow).
template <class T> __device__ inline T mc_add(T a, T b) {
    if constexpr (mc_is_int<T>::value) { typedef typename mc_is_int<T>::wide U; return (T)((U)a + (U)b); }
    else if constexpr (mc_is_complex<T>::value) { T r; r.re = a.re + b.re; r.im = a.im + b.im; return r; }
    else return a + b; }
template <> __device__ inline bool mc_add<bool>(bool a, bool b) { return a || b; }
template <class T> __device__ inline T mc_sub(T a, T b) {
    if constexpr (mc_is_int<T>::value) { typedef typename mc_is_int<T>::wide U; return (T)((U)a - (U)b); }
    else if constexpr (mc_is_complex<T>::value) { T r; r.re = a.re - b.re; r.im = a.im - b.im; return r; }
    else return a - b; }
template <class T> __device__ inline T mc_mul(T a, T b) {
    if constexpr (mc_is_int<T>::value) { typedef typename mc_is_int<T>::wide U; return (T)((U)a * (U)b); }
    else if constexpr (mc_is_complex<T>::value) {
        T r; r.re = a.re * b.re - a.im * b.im; r.im = a.re * b.im + a.im * b.re; return r; }
    else return a * b; }
template <> __device__ inline bool mc_mul<bool>(bool a, bool b) { return a && b; }
template <class T> __device__ inline T mc_neg(T a) {
    if constexpr (mc_is_int<T>::value) { typedef typename mc_is_int<T>::wide U; return (T)((U)0 - (U)a); }
    else if constexpr (mc_is_complex<T>::value) { T r; r.re = -a.re; r.im = -a.im; return r; }
    else return -a; }
// Smith's algorithm, as NumPy divides complex numbers.
template <class T> __device__ inline T mc_div(T a, T b) {
    if constexpr (mc_is_complex<T>::value) {
        typedef decltype(a.re) R;
        const R abs_br = b.re < 0 ? -b.re : b.re, abs_bi = b.im < 0 ? -b.im : b.im;
        T r;
        if (abs_br >= abs_bi) {
            if (abs_br == 0 && abs_bi == 0) { r.re = a.re / abs_br; r.im = a.im / abs_bi; return r; }
            const R rat = b.im / b.re, scl = (R)1.0 / (b.re + b.im * rat);
            r.re = (a.re + a.im * rat) * scl; r.im = (a.im - a.re * rat) * scl;
        } else {
            const R rat = b.re / b.im, scl = (R)1.0 / (b.im + b.re * rat);
            r.re = (a.re * rat + a.im) * scl; r.im = (a.im * rat - a.re) * scl;
        }
        return r;
    } else return a / b; }
template <class T> __device__ inline T mc_floordiv(T a, T b) {
    if constexpr (mc_is_int<T>::value) {
        if (b == 0) return 0;  // NumPy gives 0 (and warns); a kernel cannot warn
        if constexpr (mc_is_int<T>::is_signed) {
            if (b == (T)-1) return mc_neg(a);  // MIN // -1 wraps instead of trapping
            T q = a / b;
            if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
            return q;
        } else return a / b;
    } else {
        if (b == 0) return a / b;
        T mod = mc_fmod(a, b);
        T div = (a - mod) / b;
        if (mod != 0) { if ((b < 0) != (mod < 0)) div -= (T)1; }
        T fl;
        if (div != 0) { fl = mc_floor(div); if (div - fl > (T)0.5) fl += (T)1; }
        else fl = mc_copysign((T)0, a / b);
        return fl;
    } }
template <> __device__ inline bool mc_floordiv<bool>(bool a, bool b) { return b ? a : false; }
template <class T> __device__ inline T mc_mod(T a, T b) {
    if constexpr (mc_is_int<T>::value) {
        if (b == 0) return 0;
        if constexpr (mc_is_int<T>::is_signed) {
            if (b == (T)-1) return 0;
            T r = a % b;
            if (r != 0 && ((r < 0) != (b < 0))) r += b;
            return r;
        } else return a % b;
    } else {
        if (b == 0) return mc_fmod(a, b);
        T mod = mc_fmod(a, b);
        if (mod != 0) { if ((b < 0) != (mod < 0)) mod += b; }
        else mod = mc_copysign((T)0, b);
        return mod;
    } }
template <> __device__ inline bool mc_mod<bool>(bool, bool) { return false; }
// Integer powers by squaring (wrapping); a negative exponent gives what 1/a**-b truncates to.
template <class T> __device__ inline T mc_pow_t(T a, T b) {
    if constexpr (mc_is_int<T>::value) {
        if constexpr (mc_is_int<T>::is_signed) {
            if (b < 0) return a == 1 ? (T)1 : (a == (T)-1 ? ((b & 1) ? (T)-1 : (T)1) : (T)0);
        }
        T r = 1;
        while (b) { if (b & 1) r = mc_mul(r, a); a = mc_mul(a, a); b = (T)(b >> 1); }
        return r;
    } else return mc_pow(a, b); }
template <> __device__ inline bool mc_pow_t<bool>(bool a, bool b) { return a || !b; }

// Infinity from its bit pattern: NVRTC has neither __builtin_huge_val nor a <math.h> INFINITY.
__device__ inline double mc_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
template <class T> __device__ inline bool mc_isnan(T x) {
    if constexpr (mc_is_int<T>::value) return false; else return x != x; }
template <class T> __device__ inline T mc_abs(T a) {
    if constexpr (mc_is_int<T>::value) { if constexpr (mc_is_int<T>::is_signed) return a < 0 ? mc_neg(a) : a; else return a; }
    else return a < 0 ? -a : (a == 0 ? (T)0 : a); }
template <> __device__ inline bool mc_abs<bool>(bool a) { return a; }
template <class T> __device__ inline T mc_cabs(mc_complex<T> a) { return mc_hypot(a.re, a.im); }

// Comparisons; complex numbers order lexicographically, as in NumPy 2.
template <class A, class B> __device__ inline bool mc_lt(A a, B b) {
    if constexpr (mc_is_int<A>::value && mc_is_int<B>::value && mc_is_int<A>::is_signed != mc_is_int<B>::is_signed) {
        if constexpr (mc_is_int<A>::is_signed) return a < 0 || (unsigned long long)a < (unsigned long long)b;
        else return b >= 0 && (unsigned long long)a < (unsigned long long)b;
    } else if constexpr (mc_is_complex<A>::value) return a.re < b.re || (a.re == b.re && a.im < b.im);
    else return a < b; }
template <class A, class B> __device__ inline bool mc_eq(A a, B b) {
    if constexpr (mc_is_int<A>::value && mc_is_int<B>::value && mc_is_int<A>::is_signed != mc_is_int<B>::is_signed) {
        if constexpr (mc_is_int<A>::is_signed) return a >= 0 && (unsigned long long)a == (unsigned long long)b;
        else return b >= 0 && (unsigned long long)a == (unsigned long long)b;
    } else if constexpr (mc_is_complex<A>::value) return a.re == b.re && a.im == b.im;
    else return a == b; }
template <class A, class B> __device__ inline bool mc_le(A a, B b) { return mc_lt(a, b) || mc_eq(a, b); }

// minimum/maximum propagate NaN, as NumPy's do. Every comparison is made (`|`, not `||`), so the
// host compiler turns the choice into vector selects instead of branches.
template <class T> __device__ inline T mc_min(T a, T b) { return (mc_isnan(a) | !((b < a) | mc_isnan(b))) ? a : b; }
template <class T> __device__ inline T mc_max(T a, T b) { return (mc_isnan(a) | !((b > a) | mc_isnan(b))) ? a : b; }
// (value, index) pairs of argmin/argmax: NaN wins (the first one), ties go to the lower index.
template <class T> struct mc_argpair { T v; long long i; };
template <class T> __device__ inline mc_argpair<T> mc_argbest(mc_argpair<T> a, mc_argpair<T> b, bool want_min) {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    const bool an = mc_isnan(a.v), bn = mc_isnan(b.v);
    if (an || bn) { if (an && bn) return a.i < b.i ? a : b; return an ? a : b; }
    if (a.v == b.v) return a.i < b.i ? a : b;
    return ((b.v < a.v) == want_min) ? b : a; }
#endif
"""


class DeviceFacts:
    """What the generators need to know of a device, read once (each read crosses into C++)."""

    __slots__ = ("device", "key", "gpu", "units", "max_threads", "warp")

    def __init__(self, device: Device) -> None:
        self.device = device
        self.key = str(device)
        self.gpu = device.kind == "cuda"
        self.units = max(1, int(device.compute_units))
        self.max_threads = int(device.max_threads_per_block)
        self.warp = int(device.warp_size)


_facts: dict[Any, DeviceFacts] = {}


def facts(device: Device) -> DeviceFacts:
    f = _facts.get(device)
    if f is None:
        f = _facts[device] = DeviceFacts(device)
    return f


# Kernels on a GPU: blocks of this many threads, grid-stride loops over a grid of a few waves.
GPU_BLOCK = 256
GPU_BLOCKS_PER_UNIT = 32
# Kernels on the CPU: one thread per block, each over a contiguous run of elements (the loop
# vectorises and no fibers are needed); enough blocks that the pool balances them.
CPU_MIN_CHUNK = 4096
CPU_BLOCKS_PER_UNIT = 64


def launch_1d(f: DeviceFacts, n: int) -> tuple[int, int, int]:
    """(grid, block, chunk) for an elementwise loop over ``n`` items on the device."""
    if f.gpu:
        grid = min(max(1, -(-n // GPU_BLOCK)), f.units * GPU_BLOCKS_PER_UNIT)
        return grid, GPU_BLOCK, 0
    chunk = max(CPU_MIN_CHUNK, -(-n // (f.units * CPU_BLOCKS_PER_UNIT)))
    return max(1, -(-n // chunk)), 1, chunk


def loop_header(f: DeviceFacts) -> str:
    """The loop over ``i`` in [0, n) of an elementwise kernel (64-bit indices everywhere)."""
    if f.gpu:
        return (
            "for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;"
            " i += (long long)blockDim.x * gridDim.x)"
        )
    return (
        "const long long mc_begin = (long long)blockIdx.x * mc_chunk;\n"
        "    const long long mc_end = mc_begin + mc_chunk < n ? mc_begin + mc_chunk : n;\n"
        "    for (long long i = mc_begin; i < mc_end; ++i)"
    )


_cache: dict[Any, Function] = {}
_lock = threading.Lock()


def cached_function(key: Any, build: Callable[[], tuple[str, str]], device: Device,
                    options: tuple = ()) -> Function:
    """The Function for ``key``, compiling ``build() -> (source, name)`` the first time."""
    fn = _cache.get(key)
    if fn is not None:
        return fn
    source, name = build()
    fn = SourceModule(source, device=device, options=options,
                      _follow_environment=False).get_function(name)
    with _lock:
        _cache[key] = fn
    return fn


def user_text(label: str, text: str) -> str:
    """User code placed so that compiler messages name ``label``:line, not generated lines."""
    return f'\n#line 1 "{label}"\n{text}\n#line 1 "<manycore generated>"\n'

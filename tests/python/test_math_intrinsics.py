# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""CUDA's math functions and intrinsics in kernels, on every device, against NumPy models.

Tolerances are CUDA's documented maximum errors (CUDA C++ Programming Guide, "Mathematical
Functions" appendix), so a GPU must pass them as the CPU does: ``ulp`` is the bound in units in
the last place of the float32 (or float64) result, ``atol`` an absolute bound where CUDA states
one (the fast intrinsics on their accurate ranges). Float64 references carry about 1 ulp of their
own, so the double checks allow 2 ulp more than CUDA's bound. Integer intrinsics, conversions and
the directed roundings are checked bit for bit against exact models (Python integers and
fractions). One module per group: each compile costs about half a second.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import manycore as mc

N = 512
RNG = np.random.default_rng(20240611)


def run(device, source, name, outputs, *inputs, scalars=(), n=N):
    """Compiles `source`, runs kernel `name` over n threads; returns the outputs as NumPy."""
    f = mc.SourceModule(source, device=device).get_function(name)
    outs = [mc.zeros(size, dtype, device=device) for size, dtype in outputs]
    ins = [mc.to_device(np.ascontiguousarray(a), device) for a in inputs]
    f(*ins, *outs, *scalars, n, grid=((n + 127) // 128,), block=(128,))
    return [o.get() for o in outs]


def ulp_error(got, ref, dtype):
    """|got - ref| in units in the last place of ref, as dtype; 0 where both agree on NaN/inf."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        spacing = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
        err = np.abs(got - ref) / spacing
    same = (np.isnan(got) & np.isnan(ref)) | (got == ref)
    return np.where(same, 0.0, err)


def assert_close(name, got, ref, dtype, ulp=0.0, atol=0.0):
    """CUDA measures its errors from the correctly rounded result, itself up to 1/2 ulp from ref."""
    got64, ref64 = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        half_ulp = 0.5 * np.spacing(np.abs(ref64).astype(dtype)).astype(np.float64)
        ok = (ulp_error(got, ref, dtype) <= ulp + 0.5) | (np.abs(got64 - ref64) <= atol + half_ulp)
    if not ok.all():
        i = int(np.argmin(ok))
        pytest.fail(f"{name}: {np.count_nonzero(~ok)} of {ok.size} out of tolerance "
                    f"(ulp={ulp}, atol={atol}); first: got {got64[i]!r}, want {ref64[i]!r}")


# ---- references NumPy lacks --------------------------------------------------------------------
erf = np.vectorize(math.erf, otypes=[float])
erfc = np.vectorize(math.erfc, otypes=[float])
lgamma = np.vectorize(math.lgamma, otypes=[float])


def bisect(f, target, lo, hi, increasing=True, steps=80):
    """Solves f(x) = target elementwise for monotone f on [lo, hi]."""
    lo = np.full(np.shape(target), lo, np.float64)
    hi = np.full(np.shape(target), hi, np.float64)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        below = f(mid) < target if increasing else f(mid) > target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _erfinv_central(y):  # |y| <= 1/2, where erf is well conditioned
    return bisect(erf, y, -1.0, 1.0)


def _erfcinv_tail(c):  # c <= 1/2: erfc in the log domain resolves c down to the subnormals
    with np.errstate(divide="ignore", invalid="ignore"):
        return bisect(lambda x: np.log(np.maximum(erfc(x), 1e-320)), np.log(c), 0.0, 27.5, increasing=False)


def erfinv(y):
    # Near +-1 through erfc of 1 - |y| (exact): erf's rounding there would cost many ulp.
    return np.where(np.abs(y) <= 0.5, _erfinv_central(y), np.sign(y) * _erfcinv_tail(1 - np.abs(y)))


def erfcinv(c):
    return np.where(c < 0.5, _erfcinv_tail(c), np.where(c <= 1.5, _erfinv_central(1 - c), -_erfcinv_tail(2 - c)))


def exp_x2(x):
    """exp(x^2) with x^2 split exactly into hi + lo (Dekker), as float64 x^2 would cost x^2/2 ulp."""
    c = 134217729.0 * x
    xh = c - (c - x)
    xl = x - xh
    hi = x * x
    lo = ((xh * xh - hi) + 2 * xh * xl) + xl * xl
    return np.exp(hi) * (1 + lo)


def uniform(lo, hi, dtype=np.float32, n=N):
    return RNG.uniform(lo, hi, n).astype(dtype)


# ---- single precision ------------------------------------------------------------------------
# (expression in x and y, reference in float64, x domain, y domain, CUDA's ulp bound, atol)
FLOAT_FUNCS = [
    ("sinf(x)", lambda x, y: np.sin(x), (-100, 100), None, 2, 0),
    ("cosf(x)", lambda x, y: np.cos(x), (-100, 100), None, 2, 0),
    ("tanf(x)", lambda x, y: np.tan(x), (-1.5, 1.5), None, 4, 0),
    ("expf(x)", lambda x, y: np.exp(x), (-80, 80), None, 2, 0),
    ("exp2f(x)", lambda x, y: np.exp2(x), (-120, 120), None, 2, 0),
    ("exp10f(x)", lambda x, y: 10.0**x, (-30, 30), None, 2, 0),
    ("expm1f(x)", lambda x, y: np.expm1(x), (-5, 5), None, 1, 0),
    ("logf(x)", lambda x, y: np.log(x), (1e-30, 1e30), None, 1, 0),
    ("log2f(x)", lambda x, y: np.log2(x), (1e-30, 1e30), None, 1, 0),
    ("log10f(x)", lambda x, y: np.log10(x), (1e-30, 1e30), None, 2, 0),
    ("log1pf(x)", lambda x, y: np.log1p(x), (-0.9, 10), None, 1, 0),
    ("sqrtf(x)", lambda x, y: np.sqrt(x), (0, 1e10), None, 0, 0),
    ("rsqrtf(x)", lambda x, y: 1 / np.sqrt(x), (1e-20, 1e20), None, 2, 0),
    ("cbrtf(x)", lambda x, y: np.cbrt(x), (-1e6, 1e6), None, 1, 0),
    ("rcbrtf(x)", lambda x, y: 1 / np.cbrt(x), (-1e6, 1e6), None, 1, 0),
    ("sinpif(x)", lambda x, y: np.sin(np.pi * np.fmod(x, 2.0)), (-4, 4), None, 1, 0),
    ("cospif(x)", lambda x, y: np.cos(np.pi * np.fmod(x, 2.0)), (-4, 4), None, 1, 0),
    ("asinf(x)", lambda x, y: np.arcsin(x), (-1, 1), None, 2, 0),
    ("acosf(x)", lambda x, y: np.arccos(x), (-1, 1), None, 2, 0),
    ("atanf(x)", lambda x, y: np.arctan(x), (-100, 100), None, 2, 0),
    ("atan2f(x, y)", lambda x, y: np.arctan2(x, y), (-10, 10), (-10, 10), 3, 0),
    ("sinhf(x)", lambda x, y: np.sinh(x), (-10, 10), None, 3, 0),
    ("coshf(x)", lambda x, y: np.cosh(x), (-10, 10), None, 2, 0),
    ("tanhf(x)", lambda x, y: np.tanh(x), (-10, 10), None, 2, 0),
    ("powf(x, y)", lambda x, y: np.power(x, y), (0.1, 10), (-10, 10), 4, 0),
    ("hypotf(x, y)", lambda x, y: np.hypot(x, y), (-1e30, 1e30), (-1e30, 1e30), 3, 0),
    ("rhypotf(x, y)", lambda x, y: 1 / np.hypot(x, y), (-1e3, 1e3), (-1e3, 1e3), 2, 0),
    ("norm3df(x, y, x - y)", lambda x, y: np.sqrt(x * x + y * y + (x - y) ** 2), (-1e30, 1e30), (-1e30, 1e30), 3, 0),
    ("rnorm3df(x, y, 1.0f)", lambda x, y: 1 / np.sqrt(x * x + y * y + 1), (-1e3, 1e3), (-1e3, 1e3), 2, 0),
    ("norm4df(x, y, 1.0f, 2.0f)", lambda x, y: np.sqrt(x * x + y * y + 5), (-1e3, 1e3), (-1e3, 1e3), 3, 0),
    ("erff(x)", lambda x, y: erf(x), (-4, 4), None, 2, 0),
    ("erfcf(x)", lambda x, y: erfc(x), (-4, 9), None, 4, 0),
    ("erfinvf(x)", lambda x, y: erfinv(x), (-0.999, 0.999), None, 2, 0),
    ("erfcinvf(x)", lambda x, y: erfcinv(x), (1e-30, 1.999), None, 4, 0),
    ("erfcxf(x)", lambda x, y: exp_x2(x) * erfc(x), (-9, 25), None, 4, 0),
    ("normcdff(x)", lambda x, y: 0.5 * erfc(-x / np.sqrt(2)), (-12, 6), None, 5, 0),
    ("normcdfinvf(x)", lambda x, y: -np.sqrt(2) * erfcinv(2 * x), (1e-30, 0.9999), None, 5, 0),
    ("lgammaf(x)", lambda x, y: lgamma(x), (0.1, 100), None, 6, 0),
    ("cyl_bessel_i0f(x)", lambda x, y: np.i0(x), (-20, 20), None, 6, 0),
    ("fmaf(x, y, 0.5f)", lambda x, y: x * y + 0.5, (1, 100), (1, 100), 0, 0),  # exact in float64,
    ("fdividef(x, y)", lambda x, y: x / y, (-100, 100), (0.5, 100), 2, 0),
    ("rsqrt(x)", lambda x, y: 1 / np.sqrt(x), (1e-3, 1e3), None, 2, 0),  # CUDA's float overload
    ("min(x, y)", lambda x, y: np.fmin(x, y), (-10, 10), (-10, 10), 0, 0),
    ("max(x, y)", lambda x, y: np.fmax(x, y), (-10, 10), (-10, 10), 0, 0),
    # Fast intrinsics: CUDA's bounds on their accurate ranges (absolute there), ulp elsewhere.
    ("__expf(x)", lambda x, y: np.exp(x), (-2, 2), None, 2 + 1.173 * 2, 0),
    ("__exp10f(x)", lambda x, y: 10.0**x, (-1, 1), None, 2 + 2.97, 0),
    ("__logf(x)", lambda x, y: np.log(x), (0.5, 2), None, 0, 2**-21.41),
    ("__log2f(x)", lambda x, y: np.log2(x), (0.5, 2), None, 0, 2**-22),
    ("__log10f(x)", lambda x, y: np.log10(x), (0.5, 2), None, 0, 2**-24),
    ("__sinf(x)", lambda x, y: np.sin(x), (-np.pi, np.pi), None, 0, 2**-21.41),
    ("__cosf(x)", lambda x, y: np.cos(x), (-np.pi, np.pi), None, 0, 2**-21.41),
    # __tanf and __powf are documented only as derived from the others: a generous tolerance.
    ("__tanf(x)", lambda x, y: np.tan(x), (-1, 1), None, 0, 2**-18),
    ("__powf(x, y)", lambda x, y: np.power(x, y), (0.5, 2), (-4, 4), 0, 1e-4),
    ("__fdividef(x, y)", lambda x, y: x / y, (-100, 100), (0.5, 100), 2, 0),
    ("__saturatef(x)", lambda x, y: np.clip(x, 0, 1), (-2, 2), None, 0, 0),
]


def kernel_source(funcs, t):
    lines = "\n".join(
        f"    {{ {t} x = xs[{k} * n + i], y = ys[{k} * n + i]; out[{k} * n + i] = {expr}; }}"
        for k, (expr, *_) in enumerate(funcs)
    )
    return f"""
__global__ void apply(const {t}* xs, const {t}* ys, {t}* out, int n) {{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
{lines}
}}"""


def check_table(device, funcs, dtype):
    t = "float" if dtype == np.float32 else "double"
    xs = np.concatenate([uniform(*f[2], dtype=dtype) for f in funcs])
    ys = np.concatenate([uniform(*(f[3] or (0, 1)), dtype=dtype) for f in funcs])
    (out,) = run(device, kernel_source(funcs, t), "apply", [(len(xs), dtype)], xs, ys)
    for k, (expr, ref, _, _, ulp, atol) in enumerate(funcs):
        x = xs[k * N:(k + 1) * N].astype(np.float64)
        y = ys[k * N:(k + 1) * N].astype(np.float64)
        slack = 2 if dtype == np.float64 else 0
        assert_close(expr, out[k * N:(k + 1) * N], ref(x, y), dtype, ulp + (slack if ulp else 0), atol)


def test_single_precision_functions_within_cudas_bounds(device):
    check_table(device, FLOAT_FUNCS, np.float32)


DOUBLE_FUNCS = [
    ("sin(x)", lambda x, y: np.sin(x), (-100, 100), None, 2, 0),
    ("exp(x)", lambda x, y: np.exp(x), (-700, 700), None, 1, 0),
    ("log(x)", lambda x, y: np.log(x), (1e-300, 1e300), None, 1, 0),
    ("sqrt(x)", lambda x, y: np.sqrt(x), (0, 1e300), None, 0, 0),
    ("rsqrt(x)", lambda x, y: 1 / np.sqrt(x), (1e-300, 1e300), None, 1, 0),
    ("rcbrt(x)", lambda x, y: 1 / np.cbrt(x), (-1e300, 1e300), None, 1, 0),
    ("sinpi(x)", lambda x, y: np.sin(np.pi * np.fmod(x, 2.0)), (-0.25, 0.25), None, 2, 0),
    ("cospi(x)", lambda x, y: np.cos(np.pi * np.fmod(x, 2.0)), (-0.25, 0.25), None, 2, 0),
    ("erfinv(x)", lambda x, y: erfinv(x), (-0.999, 0.999), None, 5, 0),
    ("erfcinv(x)", lambda x, y: erfcinv(x), (1e-3, 1.999), None, 6, 0),
    ("normcdf(x)", lambda x, y: 0.5 * erfc(-x / np.sqrt(2)), (-2, 3), None, 5, 0),
    ("erfcx(x)", lambda x, y: exp_x2(x) * erfc(x), (-5, 25), None, 4, 0),
    ("rhypot(x, y)", lambda x, y: 1 / np.hypot(x, y), (-1e3, 1e3), (-1e3, 1e3), 1, 0),
    ("norm3d(x, y, 0x1p995)", lambda x, y: np.sqrt((x * 2.0**-995) ** 2 + (y * 2.0**-995) ** 2 + 1) * 2.0**995,
     (-(2.0**995), 2.0**995), (-(2.0**995), 2.0**995), 2, 0),  # past overflow of the squares
    ("rnorm4d(x, y, 1.0, 2.0)", lambda x, y: 1 / np.sqrt(x * x + y * y + 5), (-1e3, 1e3), (-1e3, 1e3), 1, 0),
    ("min(x, y)", lambda x, y: np.fmin(x, y), (-10, 10), (-10, 10), 0, 0),
    ("max(x, (float)y)", lambda x, y: np.fmax(x, y.astype(np.float32)), (-10, 10), (-10, 10), 0, 0),
]


def test_double_precision_functions_within_cudas_bounds(device):
    check_table(device, DOUBLE_FUNCS, np.float64)


def test_special_values(device):
    src = r"""
    __global__ void special(const float* z, float* f, double* d, int n) {
        if (blockIdx.x * blockDim.x + threadIdx.x != 0) return;
        f[9] = min(z[0], z[1]); f[10] = min(z[1], z[0]); f[11] = max(z[1], z[0]);  // +0, -0
        f[0] = sinpif(1.0f);  f[1] = sinpif(-1.0f);  f[2] = cospif(0.5f);  f[3] = rsqrtf(0.0f);
        f[4] = erfinvf(1.0f); f[5] = erfcinvf(0.0f); f[6] = normcdfinvf(0.0f);
        f[7] = norm3df(__int_as_float(0x7fc00000), __int_as_float(0x7f800000), 1.0f);  // NaN, inf
        f[8] = __saturatef(__int_as_float(0x7fc00000));
        d[0] = sinpi(-2.0); d[1] = cospi(1.0); d[2] = erfcinv(2.0); d[3] = normcdf(-40.0);
        d[4] = erfcx(0.0); d[5] = norm3d(1e300, 1e300, 1e300); d[6] = rnorm3d(0.0, 0.0, 0.0);
    }"""
    f, d = run(device, src, "special", [(12, np.float32), (7, np.float64)], np.array([0.0, -0.0], np.float32), n=1)
    inf = np.inf
    np.testing.assert_array_equal(f[:9], [0.0, -0.0, 0.0, inf, inf, inf, -inf, inf, 0.0])
    # The GPU's min and max order -0 below +0 at run time, whichever operand comes first.
    assert list(np.signbit(f[9:])) == [True, True, False]
    assert np.signbit(f[1]) and not np.signbit(f[0]) and not np.signbit(f[2])
    assert np.signbit(d[0])
    np.testing.assert_array_equal(d[1:5], [-1.0, -inf, 0.0, 1.0])
    assert d[5] == pytest.approx(math.sqrt(3) * 1e300, rel=1e-15)
    assert d[6] == inf


# ---- rounding modes --------------------------------------------------------------------------
def round_fraction(exact, dtype, mode):
    """The dtype value that `mode` (rn, rz, ru, rd) rounds the exact rational `exact` to."""
    up, down = dtype(np.inf), dtype(-np.inf)
    r = dtype(float(exact))
    while Fraction(float(r)) > exact:
        r = np.nextafter(r, down)
    while not np.isinf(np.nextafter(r, up)) and Fraction(float(np.nextafter(r, up))) <= exact:
        r = np.nextafter(r, up)
    lo = r  # largest value <= exact
    if Fraction(float(lo)) == exact:
        return lo
    hi = np.nextafter(lo, up)
    if mode == "rd":
        return lo
    if mode == "ru":
        return hi
    if mode == "rz":
        return lo if exact > 0 else hi
    d_lo, d_hi = exact - Fraction(float(lo)), Fraction(float(hi)) - exact
    if d_lo != d_hi:
        return lo if d_lo < d_hi else hi
    return lo if int(np.asarray(lo).view(np.uint32 if dtype == np.float32 else np.uint64)) % 2 == 0 else hi


ROUNDED_OPS = {
    # name: (arity, exact result from Fractions)
    "__fadd": (2, lambda a, b, c: a + b), "__fsub": (2, lambda a, b, c: a - b),
    "__fmul": (2, lambda a, b, c: a * b), "__fdiv": (2, lambda a, b, c: a / b),
    "__fmaf": (3, lambda a, b, c: a * b + c), "__frcp": (1, lambda a, b, c: 1 / a),
    "__dadd": (2, lambda a, b, c: a + b), "__dsub": (2, lambda a, b, c: a - b),
    "__dmul": (2, lambda a, b, c: a * b), "__ddiv": (2, lambda a, b, c: a / b),
    "__fma": (3, lambda a, b, c: a * b + c), "__drcp": (1, lambda a, b, c: 1 / a),
}


@pytest.mark.parametrize("mode", ["rn", "rz", "ru", "rd"])
def test_rounded_arithmetic_is_correctly_rounded(device, mode):
    n = 64
    names = list(ROUNDED_OPS)
    lines = []
    for k, nm in enumerate(names):
        arity = ROUNDED_OPS[nm][0]
        t, arr = ("float", "fa") if nm.startswith("__f") and nm != "__fma" else ("double", "da")
        args = ", ".join(f"{arr}[{j} * n + i]" for j in range(arity))
        out = "fo" if t == "float" else "do_"
        lines.append(f"    {out}[{k} * n + i] = {nm}_{mode}({args});")
    src = ("__global__ void ops(const float* fa, const double* da, float* fo, double* do_, int n) {\n"
           "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= n) return;\n"
           + "\n".join(lines) + "\n}")
    # Operands with inexact results: random mantissas over a few binades, both signs.
    fa = (RNG.uniform(0.5, 8, 3 * n) * RNG.choice([-1, 1], 3 * n)).astype(np.float32)
    da = RNG.uniform(0.5, 8, 3 * n) * RNG.choice([-1, 1], 3 * n)
    fo, dout = run(device, src, "ops", [(len(names) * n, np.float32), (len(names) * n, np.float64)], fa, da, n=n)
    for k, nm in enumerate(names):
        arity, exact_fn = ROUNDED_OPS[nm]
        is_float = nm.startswith("__f") and nm != "__fma"
        src_arr, got, dtype = (fa, fo, np.float32) if is_float else (da, dout, np.float64)
        for i in range(n):
            ops = [Fraction(float(src_arr[j * n + i])) for j in range(3)]
            want = round_fraction(exact_fn(*ops), dtype, mode)
            assert got[k * n + i] == want, f"{nm}_{mode}{tuple(float(o) for o in ops[:arity])}"


def test_round_to_nearest_intrinsics_are_never_contracted(device):
    # a*a = 1 + 2^-11 + 2^-24 exactly, 1 + 2^-11 once rounded: fused with the add it would leave
    # 2^-24 where the separate operations leave 0. GPU compilers contract a*b+c unless told not to.
    src = r"""
    __global__ void nofma(const float* a, const float* c, const double* ad, const double* cd,
                          float* f, double* d, int n) {
        if (blockIdx.x * blockDim.x + threadIdx.x != 0) return;
        f[0] = __fmul_rn(a[0], a[0]) + c[0];
        f[1] = __fadd_rn(a[0] * a[0], c[0]);
        d[0] = __dmul_rn(ad[0], ad[0]) + cd[0];
        f[2] = __fmaf_rn(a[0], a[0], c[0]);
    }"""
    a = np.array([1 + 2**-12], np.float32)
    c = np.array([-(1 + 2**-11)], np.float32)
    ad, cd = np.array([1 + 2**-27]), np.array([-(1 + 2**-26)])
    f, d = run(device, src, "nofma", [(3, np.float32), (1, np.float64)], a, c, ad, cd, n=1)
    assert f[0] == 0 and f[1] == 0 and d[0] == 0
    assert f[2] == np.float32(2**-24)


# ---- conversions -----------------------------------------------------------------------------
SPECIAL_FLOATS = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, -2.7, 2.7, 3.5, 1e20, -1e20, 2**31, -(2**31),
                  2**32, 2**63, -(2**63), 2**64, 4294967295.5, np.inf, -np.inf, np.nan]


def float_to_int_model(x, mode, bits, signed, from_double):
    """PTX cvt.{rni,rzi,rpi,rmi}: saturating; NaN gives 0 from f32 to 32 bits, else 1 << (bits-1)."""
    if math.isnan(x):
        if bits == 32 and not from_double:
            return 0
        return -(1 << (bits - 1)) if signed else 1 << (bits - 1)
    r = {"rn": round, "rz": math.trunc, "ru": math.ceil, "rd": math.floor}[mode](x) if math.isfinite(x) else x
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return int(min(max(r, lo), hi)) if math.isfinite(r) else (hi if r > 0 else lo)


def test_float_to_integer_conversions_saturate_as_ptx(device):
    targets = [("int", 32, True, np.int32), ("uint", 32, False, np.uint32),
               ("ll", 64, True, np.int64), ("ull", 64, False, np.uint64)]
    modes = ["rn", "rz", "ru", "rd"]
    lines, outputs = [], []
    for t, (name, bits, signed, dt) in enumerate(targets):
        for m, mode in enumerate(modes):
            for s, src_t in enumerate(["float", "double"]):
                k = len(outputs)
                lines.append(f"    o{k}[i] = __{src_t}2{name}_{mode}({'f' if s == 0 else 'd'}[i]);")
                outputs.append((dt, name, bits, signed, mode, s == 1))
    c_types = {(32, True): "int", (32, False): "unsigned", (64, True): "long long", (64, False): "unsigned long long"}
    params = ", ".join(f"{c_types[o[2], o[3]]}* o{k}" for k, o in enumerate(outputs))
    src = (f"__global__ void cvt(const float* f, const double* d, {params}, int n) {{\n"
           "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= n) return;\n"
           + "\n".join(lines) + "\n}")
    xs = np.array(SPECIAL_FLOATS + list(RNG.uniform(-1e10, 1e10, 42)), np.float64)
    n = len(xs)
    got = run(device, src, "cvt", [(n, o[0]) for o in outputs], xs.astype(np.float32), xs, n=n)
    for (dt, name, bits, signed, mode, from_double), g in zip(outputs, got):
        src_vals = xs if from_double else xs.astype(np.float32).astype(np.float64)
        want = [float_to_int_model(float(v), mode, bits, signed, from_double) for v in src_vals]
        assert [int(v) for v in g] == want, f"__{'double' if from_double else 'float'}2{name}_{mode}"


def test_conversions_to_float_and_reinterpretations(device):
    src = r"""
    __global__ void cvt(const long long* q, const double* d, float* f, double* g, unsigned* u, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= n) return;
        f[4 * i + 0] = __ll2float_rn(q[i]);  f[4 * i + 1] = __ll2float_rz(q[i]);
        f[4 * i + 2] = __ll2float_ru(q[i]);  f[4 * i + 3] = __double2float_rd(d[i]);
        g[2 * i + 0] = __ll2double_rd(q[i]);
        g[2 * i + 1] = __hiloint2double(__double2hiint(d[i]), __double2loint(d[i]));
        u[2 * i + 0] = __float_as_uint(__int_as_float((int)q[i]));
        u[2 * i + 1] = (unsigned)__double2hiint(__longlong_as_double(__double_as_longlong(d[i])));
    }"""
    q = np.concatenate([[2**53 + 1, -(2**62) - 1, 16777217, -16777219, 0, 2**63 - 1],
                        RNG.integers(-(2**62), 2**62, 58)]).astype(np.int64)
    d = RNG.uniform(-1e30, 1e30, len(q))
    f, g, u = run(device, src, "cvt", [(4 * len(q), np.float32), (2 * len(q), np.float64), (2 * len(q), np.uint32)],
                  q, d, n=len(q))
    for i, (qi, di) in enumerate(zip(q.tolist(), d.tolist())):
        assert f[4 * i] == round_fraction(Fraction(qi), np.float32, "rn")
        assert f[4 * i + 1] == round_fraction(Fraction(qi), np.float32, "rz")
        assert f[4 * i + 2] == round_fraction(Fraction(qi), np.float32, "ru")
        assert f[4 * i + 3] == round_fraction(Fraction(di), np.float32, "rd")
        assert g[2 * i] == round_fraction(Fraction(qi), np.float64, "rd")
        assert g[2 * i + 1] == di
    np.testing.assert_array_equal(u[0::2], (q & 0xFFFFFFFF).astype(np.uint32))
    np.testing.assert_array_equal(u[1::2], (d.view(np.uint64) >> 32).astype(np.uint32))


# ---- integer intrinsics ----------------------------------------------------------------------
def s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def s64(v):
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >> 63 else v


def byte_perm(x, y, s):
    b = (y << 32) | x
    return sum(((b >> (8 * ((s >> (4 * k)) & 7))) & 0xFF) << (8 * k) for k in range(4))


def sext24(v):
    return ((v & 0xFFFFFF) ^ 0x800000) - 0x800000


def dp4a(a, b, c):
    sb = lambda v, k: ((v >> (8 * k)) & 0xFF) - (256 if (v >> (8 * k)) & 0x80 else 0)  # noqa: E731
    return s32(c + sum(sb(a, k) * sb(b, k) for k in range(4)))


# (expression with int a, b, unsigned ua, ub, long long qa, qb; output C type; Python model)
INT_OPS = [
    ("__popc(ua)", "int", lambda a, b, ua, ub, qa, qb: bin(ua).count("1")),
    ("__popcll((unsigned long long)qa)", "int", lambda a, b, ua, ub, qa, qb: bin(qa & (2**64 - 1)).count("1")),
    ("__clz(a)", "int", lambda a, b, ua, ub, qa, qb: 32 - ua.bit_length()),
    ("__clzll(qa)", "int", lambda a, b, ua, ub, qa, qb: 64 - (qa & (2**64 - 1)).bit_length()),
    ("__ffs(a)", "int", lambda a, b, ua, ub, qa, qb: (ua & -ua).bit_length()),
    ("__ffsll(qa)", "int", lambda a, b, ua, ub, qa, qb: (qa & -qa & (2**64 - 1)).bit_length()),
    ("(int)__brev(ua)", "int", lambda a, b, ua, ub, qa, qb: s32(int(f"{ua:032b}"[::-1], 2))),
    ("(long long)__brevll((unsigned long long)qa)", "long long",
     lambda a, b, ua, ub, qa, qb: s64(int(f"{qa & (2**64 - 1):064b}"[::-1], 2))),
    ("(int)__byte_perm(ua, ub, (unsigned)b)", "int", lambda a, b, ua, ub, qa, qb: s32(byte_perm(ua, ub, ub))),
    ("(int)__funnelshift_l(ua, ub, ua >> 26)", "int",
     lambda a, b, ua, ub, qa, qb: s32((((ub << 32) | ua) << ((ua >> 26) & 31)) >> 32)),
    ("(int)__funnelshift_lc(ua, ub, ua >> 26)", "int",
     lambda a, b, ua, ub, qa, qb: s32((((ub << 32) | ua) << min(ua >> 26, 32)) >> 32)),
    ("(int)__funnelshift_r(ua, ub, ua >> 26)", "int",
     lambda a, b, ua, ub, qa, qb: s32(((ub << 32) | ua) >> ((ua >> 26) & 31))),
    ("(int)__funnelshift_rc(ua, ub, ua >> 26)", "int",
     lambda a, b, ua, ub, qa, qb: s32(((ub << 32) | ua) >> min(ua >> 26, 32))),
    ("__mul24(a, b)", "int", lambda a, b, ua, ub, qa, qb: s32(sext24(a) * sext24(b))),
    ("(int)__umul24(ua, ub)", "int", lambda a, b, ua, ub, qa, qb: s32((ua & 0xFFFFFF) * (ub & 0xFFFFFF))),
    ("__mulhi(a, b)", "int", lambda a, b, ua, ub, qa, qb: (a * b) >> 32),
    ("(int)__umulhi(ua, ub)", "int", lambda a, b, ua, ub, qa, qb: s32((ua * ub) >> 32)),
    ("__mul64hi(qa, qb)", "long long", lambda a, b, ua, ub, qa, qb: (qa * qb) >> 64),
    ("(long long)__umul64hi((unsigned long long)qa, (unsigned long long)qb)", "long long",
     lambda a, b, ua, ub, qa, qb: s64(((qa % 2**64) * (qb % 2**64)) >> 64)),
    ("__hadd(a, b)", "int", lambda a, b, ua, ub, qa, qb: (a + b) >> 1),
    ("__rhadd(a, b)", "int", lambda a, b, ua, ub, qa, qb: (a + b + 1) >> 1),
    ("(int)__uhadd(ua, ub)", "int", lambda a, b, ua, ub, qa, qb: s32((ua + ub) >> 1)),
    ("(int)__urhadd(ua, ub)", "int", lambda a, b, ua, ub, qa, qb: s32((ua + ub + 1) >> 1)),
    ("(int)__sad(a, b, ua >> 4)", "int", lambda a, b, ua, ub, qa, qb: s32(abs(a - b) + (ua >> 4))),
    ("(int)__usad(ua, ub, 7u)", "int", lambda a, b, ua, ub, qa, qb: s32(abs(ua - ub) + 7)),
    ("__dp4a(a, b, 1000)", "int", lambda a, b, ua, ub, qa, qb: dp4a(ua, ub, 1000)),
    ("(int)min(a, ub)", "int", lambda a, b, ua, ub, qa, qb: s32(min(ua, ub))),  # mixed: unsigned
    ("max(a, b)", "int", lambda a, b, ua, ub, qa, qb: max(a, b)),
    ("llmin(qa, qb)", "long long", lambda a, b, ua, ub, qa, qb: min(qa, qb)),
    ("(long long)max((unsigned long long)qa, (unsigned long long)qb)", "long long",
     lambda a, b, ua, ub, qa, qb: s64(max(qa % 2**64, qb % 2**64))),
]


def test_integer_intrinsics_bit_for_bit(device):
    edges = [0, -1, 1, 2**31 - 1, -(2**31), 0x00FFFFFF, 0x00800000, 0x33221100, 0x77665544, 0x5410]
    a = np.concatenate([edges, RNG.integers(-(2**31), 2**31, N - len(edges))]).astype(np.int32)
    b = np.concatenate([edges[::-1], RNG.integers(-(2**31), 2**31, N - len(edges))]).astype(np.int32)
    qa = np.concatenate([[0, -1, 2**63 - 1, -(2**63), 1 << 40], RNG.integers(-(2**63), 2**63 - 1, N - 5)])
    qb = np.concatenate([[5, -1, 2, -(2**63), 1 << 40], RNG.integers(-(2**63), 2**63 - 1, N - 5)])
    qa, qb = qa.astype(np.int64), qb.astype(np.int64)
    int_out = [k for k, op in enumerate(INT_OPS) if op[1] == "int"]
    ll_out = [k for k, op in enumerate(INT_OPS) if op[1] == "long long"]
    slot = {k: ("io", int_out.index(k)) if op[1] == "int" else ("lo", ll_out.index(k)) for k, op in enumerate(INT_OPS)}
    lines = [f"    {slot[k][0]}[{slot[k][1]} * n + i] = {op[0]};" for k, op in enumerate(INT_OPS)]
    src = ("__global__ void ints(const int* as, const int* bs, const long long* qas, const long long* qbs,\n"
           "                     int* io, long long* lo, int n) {\n"
           "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= n) return;\n"
           "    int a = as[i], b = bs[i];\n    unsigned ua = (unsigned)a, ub = (unsigned)b;\n"
           "    long long qa = qas[i], qb = qbs[i];\n" + "\n".join(lines) + "\n}")
    io, lo = run(device, src, "ints", [(len(int_out) * N, np.int32), (len(ll_out) * N, np.int64)], a, b, qa, qb)
    for k, (expr, ctype, model) in enumerate(INT_OPS):
        got = io[int_out.index(k) * N:][:N] if ctype == "int" else lo[ll_out.index(k) * N:][:N]
        for i in range(N):
            ai, bi, qai, qbi = int(a[i]), int(b[i]), int(qa[i]), int(qb[i])
            want = model(ai, bi, ai & 0xFFFFFFFF, bi & 0xFFFFFFFF, qai, qbi)
            assert int(got[i]) == want, f"{expr} with a={ai}, b={bi}, qa={qai}, qb={qbi}"


# ---- vector types, min/max overloads and constants -------------------------------------------
def test_vector_types_through_pointers_and_make_functions(device):
    src = r"""
    #include <math_constants.h>
    __global__ void vec(const float4* in, float4* out, int2* idx, double* consts, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= n) return;
        float4 v = __ldg(&in[i]);
        out[i] = make_float4(v.w, v.z, min(v.x, v.y), max(v.x, 2.0f));
        dim3 d(i);
        uint3 u = d;
        int layout = (int)(sizeof(float4) * 100 + alignof(double2) * 10 + sizeof(short3));
        idx[i] = make_int2((int)(u.x + u.y + u.z), layout);
        if (i == 0) {
            consts[0] = CUDART_PI_F; consts[1] = CUDART_PI; consts[2] = CUDART_INF_F;
            consts[3] = CUDART_SQRT_2PI; consts[4] = __float_as_uint(CUDART_NAN_F);
        }
    }"""
    n = 64
    x = RNG.uniform(-4, 4, 4 * n).astype(np.float32)
    out, idx, consts = run(device, src, "vec", [(4 * n, np.float32), (2 * n, np.int32), (5, np.float64)], x, n=n)
    v = x.reshape(n, 4)
    want = np.stack([v[:, 3], v[:, 2], np.minimum(v[:, 0], v[:, 1]), np.maximum(v[:, 0], 2.0)], axis=1)
    np.testing.assert_array_equal(out.reshape(n, 4), want)
    np.testing.assert_array_equal(idx.reshape(n, 2)[:, 0], np.arange(n) + 2)  # dim3(i) is (i, 1, 1)
    assert (idx.reshape(n, 2)[:, 1] == 16 * 100 + 16 * 10 + 6).all()
    assert consts[0] == np.float32(np.pi) and consts[1] == np.pi and consts[2] == np.inf
    assert consts[3] == 2.5066282746310007  # sqrt(2 pi) correctly rounded (math.sqrt(2 * math.pi) is not)
    assert consts[4] == 0x7FFFFFFF

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Array operations against NumPy: operators, dtypes, views, broadcasting, reductions, math.

Integers must equal NumPy bitwise; floats within the bounds stated here (exact for + - * / and
the floor/remainder algorithms, a few ulp for the math library, sum-order error for reductions).
"""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float32", "float64"]
SIZES = [0, 1, 31]


def sample(shape, dtype, seed=0, nonzero=False):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
        if nonzero:
            x[x == 0] = 1
        return x
    if dt.kind == "c":
        return (rng.standard_normal(shape) * 10 + 1j * rng.standard_normal(shape) * 10).astype(dt)
    x = (rng.standard_normal(shape) * 100).astype(dt)
    if nonzero:
        x[x == 0] = 1
    return x


def check(got, want, exact=True):
    got = got.get() if isinstance(got, mc.Array) else np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if exact or want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(want.dtype).eps if want.dtype.kind == "f"
                                   else 8 * np.finfo(want.real.dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", INTS + FLOATS + ["bool"])
@pytest.mark.parametrize("op", ["add", "mul", "floordiv", "mod"])
def test_arithmetic_matches_numpy(device, dtype, op):
    if dtype == "bool" and op in ("floordiv", "mod"):
        pytest.skip("NumPy's bool floor_divide is int8; covered by promotion tests")
    f = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b,
         "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b}[op]
    for n in SIZES:
        x, y = sample(n, dtype, 1), sample(n, dtype, 2, nonzero=op in ("floordiv", "mod"))
        with np.errstate(all="ignore"):
            want = f(x, y)
        check(f(mc.to_device(x, device), mc.to_device(y, device)), want)


@pytest.mark.parametrize("dtype", ["int32", "uint8", "float32", "float64", "int64"])
def test_all_binary_operators(device, dtype):
    x, y = sample(31, dtype, 3), sample(31, dtype, 4, nonzero=True)
    a, b = mc.to_device(x, device), mc.to_device(y, device)
    with np.errstate(all="ignore"):
        check(a - b, x - y)
        check(a / b, x / y)
        for cmp in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
            check(getattr(a, cmp)(b), getattr(x, cmp)(y))
        check(-a, -x)
        check(abs(a), abs(x))
        if dtype[0] in "iu":
            check(a & b, x & y)
            check(a | b, x | y)
            check(a ^ b, x ^ y)
            check(~a, ~x)
            e = np.abs(y % 5).astype(dtype)
            check(a ** mc.to_device(e, device), x ** e)
        else:
            check(abs(a) ** b.__abs__().__mod__(3), np.abs(x) ** (np.abs(y) % 3), exact=False)


def test_integer_overflow_and_division_by_zero(device):
    x = np.array([127, -128, 100, -7, 7, 0], np.int8)
    y = np.array([1, -1, 100, 2, -2, 0], np.int8)
    a, b = mc.to_device(x, device), mc.to_device(y, device)
    with np.errstate(all="ignore"):
        check(a + b, x + y)
        check(a * b, x * y)
        check(a // b, x // y)
        check(a % b, x % y)
        check(-a, -x)
    big = np.array([np.iinfo(np.int64).min, -1], np.int64)
    m = mc.to_device(big, device)
    with np.errstate(all="ignore"):
        check(m // mc.to_device(np.array([-1, 0], np.int64), device), big // np.array([-1, 1]) * np.array([1, 0]))


def test_float_floor_division_and_remainder_corners(device):
    x = np.array([5.5, -5.5, 5.5, -5.5, 0.0, -0.0, 1.0, np.inf, np.nan, 3.0], np.float64)
    y = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0, 1.0, np.inf])
    a, b = mc.to_device(x, device), mc.to_device(y, device)
    with np.errstate(all="ignore"):
        check(a // b, x // y)
        check(a % b, x % y)


@pytest.mark.parametrize("scalar", [3, -2, 2.5, True])
@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "float32", "float64", "bool"])
def test_weak_scalar_promotion_nep50(device, dtype, scalar):
    x = sample(31, dtype, 5)
    a = mc.to_device(x, device)
    try:
        with np.errstate(all="ignore"):
            want = x + scalar
    except (OverflowError, TypeError) as e:
        with pytest.raises(type(e)):
            a + scalar
        return
    check(a + scalar, want)
    with np.errstate(all="ignore"):
        check(scalar * a, scalar * x)


def test_mixed_dtype_promotion(device):
    pairs = [("int8", "uint8"), ("int32", "float32"), ("int64", "uint64"), ("uint64", "float32"),
             ("bool", "int16"), ("float32", "float64")]
    for d1, d2 in pairs:
        x, y = sample(31, d1, 6), sample(31, d2, 7)
        a, b = mc.to_device(x, device), mc.to_device(y, device)
        check(a + b, x + y, exact=False)
        check(a < b, x < y)
        check(a == b, x == y)


def test_complex_arithmetic(device):
    for dt in ("complex64", "complex128"):
        x, y = sample(31, dt, 8), sample(31, dt, 9)
        a, b = mc.to_device(x, device), mc.to_device(y, device)
        check(a + b, x + y)
        check(a - b, x - y)
        check(a * b, x * y, exact=False)
        check(a / b, x / y, exact=False)
        check(-a, -x)
        check(abs(a), np.abs(x), exact=False)
        check(a * 2, x * 2)
        check(a + (1 - 2j), x + (1 - 2j))


def test_non_contiguous_views_and_negative_steps(device):
    x = sample((7, 9), "float64", 10)
    a = mc.to_device(x, device)
    for key in [(slice(None, None, 2),), (slice(None), slice(None, None, -1)), (slice(1, None, 3), slice(None, None, -2)),
                (Ellipsis, 3), (2,), (slice(None), None, slice(2, 5)), (slice(5, 2),)]:
        v = a[key]
        check(v, x[key])
        check(v * 2 + v, x[key] * 2 + x[key])
        check(np.asarray(v) if device.kind == "cpu" else v.get(), x[key])
    check(a.T + a.T, x.T + x.T)


def test_broadcasting_corners(device):
    x = sample((4, 1, 5), "int32", 11)
    y = sample((3, 1), "int32", 12)
    z = sample((), "int32", 13)
    a, b, c = (mc.to_device(v, device) for v in (x, y, z))
    check(a + b, x + y)
    check(b - c, y - z)
    check(a[:, :, ::2] * b[::-1], x[:, :, ::2] * y[::-1])
    e = mc.to_device(np.zeros((0, 5), np.int32), device)
    check(e + a[0], np.zeros((0, 5), np.int32) + x[0])
    with pytest.raises(ValueError):
        a + mc.to_device(np.zeros(4, np.int32), device)


def test_in_place_and_setitem(device):
    x = sample(31, "int32", 14)
    a = mc.to_device(x, device)
    a += 5
    x += 5
    check(a, x)
    a *= a
    x *= x
    check(a, x)
    with pytest.raises(TypeError, match="same_kind"):
        a += 1.5
    m = mc.to_device(np.zeros((4, 6)), device)
    m[1:3, ::2] = 7.0
    m[0] = mc.arange(6, dtype=np.float64, device=device)
    m[:, -1] = mc.to_device(np.array([9.0, 8, 7, 6]), device)
    want = np.zeros((4, 6))
    want[1:3, ::2] = 7
    want[0] = np.arange(6)
    want[:, -1] = [9, 8, 7, 6]
    check(m, want)
    m.fill(2)
    check(m, np.full((4, 6), 2.0))


def test_astype_copy_reshape_ravel(device):
    x = sample((3, 8), "float64", 15)
    a = mc.to_device(x, device)
    for dt in ("int32", "float32", "uint8", "bool", "complex128"):
        with np.errstate(all="ignore"):
            want = x.astype(dt) if dt != "uint8" else np.abs(x).astype(np.int64).astype(dt)
        src = a if dt != "uint8" else mc.to_device(np.abs(x).astype(np.int64), device)
        check(src.astype(dt), want)
    c = a.copy()
    c[0, 0] = -1.0
    assert a.get()[0, 0] == x[0, 0]
    check(a.reshape(4, 6), x.reshape(4, 6))
    check(a.reshape(-1, 2), x.reshape(-1, 2))
    check(a[:, ::2].ravel(), x[:, ::2].ravel())
    check(a.ravel(), x.ravel())
    with pytest.raises(ValueError):
        a.reshape(5, 5)


def test_factories(device):
    check(mc.arange(10, device=device), np.arange(10))
    check(mc.arange(3, 20, 4, device=device), np.arange(3, 20, 4))
    check(mc.arange(0.0, 1.0, 0.1, device=device), np.arange(0.0, 1.0, 0.1), exact=False)
    check(mc.linspace(-1, 2, 7, device=device), np.linspace(-1, 2, 7), exact=False)
    check(mc.linspace(0, 10, 4, endpoint=False, dtype=np.int32, device=device), np.linspace(0, 10, 4, endpoint=False, dtype=np.int32))
    check(mc.full((2, 3), 7, device=device), np.full((2, 3), 7))
    check(mc.ones(5, np.float32, device=device), np.ones(5, np.float32))


REDUCE_DTYPES = ["bool", "int8", "int32", "uint32", "int64", "float32", "float64"]


@pytest.mark.parametrize("dtype", REDUCE_DTYPES)
def test_reductions_over_all_elements(device, dtype):
    for n in [1, 31, 5000]:
        x = sample(n, dtype, 16)
        if dtype[0] == "i" or dtype[0] == "u":
            x = (x % 7).astype(dtype)
        a = mc.to_device(x, device)
        with np.errstate(all="ignore"):
            tol = {"float32": 1e-5, "float64": 1e-12}.get(dtype, 0)
            for got, want in [(a.sum(), np.sum(x)), (mc.prod(a[:20]), np.prod(x[:20]))]:
                assert got.dtype == want.dtype
                np.testing.assert_allclose(got.get(), want, rtol=tol)
            check(a.min(), np.min(x))
            check(a.max(), np.max(x))
            check(a.argmin(), np.argmin(x))
            check(a.argmax(), np.argmax(x))
            check(a.any(), np.any(x))
            check(a.all(), np.all(x))
            got, want = a.mean().get(), np.mean(x)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_reductions_empty_and_nan(device):
    e = mc.to_device(np.zeros(0), device)
    check(e.sum(), np.sum(np.zeros(0)))
    check(e.prod(), np.prod(np.zeros(0)))
    with pytest.raises(ValueError):
        e.min()
    x = np.array([3.0, np.nan, -1.0, np.nan])
    a = mc.to_device(x, device)
    check(a.min(), np.min(x))
    check(a.max(), np.max(x))
    check(a.argmin(), np.argmin(x))
    check(a.argmax(), np.argmax(x))


def test_float_sum_error_bound_large(device):
    n = 2**20 + 3
    x = np.random.default_rng(17).random(n).astype(np.float32)
    a = mc.to_device(x, device)
    got = float(a.sum())
    exact = float(np.sum(x.astype(np.float64)))
    assert a.sum().dtype == np.float32
    # The stated bound: about 150 float32 ulps of sum(|x|) (NumPy's own error is ~20).
    assert abs(got - exact) <= 150 * np.finfo(np.float32).eps * exact
    y = np.random.default_rng(18).integers(-1000, 1000, n).astype(np.int32)
    b = mc.to_device(y, device)
    check(b.sum(), np.sum(y))
    check(b + b, y + y)
    check(mc.cumsum(b), np.cumsum(y))
    check(b.max(), np.max(y))


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_reductions_along_an_axis(device, axis):
    x = sample((5, 6, 7), "float64", 19)
    xi = (sample((5, 6, 7), "int32", 20) % 100).astype(np.int32)
    a, ai = mc.to_device(x, device), mc.to_device(xi, device)
    check_summed(a.sum(axis=axis), x, axis)
    check(ai.sum(axis=axis), np.sum(xi, axis=axis))
    check(a.max(axis=axis), np.max(x, axis=axis))
    check(a.argmin(axis=axis), np.argmin(x, axis=axis))
    check(ai.prod(axis=axis), np.prod(xi, axis=axis))
    check_summed(a[:, ::2].mean(axis=axis % 3), x[:, ::2], axis % 3, mean=True)


def check_summed(got, x, axis, mean=False):
    """A float sum (or mean) along an axis against NumPy's, within the error bound of any
    summation order, n * eps * sum(|x|): a GPU adds in another order than NumPy's pairwise
    sum, and where the terms cancel the relative difference grows past a few eps."""
    want = np.mean(x, axis=axis) if mean else np.sum(x, axis=axis)
    n = x.shape[axis]
    bound = n * np.finfo(x.dtype).eps * np.sum(np.abs(x), axis=axis) / (n if mean else 1)
    got = got.get()
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.all(np.abs(got - want) <= bound), (got, want, bound)


def test_dot(device):
    x, y = sample(1001, "float64", 21), sample(1001, "float64", 22)
    got = mc.dot(mc.to_device(x, device), mc.to_device(y, device)).get()
    np.testing.assert_allclose(got, np.dot(x, y), rtol=1e-12)
    xi = (sample(31, "int32", 23) % 100).astype(np.int32)
    check(mc.dot(mc.to_device(xi, device), mc.to_device(xi, device)), np.dot(xi, xi))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "float32", "float64"])
def test_cumsum(device, dtype):
    for n in SIZES + [3000, 100_003]:
        x = sample(n, dtype, 24)
        got, want = mc.cumsum(mc.to_device(x, device)).get(), np.cumsum(x)
        assert got.dtype == want.dtype
        if dtype[0] != "f":
            np.testing.assert_array_equal(got, want)
            continue
        # A parallel scan adds in another order than NumPy's loop: each result is within
        # 2 log2(n) + 4 ulps of the running sum of magnitudes (the depth of its sums), where
        # cancellation makes a relative bound on the result itself meaningless.
        ulps = 2 * np.log2(max(n, 2)) + 4
        bound = ulps * np.finfo(dtype).eps * np.cumsum(np.abs(x.astype(np.float64)))
        assert np.all(np.abs(got.astype(np.float64) - want) <= bound)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumsum_along_an_axis(device, axis):
    x = (sample((4, 5, 33), "int32", 28) % 1000).astype(np.int32)
    check(mc.cumsum(mc.to_device(x, device), axis=axis), np.cumsum(x, axis=axis))
    f = sample((3, 7), "float32", 29)
    check(mc.cumsum(mc.to_device(f, device)[:, ::2], axis=0), np.cumsum(f[:, ::2], axis=0), exact=False)


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "exp", "log", "log10", "sqrt", "floor", "ceil",
                                  "fabs", "sinh", "cosh", "tanh", "asin", "acos", "atan"])
def test_math_functions(device, name):
    np_name = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}.get(name, name)
    for dt in FLOATS:
        x = np.linspace(0.05, 0.95, 31).astype(dt)
        got = getattr(mc.math, name)(mc.to_device(x, device)).get()
        want = getattr(np, np_name)(x)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=8 * np.finfo(dt).eps)
    check(mc.math.sqrt(mc.to_device(np.arange(5), device)), np.sqrt(np.arange(5)), exact=False)


def test_minimum_maximum_where_clip(device):
    x, y = sample(31, "float32", 25), sample(31, "float32", 26)
    x[3] = np.nan
    a, b = mc.to_device(x, device), mc.to_device(y, device)
    check(mc.math.minimum(a, b), np.minimum(x, y))
    check(mc.math.maximum(a, b), np.maximum(x, y))
    check(mc.math.where(a > b, a, 0), np.where(x > y, x, np.float32(0)))
    check(mc.math.clip(b, -10, 10), np.clip(y, -10, 10))


def test_gpu_code_paths_on_the_cpu(cpu):
    """The GPU variants (shared memory, barriers, warp shuffles) run on the CPU's fibers."""
    from manycore import _codegen as cg
    from manycore import reduction

    facts = cg.DeviceFacts(cpu)
    facts.gpu, facts.key = True, "cpu-as-gpu"
    x = np.random.default_rng(27).random(10_000)
    a = mc.to_device(x, cpu)
    r = reduction._Reducer("double", np.dtype(np.float64), "0", "a+b", "x[i]", [("const double*", "x", True)],
                           "", "gpu_sum", facts, (), False)
    np.testing.assert_allclose(r(a.size, [a]).get(), x.sum(), rtol=1e-12)
    r2 = reduction._Reducer("mc_argpair<double>", reduction._pair_dtype(np.dtype(np.float64)),
                            "mc_argpair<double>{0.0, -1}", "mc_argbest<double>(a, b, true)",
                            "mc_argpair<double>{x[i], i}", [("const double*", "x", True)], "", "gpu_argmin", facts, (), False)
    out = r2(a.size, [a])
    assert reduction._finish("argmin", out, a.size, np.dtype(np.int64)).get() == np.argmin(x)


def test_mixing_with_numpy(device):
    x = np.arange(5, dtype=np.float64)
    a = mc.to_device(x, device)
    if device.kind == "cpu":
        check(a + x, x + x)
        check(x * a, x * x)
    else:
        with pytest.raises(TypeError, match="to_device"):
            a + x


def test_scalar_conversions(device):
    a = mc.to_device(np.array([2.5]), device)
    assert float(a) == 2.5 and int(a) == 2 and bool(a)
    assert a.sum().item() == 2.5
    with pytest.raises(ValueError):
        bool(mc.zeros(3, device=device))

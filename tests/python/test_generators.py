# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""ElementwiseKernel, ReductionKernel and the scan kernels, with user types and preambles."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc

POINT = """
struct point { float x, y; };
__device__ inline float norm2(point p) { return p.x * p.x + p.y * p.y; }
"""


@pytest.mark.parametrize("n", [0, 1, 31, 2**20 + 3])
def test_elementwise_axpy_any_length(device, n):
    k = mc.ElementwiseKernel("double a, double *x, double *y, double *z", "z[i] = a*x[i] + y[i]", name="axpy")
    x = np.random.default_rng(1).random(n)
    y = np.random.default_rng(2).random(n)
    dx, dy, dz = mc.to_device(x, device), mc.to_device(y, device), mc.empty(n, np.float64, device)
    k(2.5, dx, dy, dz)
    # The compiler may fuse a*x + y into one rounding (FMA): within an ulp of NumPy's two.
    np.testing.assert_allclose(dz.get(), 2.5 * x + y, rtol=2 * np.finfo(np.float64).eps)


def test_elementwise_user_struct_and_preamble(device):
    k = mc.ElementwiseKernel("const point *p, float *out", "out[i] = norm2(p[i])", preamble=POINT)
    pts = np.zeros(100, dtype=[("x", np.float32), ("y", np.float32)])
    pts["x"], pts["y"] = np.arange(100), 1
    out = mc.empty(100, np.float32, device)
    k(mc.to_device(pts, device), out)
    np.testing.assert_array_equal(out.get(), np.arange(100, dtype=np.float32) ** 2 + 1)


def test_elementwise_checks_lengths_and_arguments(device):
    k = mc.ElementwiseKernel("float *x, float *y", "y[i] = x[i]")
    with pytest.raises(ValueError, match="as long as the first"):
        k(mc.zeros(4, np.float32, device), mc.zeros(5, np.float32, device))
    with pytest.raises(TypeError, match="takes 2 arguments"):
        k(mc.zeros(4, np.float32, device))
    with pytest.raises(ValueError, match="cannot read argument"):
        mc.ElementwiseKernel("float *x, 3", "x[i] = 0")


def test_errors_point_at_the_users_text(device):
    k = mc.ElementwiseKernel("float *x", "x[i] = undefined_name;", name="bad")
    with pytest.raises(mc.CompileError, match=r"operation:1:(\d+:)? error: .*undefined_name"):
        k(mc.zeros(4, np.float32, device))
    r = mc.ReductionKernel(np.float32, "0", "a+b", map_expr="x[i] +* 2", arguments="const float *x")
    with pytest.raises(mc.CompileError, match=r"map_expr:1:"):
        r(mc.zeros(4, np.float32, device))
    s = mc.InclusiveScanKernel(np.int32, "a + c")
    with pytest.raises(mc.CompileError, match=r"scan_expr:1:"):
        s(mc.zeros(4, np.int32, device))


@pytest.mark.parametrize("n", [0, 1, 31, 100_003])
def test_reduction_kernel_dot(device, n):
    dot = mc.ReductionKernel(np.float64, neutral="0", reduce_expr="a+b", map_expr="x[i]*y[i]",
                             arguments="const double *x, const double *y")
    x = np.random.default_rng(3).random(n)
    y = np.random.default_rng(4).random(n)
    got = dot(mc.to_device(x, device), mc.to_device(y, device))
    assert got.shape == () and got.dtype == np.float64
    np.testing.assert_allclose(got.get(), np.dot(x, y), rtol=1e-12)


def test_reduction_kernel_max_with_preamble(device):
    r = mc.ReductionKernel(np.int32, neutral="-2147483647 - 1", reduce_expr="bigger(a, b)",
                           map_expr="abs_i(x[i])", arguments="const int *x",
                           preamble="__device__ int bigger(int a, int b) { return a > b ? a : b; }\n"
                                    "__device__ int abs_i(int v) { return v < 0 ? -v : v; }")
    x = np.random.default_rng(5).integers(-10**6, 10**6, 4099).astype(np.int32)
    assert int(r(mc.to_device(x, device))) == np.abs(x).max()


@pytest.mark.parametrize("dtype", ["int32", "int64", "float64"])
@pytest.mark.parametrize("n", [0, 1, 31, 2**20 + 3])
def test_inclusive_scan_matches_cumsum(device, dtype, n):
    if n > 1000 and dtype != "int32":
        pytest.skip("the large size runs for one dtype to keep the suite short")
    s = mc.InclusiveScanKernel(dtype, "a + b")
    x = (np.random.default_rng(6).integers(-100, 100, n)).astype(dtype)
    a = mc.to_device(x, device)
    s(a)
    np.testing.assert_array_equal(a.get(), np.cumsum(x).astype(dtype))


def test_exclusive_scan_and_other_operators(device):
    x = np.random.default_rng(7).integers(1, 50, 5000).astype(np.int64)
    a = mc.to_device(x, device)
    out = mc.empty_like(a)
    mc.ExclusiveScanKernel(np.int64, "a + b", "0")(a, out)
    want = np.concatenate([[0], np.cumsum(x)[:-1]])
    np.testing.assert_array_equal(out.get(), want)
    mx = mc.InclusiveScanKernel(np.int64, "a > b ? a : b")
    mx(a, out)
    np.testing.assert_array_equal(out.get(), np.maximum.accumulate(x))


# The GPU's scan (one pass, tiles in registers, a decoupled look-back), small tiles, also run on
# the CPU device, where its barriers and shuffles run as fibers: checked without a GPU too.
# Non-commuting operators ("a", "b": keep the left or the right operand) show the order kept.
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8", "bool", "float64"])
@pytest.mark.parametrize("n", [1, 31, 2048, 2049, 70001])
def test_block_parallel_scan(device, monkeypatch, dtype, n):
    import manycore.scan

    # Small tiles (two warps of one step), so that there are many to look back over.
    monkeypatch.setattr(manycore.scan, "WARPS", 2)
    monkeypatch.setattr(manycore.scan, "STEPS", 1)
    x = np.random.default_rng(n).integers(-100, 100, n).astype(dtype)
    a, out = mc.to_device(x, device), mc.empty(n, dtype, device)
    plus = "a || b" if dtype == "bool" else "a + b"
    accumulate = np.logical_or.accumulate if dtype == "bool" else np.cumsum
    cases = [
        (mc.InclusiveScanKernel(dtype, plus), accumulate(x).astype(dtype)),
        (mc.ExclusiveScanKernel(dtype, plus, "0"),
         np.concatenate([np.zeros(1, dtype), accumulate(x)[:-1].astype(dtype)])),
    ]
    if dtype == "int32":
        cases += [
            (mc.InclusiveScanKernel(dtype, "a"), np.full(n, x[0], dtype)),
            (mc.InclusiveScanKernel(dtype, "b"), x),
            (mc.ExclusiveScanKernel(dtype, "b", "7"), np.concatenate([np.full(1, 7, dtype), x[:-1]])),
        ]
        # Only every 40th tile publishes its prefix: look-backs span two windows of 32 tiles.
        sparse = ["-DMC_SCAN_SPARSE_PREFIX=40"]
        cases += [
            (mc.InclusiveScanKernel(dtype, plus, options=sparse), accumulate(x).astype(dtype)),
            (mc.InclusiveScanKernel(dtype, "a", options=sparse), np.full(n, x[0], dtype)),
            (mc.ExclusiveScanKernel(dtype, "b", "7", options=sparse), np.concatenate([np.full(1, 7, dtype), x[:-1]])),
        ]
    for kernel, want in cases:
        kernel._block_parallel = True
        kernel(a, out)
        np.testing.assert_array_equal(out.get(), want)
    kernel = mc.InclusiveScanKernel(dtype, plus)
    kernel._block_parallel = True
    kernel(a[1:], out[1:])  # one element in: no 16-byte vector loads
    np.testing.assert_array_equal(out.get()[1:], accumulate(x[1:]).astype(dtype))
    kernel(a)  # in place
    np.testing.assert_array_equal(a.get(), cases[0][1])


def test_kernels_are_cached(device):
    k = mc.ElementwiseKernel("float *x", "x[i] = 1")
    assert k.get_function(device) is k.get_function(device)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Every operation of bench/arrays/sweep.py against NumPy on every device, at sizes that are not
powers of two (1, 1000003), plus the GPU kernels of axis reductions and the widening cumsum run
on the CPU device, and sizes past 2**31 elements on a GPU."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manycore as mc
import manycore._reduce_axis as reduce_axis_module

SIZES = [1, 1000003]
SHAPES_2D = [(1, 1), (997, 1003), (1, 1000003), (1000003, 1), (3, 5)]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def close(got: mc.Array, want: np.ndarray, rtol: float = 2e-5) -> None:
    g = got.get() if isinstance(got, mc.Array) else np.asarray(got)
    assert g.shape == np.shape(want) and g.dtype == np.asarray(want).dtype, (g.shape, g.dtype, np.shape(want))
    np.testing.assert_allclose(g, want, rtol=rtol, atol=1e-6)


def same(got: mc.Array, want: np.ndarray) -> None:
    g = got.get() if isinstance(got, mc.Array) else np.asarray(got)
    assert g.shape == np.shape(want) and g.dtype == np.asarray(want).dtype, (g.shape, g.dtype, np.shape(want))
    np.testing.assert_array_equal(g, want)


# ---- elementwise, where, astype, copies ------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_elementwise_where_and_astype(device, n):
    a, b = rng(n).random(n, dtype=np.float32), rng(n + 1).random(n, dtype=np.float32)
    i = rng(n + 2).integers(-2**31, 2**31 - 1, n, dtype=np.int32)
    c = a < 0.5
    da, db, di, dc = (mc.to_device(x, device) for x in (a, b, i, c))
    same(da + db, a + b)
    same(da * 2.5, a * np.float32(2.5))
    same(da < db, a < b)
    same(mc.math.where(dc, da, db), np.where(c, a, b))
    same(da.astype(np.float64), a.astype(np.float64))
    same(di.astype(np.float32), i.astype(np.float32))
    same(da.copy(), a)


@pytest.mark.parametrize("shape", SHAPES_2D)
def test_broadcast_strided_and_transposed_copies(device, shape):
    a = rng(1).random(shape, dtype=np.float32)
    row = rng(2).random(shape[1], dtype=np.float32)
    col = rng(3).random((shape[0], 1), dtype=np.float32)
    da, drow, dcol = (mc.to_device(x, device) for x in (a, row, col))
    same(da - drow, a - row)
    same(dcol * da, col * a)
    same(da[:, ::2].copy(), a[:, ::2])
    same(da[::-3, 1:].copy(), a[::-3, 1:])
    same(da.T.copy(), a.T)
    out = mc.zeros(shape, np.float32, device)
    out[:, ::2] = da[:, ::2]  # a strided output
    want = np.zeros(shape, np.float32)
    want[:, ::2] = a[:, ::2]
    same(out, want)


def test_strided_operands_of_three_dimensions(device):
    a = rng(4).integers(-100, 100, (7, 31, 45)).astype(np.int64)
    b = rng(5).integers(-100, 100, (31, 1)).astype(np.int32)
    da, db = mc.to_device(a, device), mc.to_device(b, device)
    same(da[:, ::2, 1::3] + db[::2], a[:, ::2, 1::3] + b[::2])
    same(da.T.copy(), a.T)
    same(da[::-1, :, ::-2].copy(), a[::-1, :, ::-2])


# ---- reductions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_whole_array_reductions(device, n):
    x = rng(n).random(n, dtype=np.float32)
    d = mc.to_device(x, device)
    close(d.sum(), np.sum(x, dtype=np.float64).astype(np.float32), rtol=1e-4)
    close(d.mean(), np.float32(np.mean(x, dtype=np.float64)), rtol=1e-4)
    same(d.max(), x.max())
    same(d.min(), x.min())
    same(d.argmax(), np.argmax(x))
    same(d.argmin(), np.argmin(x))


@pytest.mark.parametrize("n", SIZES)
def test_int32_sums_accumulate_in_int64(device, n):
    # Every element near 2**30: an int32 accumulator overflows after three.
    x = rng(n).integers(2**30, 2**31 - 1, n, dtype=np.int32)
    d = mc.to_device(x, device)
    same(d.sum(), np.sum(x))
    assert np.sum(x).dtype == np.int64
    same(mc.cumsum(d), np.cumsum(x))
    if n > 1:
        same(d.reshape(1, n).sum(axis=1), x.reshape(1, n).sum(axis=1))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "uint16"])
def test_argmax_argmin_ties_and_nan(device, dtype):
    n = 1000003
    x = rng(9).integers(0, 50, n).astype(dtype)
    x[[17, 500000, n - 1]] = 77  # ties: the first index wins
    x[[3, 999999]] = 0 if np.dtype(dtype).kind == "u" else -5
    d = mc.to_device(x, device)
    same(d.argmax(), np.argmax(x))
    same(d.argmin(), np.argmin(x))
    same(d.max(), x.max())
    same(d.min(), x.min())
    if np.dtype(dtype).kind == "f":
        x[[700001, 800000]] = np.nan  # NaN wins, the first one
        d = mc.to_device(x, device)
        same(d.argmax(), np.argmax(x))
        same(d.argmin(), np.argmin(x))
        assert np.isnan(d.max().get()) and np.isnan(d.min().get())


SHAPES_AXES = [((1, 1), 0), ((1, 1), 1), ((997, 1003), 0), ((997, 1003), 1), ((1, 1000003), 0),
               ((1, 1000003), 1), ((1000003, 1), 0), ((1000003, 1), 1), ((13, 1009, 77), 1),
               ((13, 1009, 77), 0), ((13, 1009, 77), 2), ((4, 0, 3), 2), ((4, 0, 3), 1)]


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_axis_reductions(device, shape, axis):
    x = rng(sum(shape)).random(shape, dtype=np.float32)
    if x.size:
        x.flat[x.size // 2] = 7.0  # ties for argmax along the axis
        x.flat[-1] = 7.0
    d = mc.to_device(x, device)
    close(d.sum(axis=axis), x.sum(axis=axis), rtol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "Mean of empty slice": NaN
        want_mean = x.mean(axis=axis)
    close(d.mean(axis=axis), want_mean, rtol=1e-4)
    if x.shape[axis] == 0:
        with pytest.raises(ValueError, match="zero-size"):
            d.max(axis=axis)
        return
    same(d.max(axis=axis), x.max(axis=axis))
    same(d.min(axis=axis), x.min(axis=axis))
    same(d.argmax(axis=axis), x.argmax(axis=axis))
    same(d.argmin(axis=axis), x.argmin(axis=axis))


def test_axis_reductions_of_integers_bools_and_views(device):
    x = rng(3).integers(-2**31, 2**31 - 1, (301, 257), dtype=np.int32)
    d = mc.to_device(x, device)
    for axis in (0, 1, -1):
        same(d.sum(axis=axis), x.sum(axis=axis))
        same(d.max(axis=axis), x.max(axis=axis))
    b = x > 0
    db = mc.to_device(b, device)
    same(db.any(axis=0), b.any(axis=0))
    same(db.all(axis=1), b.all(axis=1))
    same(d[::3, 1::2].sum(axis=0), x[::3, 1::2].sum(axis=0))  # a strided view
    same(d.T.min(axis=1), x.T.min(axis=1))


@pytest.mark.parametrize("shape,axis", [((37, 1001), 1), ((1001, 37), 0), ((3, 4099, 5), 1), ((2, 9000), 1),
                                        ((9000, 3), 0), ((5, 7), 0)])
def test_gpu_axis_kernels_on_the_cpu(cpu, monkeypatch, shape, axis):
    """The GPU's axis kernels (a warp a row, shuffles; a thread a column; segments and their
    second pass) run on the CPU device, where their warps run as fibers."""
    monkeypatch.setattr(reduce_axis_module, "gpu_kernels_on_cpu", True)
    x = rng(5).random(shape, dtype=np.float32)
    x.flat[x.size // 3] = np.nan
    d = mc.to_device(x, cpu)
    close(d.sum(axis=axis), x.sum(axis=axis), rtol=1e-4)
    same(d.max(axis=axis), x.max(axis=axis))
    same(d.argmin(axis=axis), x.argmin(axis=axis))
    i = rng(6).integers(-2**31, 2**31 - 1, shape, dtype=np.int32)
    same(mc.to_device(i, cpu).sum(axis=axis), i.sum(axis=axis))
    c = (x + 1j * x.T.reshape(shape)).astype(np.complex64)  # an 8-byte struct through the shuffles
    close(mc.to_device(c, cpu).sum(axis=axis), c.sum(axis=axis), rtol=1e-4)


def test_gpu_strided_elementwise_kernels_compile_for_sm_90():
    """The GPU's strided kernels (the index unravelled in 32-bit arithmetic, or 64-bit past
    2**32 elements), as the operators generate them."""
    import types

    from manycore import elementwise as ew

    facts = types.SimpleNamespace(gpu=True, key="cuda:sm_90", units=132, max_threads=1024, warp=32)
    f32, i64 = np.dtype(np.float32), np.dtype(np.int64)
    for index32 in (True, False):
        src, _ = ew._build("k", "mc_sub<{L0} >({0}, {1})", [f32, f32], [f32, f32], ["s", "s"], f32, "s", 2,
                           facts, ("c", "z", "g"), index32)
        mc.cuda.compile(src, arch="sm_90")
    src, _ = ew._build("k", "{0}", [i64], [i64], ["s"], i64, "c", 3, facts, ("g",), True)
    mc.cuda.compile(src, arch="sm_90")


def test_gpu_axis_kernels_compile_for_sm_90():
    for op, dt in [("sum", np.float32), ("argmax", np.float64), ("sum", np.complex128), ("max", np.int8)]:
        mc.cuda.compile(reduce_axis_module._source(op, np.dtype(dt), True), arch="sm_90")


# ---- scans, dot, random, kernels ---------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", ["int32", "float32", "int8", "bool", "uint32", "float64"])
def test_cumsum_widens_as_numpy(device, n, dtype):
    x = rng(n).integers(-1, 2, n).astype(dtype)  # -1, 0, 1: float prefix sums exact in any order
    if dtype == "int32":
        x = rng(n).integers(2**30, 2**31 - 1, n, dtype=np.int32)
    d = mc.to_device(x, device)
    got = mc.cumsum(d)
    want = np.cumsum(x)
    same(got, want)
    same(d, x)  # the input is left alone


@pytest.mark.parametrize("n", [1, 31, 4097, 70001])
@pytest.mark.parametrize("src,dst", [("int32", "int64"), ("int8", "int64"), ("uint16", "uint64"),
                                     ("float32", "float64"), ("int64", "int64")])
def test_block_parallel_widening_scan_on_the_cpu(cpu, monkeypatch, n, src, dst):
    """The GPU's one-pass scan reading the narrow type and writing the wide one, small tiles, on
    the CPU device; the output offset by one element takes the unaligned path."""
    import manycore.scan as scan

    monkeypatch.setattr(scan, "WARPS", 2)
    monkeypatch.setattr(scan, "STEPS", 2)
    x = rng(n).integers(0, 100, n).astype(src)
    if src == "int32":
        x = rng(n).integers(2**30, 2**31 - 1, n, dtype=np.int32)
    ct = mc._codegen.c_type(np.dtype(dst))
    k = scan._ScanKernel(dst, f"mc_add<{ct} >(a, b)", "0", False, "widen", (), "", in_dtype=src)
    k._block_parallel = True
    out = mc.empty(n + 1, dst, cpu)
    k(mc.to_device(x, cpu), out[1:])
    same(out[1:], np.cumsum(x, dtype=dst))
    k(mc.to_device(x, cpu), out[:n])
    same(out[:n], np.cumsum(x, dtype=dst))
    if src != dst:
        with pytest.raises(TypeError, match="give the output array"):
            k(mc.to_device(x, cpu))


def test_widening_scan_compiles_for_sm_90():
    import manycore.scan as scan

    for src, dst, src_size, dst_size in [("int", "long long", 4, 8), ("signed char", "long long", 1, 8),
                                         ("float", "float", 4, 4), ("unsigned short", "unsigned long long", 2, 8)]:
        body = scan._block_parallel_source("k", dst, src, scan._items(src_size, dst_size))
        text = (mc._codegen.PREAMBLE + f"__device__ inline {dst} mc_scan_op({dst} a, {dst} b) {{ return a + b; }}\n"
                + f"__device__ inline {dst} mc_scan_neutral() {{ return 0; }}\n" + body)
        mc.cuda.compile(text, arch="sm_90")


@pytest.mark.parametrize("n", SIZES)
def test_dot_random_and_generated_kernels(device, n):
    x = (rng(n).integers(-1, 2, n)).astype(np.float32)
    y = (rng(n + 1).integers(-1, 2, n)).astype(np.float32)
    dx, dy = mc.to_device(x, device), mc.to_device(y, device)
    same(mc.dot(dx, dy), np.dot(x, y))
    rdot = mc.ReductionKernel(np.float32, "0", "a + b", "x[i] * y[i]", "const float *x, const float *y")
    same(rdot(dx, dy), np.float32(np.dot(x, y)))
    axpy = mc.ElementwiseKernel("float a, const float *x, float *y", "y[i] = a * x[i] + y[i]")
    axpy(np.float32(0.5), dx, dy)
    same(dy, np.float32(0.5) * x + y)
    i = rng(n).integers(-1000, 1000, n, dtype=np.int32)
    out = mc.empty(n, np.int32, device)
    mc.InclusiveScanKernel(np.int32, "a + b")(mc.to_device(i, device), out)
    same(out, np.cumsum(i, dtype=np.int32))
    u = mc.random.uniform(n, dtype=np.float32, seed=3, device=device).get()
    assert u.dtype == np.float32 and u.shape == (n,) and (u >= 0).all() and (u < 1).all()
    g = mc.random.normal(n, dtype=np.float32, seed=3, device=device).get()
    assert g.dtype == np.float32 and np.isfinite(g).all()
    k = mc.random.integers(0, 1000, n, dtype=np.int32, seed=3, device=device).get()
    assert k.dtype == np.int32 and (k >= 0).all() and (k < 1000).all()
    if n > 1000:
        assert abs(u.mean() - 0.5) < 0.01 and abs(g.mean()) < 0.01 and abs(k.mean() - 499.5) < 5


# ---- past 2**31 elements on a GPU ---------------------------------------------------------------

BIG = 2**31 + 11


def _periodic_past_2_31(device):
    """x[i] = i % 7 - 3 as BIG int8 on a GPU with room for it and an int64 result."""
    if device.kind != "cuda":
        pytest.skip("sizes past 2**31 are for GPUs (the CPU tests cover the same code paths at 1000003)")
    nbytes = BIG * (1 + 8 + 8)
    if device.total_memory < nbytes * 1.25:
        pytest.skip(f"{device} has {device.total_memory / 2**30:.0f} GiB; this test needs {nbytes / 2**30:.0f} GiB")
    return mc.to_device(np.resize(np.arange(7, dtype=np.int8) - 3, BIG), device)


def _prefix(i):
    """Sum of x[0..i] for x[k] = k % 7 - 3 (each full period sums to 0)."""
    i = np.asarray(i, dtype=np.int64)
    r = i % 7
    return (r + 1) * (r - 6) // 2


@pytest.mark.gpu
@pytest.mark.slow
def test_reductions_past_2_31_elements(device):
    x = _periodic_past_2_31(device)
    x[2**31 + 3] = 100
    x[5] = -100
    total = int(_prefix(BIG - 1)) + (100 - ((2**31 + 3) % 7 - 3)) + (-100 - (5 % 7 - 3))
    assert int(x.sum().get()) == total
    assert int(x.max().get()) == 100 and int(x.argmax().get()) == 2**31 + 3
    assert int(x.min().get()) == -100 and int(x.argmin().get()) == 5
    half = (BIG - 1) // 2
    rows = x[: BIG - 1].reshape(2, half)  # two rows of 2**30 + 5: the rows kernel, in segments
    assert rows.argmax(axis=1).get().tolist() == [6, 2**31 + 3 - half]
    assert rows.sum(axis=1).get().tolist() == [
        int(_prefix(half - 1)) - 100 - (5 % 7 - 3),
        int(_prefix(BIG - 2) - _prefix(half - 1)) + 100 - ((2**31 + 3) % 7 - 3)]
    cols = x[: BIG - 1].reshape(half, 2)  # the columns kernel over 2**30 + 5 rows
    assert cols.max(axis=0).get().tolist() == [3, 100]
    assert cols.argmin(axis=0).get().tolist() == [0, 2]


@pytest.mark.gpu
@pytest.mark.slow
def test_cumsum_past_2_31_elements(device):
    x = _periodic_past_2_31(device)
    out = mc.cumsum(x)
    assert out.dtype == np.int64 and out.shape == (BIG,)
    for start in (0, 2**31 - 70000, 2**31 - 5, BIG - 40):
        got = out[start:start + 40].get()
        want = _prefix(np.arange(start, min(start + 40, BIG)))
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_the_sweep_benchmark_runs_and_checks_every_row(tmp_path):
    """bench/arrays/sweep.py at tiny sizes on the CPU: every row runs, and manycore's result
    agrees with NumPy's on each (the benchmark exits 1 otherwise)."""
    import os
    import runpy
    import subprocess
    import sys
    from pathlib import Path

    sweep = Path(__file__).resolve().parents[2] / "bench" / "arrays" / "sweep.py"
    if not sweep.exists():
        pytest.skip(f"{sweep} is not here (an installed package without the source tree)")
    done = subprocess.run([sys.executable, str(sweep), "--device", "cpu", "--size", "2^12", "--small", "2^6",
                           "--repeat", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=380, env=dict(os.environ))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if " check " in line]
    assert len(rows) == 2 * len(runpy.run_path(str(sweep))["cases"]())  # each at two sizes
    assert all("check ok" in line for line in rows), rows
    assert list(tmp_path.glob("*-sweep.md")) and list(tmp_path.glob("*-sweep.csv"))

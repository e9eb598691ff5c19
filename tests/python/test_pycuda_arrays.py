# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore.pycuda's gpuarray, cumath, elementwise, reduction, scan, curandom and tools on every
device."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc
import manycore.pycuda.driver as drv
from manycore.pycuda import cumath, curandom, gpuarray, tools
from manycore.pycuda.compiler import SourceModule
from manycore.pycuda.elementwise import ElementwiseKernel
from manycore.pycuda.reduction import ReductionKernel
from manycore.pycuda.scan import ExclusiveScanKernel, InclusiveScanKernel
from pycuda_support import ctx  # noqa: F401 - the fixture


def test_gpuarray_transfers_and_factories(ctx):  # noqa: F811
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = gpuarray.to_gpu(a)
    assert g.shape == (3, 4) and g.dtype == np.float32 and g.size == 12 and g.nbytes == 48
    assert np.array_equal(g.get(), a)
    assert g.mc_array.device == ctx.get_device().mc_device
    out = np.empty_like(a)
    g.get(out)
    assert np.array_equal(out, a)
    g.set(a * 2)
    assert np.array_equal(g.get(), a * 2)
    stream = drv.Stream()
    h = gpuarray.to_gpu_async(a, stream=stream)
    stream.synchronize()
    assert np.array_equal(h.get(), a)
    assert not gpuarray.zeros((2, 3), np.int32).get().any()
    assert gpuarray.empty(5, np.float64).shape == (5,)
    assert gpuarray.empty_like(g).shape == g.shape and gpuarray.zeros_like(g).dtype == g.dtype
    assert np.array_equal(gpuarray.arange(5, dtype=np.int32).get(), np.arange(5, dtype=np.int32))
    assert int(g.gpudata) == g.ptr != 0
    cai = g.__cuda_array_interface__
    assert cai["shape"] == (3, 4) and cai["data"][0] == g.ptr and cai["typestr"] == "<f4"
    f = gpuarray.to_gpu(np.asfortranarray(a))
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    assert np.array_equal(f.get(), a)


def test_gpuarray_arithmetic_and_methods(ctx):  # noqa: F811
    a = np.arange(1, 9, dtype=np.float32)
    b = np.linspace(0, 1, 8).astype(np.float32)
    ga, gb = gpuarray.to_gpu(a), gpuarray.to_gpu(b)
    assert np.allclose((ga + gb).get(), a + b)
    assert np.allclose((2 * ga - gb / 3).get(), 2 * a - b / 3)
    assert np.allclose((ga ** 2).get(), a ** 2)
    assert np.array_equal((ga > 4).get(), a > 4)
    assert np.array_equal((ga == gb).get(), a == b)
    assert np.allclose((-ga).get(), -a) and np.allclose(abs(-ga).get(), a)
    ga += 1
    assert np.allclose(ga.get(), a + 1)
    ga -= 1
    assert np.allclose(ga.mul_add(2, gb, 3).get(), 2 * a + 3 * b)
    assert np.array_equal(ga.astype(np.int32).get(), a.astype(np.int32))
    c = ga.copy().fill(5)
    assert np.array_equal(c.get(), np.full(8, 5, np.float32))
    assert np.array_equal(ga.reshape(2, 4).get(), a.reshape(2, 4))
    assert np.array_equal(ga.reshape(2, 4).ravel().get(), a)
    assert np.array_equal(ga[2:6].get(), a[2:6])
    assert np.array_equal(ga[::2].get(), a[::2])
    ga[0:2] = 0
    assert np.array_equal(ga.get()[:2], [0, 0])
    assert np.array_equal(ga.reverse().get(), ga.get()[::-1])
    m = gpuarray.to_gpu(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert np.array_equal(m.T.get(), np.arange(6.0).reshape(2, 3).T)
    assert m.view(np.int64).dtype == np.int64


def test_gpuarray_reductions(ctx):  # noqa: F811
    a = np.random.default_rng(1).random(1000).astype(np.float64)
    g = gpuarray.to_gpu(a)
    assert np.isclose(gpuarray.sum(g).get(), a.sum())
    assert np.isclose(g.sum().get(), a.sum())
    assert gpuarray.max(g).get() == a.max() and gpuarray.min(g).get() == a.min()
    assert np.isclose(gpuarray.dot(g, g).get(), a @ a)
    idx = gpuarray.to_gpu(np.array([0, 5, 9], np.int32))
    assert np.isclose(gpuarray.subset_sum(idx, g).get(), a[[0, 5, 9]].sum())
    assert gpuarray.subset_max(idx, g).get() == a[[0, 5, 9]].max()
    assert np.allclose(gpuarray.take(g, idx).get(), a[[0, 5, 9]])
    assert np.allclose(gpuarray.minimum(g, 0.5).get(), np.minimum(a, 0.5))
    assert np.allclose(gpuarray.if_positive(g - 0.5, g, -g).get(), np.where(a - 0.5 > 0, a, -a))


def test_cumath(ctx):  # noqa: F811
    a = np.linspace(0.1, 2, 50).astype(np.float32)
    g = gpuarray.to_gpu(a)
    for name in ["sin", "cos", "exp", "log", "sqrt", "tanh", "fabs", "floor", "ceil"]:
        assert np.allclose(getattr(cumath, name)(g).get(), getattr(np, name)(a), rtol=1e-5), name
    out = gpuarray.empty_like(g)
    assert cumath.exp(g, out=out) is out
    z = gpuarray.to_gpu((a + 1j * a).astype(np.complex64))
    assert np.allclose(cumath.exp(z).get(), np.exp(a + 1j * a), rtol=1e-5)
    frac, whole = cumath.modf(g * 3)
    assert np.allclose(frac.get() + whole.get(), a * 3)
    assert np.allclose(cumath.ldexp(g, gpuarray.to_gpu(np.full(50, 2, np.float32))).get(), a * 4)


def test_elementwise_reduction_scan(ctx):  # noqa: F811
    axpy = ElementwiseKernel("float a, float *x, float *y, float *z", "z[i] = a * x[i] + y[i]", "axpy")
    x = gpuarray.to_gpu(np.arange(100, dtype=np.float32))
    y = gpuarray.to_gpu(np.ones(100, np.float32))
    z = gpuarray.empty_like(x)
    axpy(np.float32(2), x, y, z)
    assert np.allclose(z.get(), 2 * np.arange(100) + 1)
    seven = ElementwiseKernel("float *z", "z[i] = 7", "seven")
    w = gpuarray.zeros(50, np.float32)
    seven(w, slice=slice(5, 40, 7))
    expect = np.zeros(50, np.float32)
    expect[5:40:7] = 7
    assert np.array_equal(w.get(), expect)
    dot = ReductionKernel(np.float32, "0", "a+b", "x[i]*y[i]", "float *x, float *y")
    assert np.isclose(dot(x, y).get(), np.arange(100).sum())
    s = gpuarray.to_gpu(np.arange(10, dtype=np.int32))
    assert InclusiveScanKernel(np.int32, "a+b")(s) is s
    assert np.array_equal(s.get(), np.cumsum(np.arange(10)))
    e = gpuarray.to_gpu(np.ones(10, np.int32))
    ExclusiveScanKernel(np.int32, "a+b", "0")(e)
    assert np.array_equal(e.get(), np.arange(10))


def test_curandom(ctx):  # noqa: F811
    u = curandom.rand((1000,)).get()
    assert u.dtype == np.float32 and (u >= 0).all() and (u < 1).all() and u.std() > 0.2
    i = curandom.rand(100, np.int32).get()
    assert i.dtype == np.int32 and len(set(i.tolist())) > 90
    gen = curandom.XORWOWRandomNumberGenerator()
    n = gen.gen_normal(10000, np.float64).get()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    assert not np.array_equal(gen.gen_uniform(10, np.float32).get(), gen.gen_uniform(10, np.float32).get())
    data = gpuarray.zeros(100, np.float32)
    assert gen.fill_uniform(data) is data and data.get().any()
    assert curandom.get_curand_version() is None


def test_tools(ctx, device):  # noqa: F811
    dd = tools.DeviceData()
    major, minor = ctx.get_device().compute_capability()
    limits = mc.cuda.arch_limits(f"sm_{major}{minor}")
    assert dd.arch == f"sm_{major}{minor}" and dd.warps_per_mp == limits.max_warps_per_sm
    assert dd.thread_blocks_per_mp == limits.max_blocks_per_sm and dd.max_threads == 1024
    assert dd.emulated == (device.kind == "cpu")
    if device.kind == "cpu":
        assert "standing in for" in repr(dd)
    full = tools.OccupancyRecord(dd, 256, registers=32)
    assert full.occupancy == 1.0 and full.limited_by in ("device", "warps")
    # 64 registers a thread: 2048 a warp, 8 warps a sub-partition, 32 warps: 4 blocks of 8.
    half = tools.OccupancyRecord(dd, 256, registers=64)
    assert (half.limited_by, half.tb_per_mp, half.warps_per_mp) == ("regs", 4, 32)
    smem = tools.OccupancyRecord(dd, 128, shared_mem=dd.shared_memory // 3)
    assert smem.limited_by == "smem" and smem.tb_per_mp == 2
    with pytest.raises(ValueError):
        tools.OccupancyRecord(dd, 2048)
    assert tools.dtype_to_ctype(np.float32) == "float"
    assert tools.dtype_to_ctype(np.uint32) == "unsigned int"
    assert tools.dtype_to_ctype(gpuarray.vec.float3) == "float3"
    pool = tools.DeviceMemoryPool()
    block = pool.allocate(1000)
    assert block.size >= 1000 and pool.active_blocks == 1
    block.free()
    assert pool.held_blocks == 1 and pool.active_blocks == 0
    again = pool.allocate(1000)
    assert pool.held_blocks == 0
    again.free()
    pool.stop_holding()
    assert pool.held_blocks == 0
    for s in [1, 7, 1000, 12345]:
        assert pool.alloc_size(pool.bin_number(s)) >= s
    assert tools.PageLockedMemoryPool().allocate((4, 4), np.float32).shape == (4, 4)
    other = tools.make_default_context()
    assert drv.Context.get_current() is other
    other.pop()
    tools.clear_context_caches()
    assert tools.bitlog2(17) == 4


def test_vector_types_and_structs_by_value(ctx):  # noqa: F811
    f = SourceModule("""
    __global__ void set_them(float3 *dest, float3 x) { dest[threadIdx.x] = x; }
    """).get_function("set_them")
    v = gpuarray.vec.make_float3(1, 2, 3)
    dest = np.empty(64, gpuarray.vec.float3)
    f(drv.Out(dest), v, block=(64, 1, 1))
    assert (dest == v).all()

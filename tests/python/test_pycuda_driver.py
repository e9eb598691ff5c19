# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore.pycuda.driver and compiler on every device: devices, contexts, memory, copies,
In/Out/InOut, streams and events, kernels and their prepared calls, attributes, errors."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc
import manycore.pycuda.driver as drv
from manycore.pycuda.compiler import SourceModule
from pycuda_support import ctx  # noqa: F401 - the fixture

SCALE = """
__global__ void scale(float *x, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= a;
}
"""

IN_OUT = """
__global__ void in_out(float *in, float *seen, float *out, float *both, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        seen[i] = out[i];     // what the kernel finds in the Out array
        out[i] = in[i] + 1;
        in[i] = -1;           // never reaches the host's In array
        both[i] *= 2;
    }
}
"""


def test_device_and_context(ctx, device):  # noqa: F811
    dev = drv.Context.get_device()
    assert dev.mc_device == device
    assert drv.Device.count() >= 1
    assert isinstance(dev.name(), str) and dev.total_memory() > 0
    major, minor = dev.compute_capability()
    attrs = dev.get_attributes()
    assert attrs[drv.device_attribute.COMPUTE_CAPABILITY_MAJOR] == major
    assert dev.get_attribute(drv.device_attribute.WARP_SIZE) == 32
    assert dev.max_threads_per_block == dev.get_attribute(drv.device_attribute.MAX_THREADS_PER_BLOCK)
    limits = mc.cuda.arch_limits(f"sm_{major}{minor}")
    assert dev.get_attribute(drv.device_attribute.MAX_THREADS_PER_MULTIPROCESSOR) == limits.max_threads_per_sm
    if device.kind == "cpu":
        assert f"sm_{major}{minor}" == mc.emulated_arch()
        assert mc.emulated_arch() in dev.name()
        assert dev.get_attribute(drv.device_attribute.MULTIPROCESSOR_COUNT) == device.compute_units
        with pytest.raises(drv.LogicError, match="CPU device"):
            dev.get_attribute(drv.device_attribute.MAXIMUM_TEXTURE1D_WIDTH)
    else:
        assert (major, minor) == tuple(device.compute_capability)
    other = drv.Device(device).make_context()
    assert drv.Context.get_current() is other
    drv.Context.pop()
    assert drv.Context.get_current() is ctx
    drv.Context.synchronize()
    free, total = drv.mem_get_info()
    assert 0 < free <= total


def test_memory_and_copies(ctx):  # noqa: F811
    host = np.arange(1000, dtype=np.float32)
    alloc = drv.mem_alloc(host.nbytes)
    assert alloc.size == host.nbytes and int(alloc) != 0
    drv.memcpy_htod(alloc, host)
    back = np.empty_like(host)
    drv.memcpy_dtoh(back, alloc)
    assert np.array_equal(back, host)
    other = drv.mem_alloc_like(host)
    drv.memcpy_dtod(other, alloc, host.nbytes)
    assert np.array_equal(drv.from_device_like(other, host), host)
    drv.memset_d32(other, 7, 10)
    assert np.array_equal(drv.from_device(other, (10,), np.uint32), np.full(10, 7, np.uint32))
    copy = drv.to_device(host)
    assert np.array_equal(drv.from_device(copy, host.shape, host.dtype), host)
    # pointer arithmetic: an offset into the allocation, as PyCUDA's programs do
    tail = np.empty(10, np.float32)
    drv.memcpy_dtoh(tail, int(alloc) + 990 * 4)
    assert np.array_equal(tail, host[990:])
    with pytest.raises(drv.LogicError, match="past the end"):
        drv.memcpy_dtoh(np.empty(20, np.float32), int(alloc) + 990 * 4)
    if ctx.get_device().mc_device.kind == "cpu":
        assert bytes(alloc.as_buffer(8)) == host[:2].tobytes()
    alloc.free()
    with pytest.raises(drv.LogicError, match="freed"):
        int(alloc)


def test_pointer_into_no_allocation_is_refused(ctx):  # noqa: F811
    with pytest.raises(drv.LogicError, match="points into no live allocation"):
        drv.memcpy_dtoh(np.empty(4, np.float32), 16)
    f = SourceModule(SCALE).get_function("scale")
    with pytest.raises(drv.LogicError, match="points into no live allocation"):
        f(12345, np.float32(2), np.int32(4), block=(32, 1, 1))


def test_pagelocked_memory_and_async_copies(ctx):  # noqa: F811
    a = drv.pagelocked_zeros((64, 8), np.float32)
    assert a.shape == (64, 8) and not a.any()
    a[:] = np.random.rand(64, 8)
    b = drv.pagelocked_empty_like(a)
    stream = drv.Stream()
    gpu = drv.mem_alloc(a.nbytes)
    drv.memcpy_htod_async(gpu, a, stream)
    drv.memcpy_dtoh_async(b, gpu, stream)
    stream.synchronize()
    assert stream.is_done()
    assert np.array_equal(a, b)
    assert drv.pagelocked_empty(5, np.int32).shape == (5,)


def test_in_out_inout_keep_pycudas_meaning(ctx):  # noqa: F811
    f = SourceModule(IN_OUT).get_function("in_out")
    n = 1000
    rng = np.random.default_rng(7)
    a = rng.random(n).astype(np.float32)
    a_before = a.copy()
    out = rng.random(n).astype(np.float32) + 100  # old contents the kernel must not see
    out_before = out.copy()
    seen = np.zeros(n, np.float32)
    both = np.arange(n, dtype=np.float32)
    f(drv.In(a), drv.Out(seen), drv.Out(out), drv.InOut(both), np.int32(n),
      block=(256, 1, 1), grid=(4, 1))
    assert np.array_equal(a, a_before)  # the kernel wrote -1 into its copy only
    assert np.array_equal(out, a_before + 1)
    assert not np.array_equal(seen, out_before)  # Out's old contents were not copied in
    assert np.array_equal(both, np.arange(n, dtype=np.float32) * 2)


def test_function_call(ctx):  # noqa: F811
    f = SourceModule(SCALE).get_function("scale")
    x = drv.to_device(np.ones(256, np.float32))
    f(x, np.float32(3), np.int32(256), block=(256, 1, 1))  # grid defaults to (1, 1)
    f(x, 2.0, 256, grid=(1, 1), block=(256, 1, 1), shared=0, stream=drv.Stream())  # Python numbers
    drv.Context.synchronize()
    assert np.array_equal(drv.from_device(x, (256,), np.float32), np.full(256, 6, np.float32))
    seconds = f(x, np.float32(1), np.int32(256), block=(256, 1, 1), time_kernel=True)
    assert isinstance(seconds, float) and seconds >= 0
    with pytest.raises(ValueError, match="block size"):
        f(x, np.float32(1), np.int32(256), grid=(1, 1))
    with pytest.raises(ValueError, match="extra keyword"):
        f(x, np.float32(1), np.int32(256), block=(256, 1, 1), bogus=1)
    with pytest.raises(drv.LogicError):
        f(x, np.float32(1), np.int32(256), block=(2048, 1, 1))
    assert isinstance(f, mc.Function)


def test_prepared_calls(ctx):  # noqa: F811
    f = SourceModule(SCALE).get_function("scale")
    x = drv.to_device(np.ones(64, np.float32))
    assert f.prepare("Pfi") is f
    f.prepared_call((1, 1), (64, 1, 1), x, 2.0, 64)
    f.prepared_async_call((1, 1), (64, 1, 1), drv.Stream(), x, np.float32(2), np.int32(64))
    timed = f.prepared_timed_call((1, 1), (64, 1, 1), x, 2.0, 64)
    seconds = timed()
    assert isinstance(seconds, float) and seconds >= 0
    assert np.array_equal(drv.from_device(x, (64,), np.float32), np.full(64, 8, np.float32))
    f.prepare([np.intp, np.float32, np.int32])
    f.prepared_call((1, 1), (64, 1, 1), int(x), 0.5, 64)
    assert np.array_equal(drv.from_device(x, (64,), np.float32), np.full(64, 4, np.float32))


def test_function_attributes(ctx):  # noqa: F811
    f = SourceModule(SCALE + "__global__ void big(float *x) { __shared__ float s[64]; "
                     "s[threadIdx.x] = 1; __syncthreads(); x[threadIdx.x] = s[63 - threadIdx.x]; }"
                     ).get_function("big")
    r = f.resources
    if r.registers is None:
        pytest.skip(r.reason)
    assert f.num_regs == r.registers > 0
    assert f.shared_size_bytes == 256
    assert f.local_size_bytes == 0 and f.const_size_bytes == 0
    assert 0 < f.max_threads_per_block <= 1024
    assert f.get_attribute(drv.function_attribute.NUM_REGS) == f.num_regs
    assert f.get_attribute(drv.function_attribute.SHARED_SIZE_BYTES) == 256


def test_events(ctx):  # noqa: F811
    f = SourceModule(SCALE).get_function("scale")
    x = drv.to_device(np.ones(1024, np.float32))
    start, end = drv.Event(), drv.Event()
    assert start.record() is start
    f(x, np.float32(2), np.int32(1024), block=(256, 1, 1), grid=(4, 1))
    end.record()
    assert end.synchronize() is end
    assert end.query()
    ms = start.time_till(end)
    assert ms >= 0 and end.time_since(start) == pytest.approx(ms)


def test_get_global(ctx):  # noqa: F811
    mod = SourceModule("""
    __constant__ float table[32];
    __global__ void read_table(float *out) { out[threadIdx.x] = table[threadIdx.x]; }
    """)
    table, size = mod.get_global("table")
    assert size == 32 * 4
    values = np.arange(32, dtype=np.float32) * 3
    drv.memcpy_htod(table, values)
    out = np.zeros(32, np.float32)
    mod.get_function("read_table")(drv.Out(out), block=(32, 1, 1))
    assert np.array_equal(out, values)
    with pytest.raises(mc.KernelNotFound, match="no __constant__ or __device__ variable"):
        mod.get_global("missing")
    native = mc.SourceModule("__constant__ int k[4];\n__global__ void f(int *o) { o[0] = k[2]; }",
                             device=ctx.get_device().mc_device)
    g = native.get_global("k")
    assert g.nbytes == 16 and g.dtype == np.uint8
    mc.copy(g, np.array([0, 0, 9, 0], np.int32).view(np.uint8))
    o = mc.zeros(1, np.int32, native.device)
    native.get_function("f")(o, grid=1, block=1)
    assert o.get()[0] == 9


def test_compiler_options_and_errors(ctx):  # noqa: F811
    mod = SourceModule("__global__ void k(int *x) { x[0] = VALUE; }", options=["-DVALUE=5", "-use_fast_math"],
                       include_dirs=[], keep=True, no_extern_c=True, cache_dir=False)
    out = np.zeros(1, np.int32)
    mod.get_function("k")(drv.Out(out), block=(1, 1, 1))
    assert out[0] == 5
    with pytest.raises(drv.CompileError) as e:
        SourceModule("__global__ void k(float *x) { x[0] = undefined_name; }")
    assert "undefined_name" in str(e.value)
    with pytest.raises(LookupError):
        mod.get_function("nope")
    with pytest.raises(drv.MemoryError):
        drv.mem_alloc(1 << 62)

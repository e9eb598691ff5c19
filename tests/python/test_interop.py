# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Interop: NumPy (zero-copy on the CPU), DLPack, __cuda_array_interface__, mc.asarray, views."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc


def test_numpy_views_are_zero_copy_on_cpu(cpu):
    a = mc.arange(12, dtype=np.int32, device=cpu).reshape(3, 4)
    v = a[:, ::-2]
    n = np.asarray(v)
    assert np.shares_memory(n, np.asarray(a))
    n[0, 0] = 100
    assert a.get()[0, 3] == 100


def test_get_of_non_contiguous_views(device):
    x = np.arange(60.0).reshape(5, 12)
    a = mc.to_device(x, device)
    np.testing.assert_array_equal(a[1::2, ::-3].get(), x[1::2, ::-3])
    np.testing.assert_array_equal(np.array(a[::2]), x[::2])


def test_array_conversion_follows_numpy_2_copy_keyword(device):
    x = np.arange(6, dtype=np.int32)
    a = mc.to_device(x, device)
    numpy2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"  # NumPy 1 has no copy=None
    for copy in (None, True):
        np.testing.assert_array_equal(a.__array__(copy=copy), x)
        if numpy2:
            np.testing.assert_array_equal(np.array(a, copy=copy), x)
    assert not np.shares_memory(a.__array__(copy=True), np.asarray(a.get()))
    np.testing.assert_array_equal(a.__array__(np.float64), x.astype(np.float64))
    assert a.__array__(np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="needs a copy"):
        a.__array__(np.float64, copy=False)  # a conversion cannot share memory
    if device.kind == "cpu":
        shared = a.__array__()  # the array's own memory, as numpy.asarray gives it
        shared[0] = 42
        assert a.get()[0] == 42
        assert np.shares_memory(a.__array__(copy=False), np.asarray(a))
        assert not np.shares_memory(a.__array__(copy=True), np.asarray(a))
        assert not np.shares_memory(np.array(a, copy=True), np.asarray(a))
    else:
        with pytest.raises(ValueError, match="only as a copy"):
            a.__array__(copy=False)
        if numpy2:
            with pytest.raises(ValueError):
                np.asarray(a, copy=False)  # NumPy 2 asks __array__ for a copy it cannot avoid


def test_flags_as_numpy_names_them(cpu):
    a = mc.zeros((3, 4), np.float32, cpu)
    assert a.flags.c_contiguous and a.flags["C_CONTIGUOUS"] and a.flags["C"]
    assert not a.flags.f_contiguous and not a.flags["F"]
    assert a.flags.writeable and a.flags["WRITEABLE"] and a.flags["w"]
    t = a[:, ::2]
    assert not t.flags.c_contiguous and not t.flags.f_contiguous
    column = mc.zeros((4, 1), np.float32, cpu)
    assert column.flags.c_contiguous and column.flags.f_contiguous
    ro = mc.asarray(np.frombuffer(bytes(16), np.float32), device=cpu)
    assert not ro.flags.writeable and not ro.flags["WRITEABLE"]
    assert "C_CONTIGUOUS : True" in repr(a.flags)
    with pytest.raises(KeyError, match="has no flag 'OWNDATA'"):
        a.flags["OWNDATA"]


def test_dlpack_export_cpu(cpu):
    a = mc.arange(10, dtype=np.float32, device=cpu)
    assert a.__dlpack_device__() == (1, 0)
    n = np.from_dlpack(a)
    assert np.shares_memory(n, np.asarray(a))
    np.testing.assert_array_equal(n, np.arange(10, dtype=np.float32))
    v = np.from_dlpack(a[::-3])
    np.testing.assert_array_equal(v, np.arange(10, dtype=np.float32)[::-3])


def test_asarray(device):
    x = np.arange(6, dtype=np.int16).reshape(2, 3)
    a = mc.asarray(x, device=device)
    assert a.device == device
    np.testing.assert_array_equal(a.get(), x)
    assert mc.asarray(a) is a
    if device.kind == "cpu":
        assert np.shares_memory(np.asarray(a), x)  # NumPy memory is used in place on the CPU
    b = mc.asarray([1.5, 2.5], device=device)
    np.testing.assert_array_equal(b.get(), [1.5, 2.5])


def test_asarray_from_dlpack_producer(cpu):
    class Producer:
        def __init__(self, x):
            self.x = x

        def __dlpack__(self, **kw):
            return self.x.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.x.__dlpack_device__()

    x = np.arange(5.0)
    a = mc.asarray(Producer(x), device=cpu)
    np.testing.assert_array_equal(a.get(), x)


def test_cuda_array_interface_only_on_gpus(device):
    a = mc.zeros(4, np.float32, device)
    if device.kind == "cpu":
        assert not hasattr(a, "__cuda_array_interface__")
    else:
        cai = a.__cuda_array_interface__
        assert cai["version"] == 3 and cai["data"][0] == a.ptr and cai["typestr"] == "<f4"


def test_wrap_device_pointer_and_view_bounds(cpu):
    x = np.arange(8, dtype=np.int64)
    a = mc._core.wrap_device_pointer(x.ctypes.data, (8,), None, "int64", 8, cpu, x, False)
    np.testing.assert_array_equal(a.get(), x)
    with pytest.raises(mc.InvalidArgument, match="holds only"):
        a._view(0, [9], [8])
    with pytest.raises(mc.InvalidArgument, match="holds only"):
        a._view(-8, [2], [8])
    assert a._view(56, [8], [-8]).get().tolist() == x[::-1].tolist()


def test_kernel_launch_with_a_non_contiguous_view_is_an_error(cpu):
    f = mc.SourceModule("__global__ void k(float* x) {}", device=cpu).get_function("k")
    a = mc.zeros(8, np.float32, cpu)
    with pytest.raises(mc.InvalidArgument, match="non-contiguous"):
        f(a[::2], grid=1, block=1)


def test_gpu_array_and_numpy_do_not_mix(device):
    if device.kind == "cpu":
        pytest.skip("on the CPU NumPy arrays mix zero-copy")
    a = mc.zeros(4, np.float32, device)
    with pytest.raises(TypeError, match="to_device"):
        a * np.ones(4, np.float32)


def _gpu_or_skip():
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if not gpus:
        pytest.skip("no GPU on this machine")
    return gpus[0]


FILL = "__global__ void fill(float* p, int n) { int i = threadIdx.x; if (i < n) p[i] = 7.0f * i; }"


@pytest.mark.gpu
def test_cupy_arrays_both_ways_zero_copy():
    gpu = _gpu_or_skip()
    cp = pytest.importorskip("cupy")
    c = cp.zeros(32, cp.float32)
    a = mc.asarray(c)  # through __cuda_array_interface__
    assert a.device == gpu and a.ptr == c.data.ptr and a.shape == (32,)
    mc.SourceModule(FILL, device=gpu).get_function("fill")(a, 32, grid=1, block=32)
    mc.synchronize(gpu)
    assert cp.asnumpy(c).tolist() == [7.0 * i for i in range(32)]  # the kernel wrote CuPy's memory
    back = cp.asarray(a)  # CuPy reads manycore's __cuda_array_interface__
    assert back.data.ptr == a.ptr
    via_dlpack = cp.from_dlpack(a)
    assert via_dlpack.data.ptr == a.ptr and float(via_dlpack[3]) == 21.0
    assert mc.asarray(cp.arange(5, dtype=cp.int64)).get().tolist() == [0, 1, 2, 3, 4]


@pytest.mark.gpu
def test_torch_tensors_zero_copy():
    gpu = _gpu_or_skip()
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch here has no CUDA")
    t = torch.zeros(32, dtype=torch.float32, device=f"cuda:{gpu.index}")
    a = mc.asarray(t)
    assert a.ptr == t.data_ptr()
    mc.SourceModule(FILL, device=gpu).get_function("fill")(a, 32, grid=1, block=32)
    mc.synchronize(gpu)
    assert t.cpu().tolist() == [7.0 * i for i in range(32)]
    u = torch.from_dlpack(a)
    assert u.data_ptr() == a.ptr

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Streams, events, pinned host memory, copies between devices and the GPU memory pool."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc

SCALE = r"""
__global__ void scale(float* x, float a, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        x[i] *= a;
}
"""


def test_launch_on_a_stream_then_wait_for_it(device):
    f = mc.SourceModule(SCALE, device=device).get_function("scale")
    stream = mc.Stream(device)
    x = mc.to_device(np.arange(10_000, dtype=np.float32), device)
    f(x, np.float32(3), 10_000, grid=8, block=256, stream=stream)
    stream.synchronize()
    assert stream.query()
    np.testing.assert_array_equal(x.get(), np.arange(10_000, dtype=np.float32) * 3)


def test_stream_keyword_takes_only_streams_of_the_kernels_device(device):
    f = mc.SourceModule(SCALE, device=device).get_function("scale")
    x = mc.zeros(4, np.float32, device=device)
    with pytest.raises(TypeError, match="manycore.Stream"):
        f(x, np.float32(1), 4, grid=1, block=32, stream=42)
    f(x, np.float32(1), 4, grid=1, block=32, stream=None)  # None: the default stream
    other = [d for d in mc.devices() if d != device]
    if other:
        with pytest.raises(ValueError, match="stream is on"):
            f(x, np.float32(1), 4, grid=1, block=32, stream=mc.Stream(other[0]))


def test_default_stream_and_equality(device):
    assert mc.Stream.default(device) == mc.Stream.default(device)
    a, b = mc.Stream(device), mc.Stream(device)
    assert a != b and a == a
    assert a.device == device
    assert "manycore.Stream" in repr(a)


def test_events_time_work_in_milliseconds(device):
    f = mc.SourceModule(SCALE, device=device).get_function("scale")
    x = mc.zeros(1 << 20, np.float32, device=device)
    stream = mc.Stream(device)
    start, end = mc.Event(device), mc.Event(device)
    start.record(stream)
    for _ in range(5):
        f(x, np.float32(1.5), 1 << 20, grid=64, block=256, stream=stream)
    end.record(stream)
    end.synchronize()
    assert end.query()
    ms = start.elapsed_time(end)
    assert 0.0 <= ms < 10_000.0
    chained = mc.Event(device).record(stream)  # record returns the event itself
    assert isinstance(chained, mc.Event)
    chained.synchronize()
    assert chained.query()


def test_event_errors_are_value_errors(device):
    start, end = mc.Event(device), mc.Event(device)
    with pytest.raises(ValueError, match="recorded"):
        start.elapsed_time(end)
    untimed = mc.Event(device, timing=False)
    untimed.record()
    end.record()
    with pytest.raises(ValueError, match="timing=False"):
        untimed.elapsed_time(end)


def test_stream_waits_for_an_event_of_another_stream(device):
    f = mc.SourceModule(SCALE, device=device).get_function("scale")
    x = mc.to_device(np.ones(1 << 16, np.float32), device)
    first, second = mc.Stream(device), mc.Stream(device)
    done = mc.Event(device)
    f(x, np.float32(2), 1 << 16, grid=32, block=256, stream=first)
    done.record(first)
    second.wait_event(done)
    f(x, np.float32(5), 1 << 16, grid=32, block=256, stream=second)
    second.synchronize()
    np.testing.assert_array_equal(x.get(), np.full(1 << 16, 10, np.float32))


def test_pinned_memory_round_trip_synchronously_and_on_a_stream(device):
    n = 1 << 18
    host = mc.pinned_empty(n, np.float64)
    assert host.device.kind == "cpu" and host.shape == (n,)
    np.asarray(host)[:] = np.arange(n)
    gpu = mc.empty(n, np.float64, device=device)
    mc.copyto(gpu, host)
    back = mc.pinned_empty(n, np.float64)
    stream = mc.Stream(device)
    mc.copyto(back, gpu, stream=stream)
    stream.synchronize()
    np.testing.assert_array_equal(np.asarray(back), np.arange(n))
    if device.kind == "cuda":
        assert mc.is_pinned(host)


def test_copy_between_devices_numpy_and_arrays(device):
    src = np.arange(1000, dtype=np.int32)
    a = mc.to_device(src, device)
    b = mc.empty(1000, np.int32, device=device)
    mc.copyto(b, a)  # device to device
    out = np.zeros(1000, np.int32)
    mc.copyto(out, b)  # device to a NumPy array
    np.testing.assert_array_equal(out, src)
    mc.copyto(b, np.full(1000, 7, np.int32))  # a NumPy array to the device
    np.testing.assert_array_equal(b.get(), np.full(1000, 7))


def test_copy_is_a_deprecated_name_of_copyto(device):
    a = mc.zeros(4, np.int32, device=device)
    with pytest.warns(DeprecationWarning, match="use manycore.copyto"):
        mc.copy(a, np.arange(4, dtype=np.int32))
    np.testing.assert_array_equal(a.get(), np.arange(4))
    assert "copyto" in mc.__all__


def test_copy_rejects_mismatched_sizes_and_non_contiguous(device):
    a = mc.zeros(10, np.float32, device=device)
    with pytest.raises(ValueError, match="same size"):
        mc.copyto(a, mc.zeros(11, np.float32, device=device))
    with pytest.raises(ValueError, match="contiguous"):
        mc.copyto(np.zeros(20, np.float32)[::2], a)
    with pytest.raises(TypeError, match="manycore.Array or a NumPy array"):
        mc.copyto(a, "not an array")


def test_synchronize_waits_for_the_device(device):
    f = mc.SourceModule(SCALE, device=device).get_function("scale")
    x = mc.to_device(np.ones(1 << 16, np.float32), device)
    f(x, np.float32(4), 1 << 16, grid=16, block=256)
    mc.synchronize(device)
    np.testing.assert_array_equal(np.asarray(x.get()), np.full(1 << 16, 4, np.float32))


def test_memory_pool_reuses_and_releases_blocks(device):
    if device.kind != "cuda":
        with pytest.raises(ValueError, match="not a GPU"):
            mc.cuda.memory_pool(device)
        return
    pool = mc.cuda.memory_pool(device)
    pool.free_all_blocks()
    before = pool.used_bytes()
    a = mc.empty(1 << 20, np.float32, device=device)
    assert pool.used_bytes() >= before + (4 << 20)
    ptr = a.ptr
    del a
    assert pool.free_blocks() >= 1 and pool.held_bytes() >= 4 << 20
    b = mc.empty(1 << 20, np.float32, device=device)
    assert b.ptr == ptr  # the freed block came back
    del b
    assert pool.free_all_blocks() >= 4 << 20
    assert pool.free_blocks() == 0
    assert "MemoryPool" in repr(pool)


def test_out_of_memory_names_the_bytes(device):
    if device.kind != "cuda":
        pytest.skip("the CPU device's memory is the host's; asking for too much is the OS's call")
    total = device.total_memory
    with pytest.raises(MemoryError, match="bytes"):
        mc.empty(total * 2 // 8, np.float64, device=device)
    # The device is still usable afterwards.
    assert mc.zeros(4, np.float32, device=device).get().tolist() == [0, 0, 0, 0]

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The public launch API of DESIGN.md: modules, functions, arrays and every bad input."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import manycore as mc

SAXPY = r"""
__global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""


@pytest.fixture
def saxpy(device):
    return mc.SourceModule(SAXPY, device=device).get_function("saxpy")


def test_saxpy_with_device_arrays(device, saxpy):
    n = 1000
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, dtype=np.float32)
    dx, dy = mc.to_device(x, device), mc.to_device(y, device)
    saxpy(n, 2.0, dx, dy, grid=((n + 255) // 256,), block=(256,))
    np.testing.assert_array_equal(dy.get(), 2 * x + 1)
    np.testing.assert_array_equal(dx.get(), x)


def test_numpy_arrays_pass_directly_and_zero_copy_on_cpu(cpu):
    f = mc.SourceModule(SAXPY, device=cpu).get_function("saxpy")
    x = np.arange(10, dtype=np.float32)
    y = np.zeros(10, dtype=np.float32)
    f(10, 3.0, x, y, grid=1, block=32)
    np.testing.assert_array_equal(y, 3 * x)


def test_array_is_zero_copy_with_numpy_on_cpu(cpu):
    a = mc.zeros(8, np.int32, device=cpu)
    view = np.asarray(a)
    view[3] = 7
    assert a.get()[3] == 7
    assert np.shares_memory(view, np.asarray(a))


def test_array_attributes_and_factories(device):
    a = mc.empty((3, 4), np.float64, device=device)
    assert a.shape == (3, 4)
    assert a.dtype == np.float64
    assert a.device == device
    assert a.nbytes == 96
    z = mc.zeros_like(a)
    assert z.shape == (3, 4) and z.dtype == np.float64
    np.testing.assert_array_equal(z.get(), np.zeros((3, 4)))
    e = mc.empty_like(a, dtype=np.int16)
    assert e.dtype == np.int16 and e.nbytes == 24
    assert mc.zeros(5, np.uint8, device=device).get().tolist() == [0] * 5
    g = a.get()
    assert isinstance(g, np.ndarray) and g.shape == (3, 4)
    assert "float64" in repr(a)


def test_get_returns_a_copy(device):
    a = mc.to_device(np.arange(4, dtype=np.int64), device)
    g = a.get()
    g[0] = 99
    assert a.get()[0] == 0


def test_devices_and_default_device(monkeypatch):
    assert mc.devices()[0] == mc.Device("cpu")
    assert repr(mc.Device("cpu")) == "Device('cpu')"
    assert str(mc.Device("cpu")) == "cpu"
    assert mc.default_device() in mc.devices()
    assert mc.Device("cpu").compute_units >= 1
    with pytest.raises(ValueError, match="cuda:N"):
        mc.Device("gpu7")


def test_missing_gpu_is_device_unavailable():
    if any(d.kind == "cuda" for d in mc.devices()):
        pytest.skip("this machine has a GPU")
    with pytest.raises(mc.DeviceUnavailable):
        mc.zeros(4, np.float32, device="cuda")


def test_unknown_kernel_lists_the_kernels(cpu):
    mod = mc.SourceModule(SAXPY + "__global__ void scale(float* x) { x[0] *= 2; }", device=cpu)
    with pytest.raises(LookupError) as info:
        mod.get_function("saxpx")
    assert "'saxpy'" in str(info.value) and "'scale'" in str(info.value)
    assert isinstance(info.value, mc.KernelNotFound)
    assert sorted(mod.kernel_names) == ["saxpy", "scale"]


def test_scalar_out_of_range_is_overflow_error(saxpy, device):
    x = mc.zeros(4, np.float32, device=device)
    with pytest.raises(OverflowError, match=r"saxpy.*'n'.*1099511627776.*int"):
        saxpy(2**40, 1.0, x, x, grid=1, block=4)
    with pytest.raises(OverflowError):
        saxpy(-(2**31) - 1, 1.0, x, x, grid=1, block=4)
    with pytest.raises(OverflowError):
        saxpy(2**70, 1.0, x, x, grid=1, block=4)
    with pytest.raises(OverflowError, match="float"):
        saxpy(4, 1e300, x, x, grid=1, block=4)
    assert isinstance(pytest.raises(OverflowError, saxpy, 2**40, 1.0, x, x, grid=1, block=4).value,
                      mc.ArgumentRangeError)


def test_uint32_array_into_int_pointer_is_type_error(device):
    f = mc.SourceModule("__global__ void k(int* data, int n) { data[0] = n; }", device=device).get_function("k")
    data = mc.zeros(4, np.uint32, device=device)
    with pytest.raises(TypeError) as info:
        f(data, 1, grid=1, block=1)
    message = str(info.value)
    assert "k()" in message and "'data'" in message and "uint32" in message and "int" in message


def test_const_and_restrict_are_ignored_and_void_pointer_takes_any(device):
    mod = mc.SourceModule(
        r"""
        __global__ void copy(const float* __restrict__ src, float* __restrict__ dst) {
            dst[threadIdx.x] = src[threadIdx.x];
        }
        __global__ void zero(void* p, int nbytes) {
            for (int i = 0; i < nbytes; ++i) static_cast<unsigned char*>(p)[i] = 0;
        }""",
        device=device,
    )
    src = mc.to_device(np.arange(8, dtype=np.float32), device)
    dst = mc.zeros(8, np.float32, device=device)
    mod.get_function("copy")(src, dst, grid=1, block=8)
    np.testing.assert_array_equal(dst.get(), np.arange(8))
    for dtype in (np.int16, np.float64, np.uint8):
        a = mc.to_device(np.ones(4, dtype), device)
        mod.get_function("zero")(a, a.nbytes, grid=1, block=1)
        assert not a.get().any()


def test_wrong_argument_count_names_the_signature(saxpy, device):
    x = mc.zeros(4, np.float32, device=device)
    with pytest.raises(TypeError, match=r"saxpy\(int n, float a, const float\* __restrict__ x, float\* y\) takes 4 arguments, got 3"):
        saxpy(4, 1.0, x, grid=1, block=4)


def test_float_into_int_and_array_into_scalar_are_type_errors(saxpy, device):
    x = mc.zeros(4, np.float32, device=device)
    with pytest.raises(TypeError, match="'n'"):
        saxpy(4.0, 1.0, x, x, grid=1, block=4)
    with pytest.raises(TypeError, match="'a'"):
        saxpy(4, x, x, x, grid=1, block=4)
    with pytest.raises(TypeError, match="'x'"):
        saxpy(4, 1.0, 5, x, grid=1, block=4)
    with pytest.raises(TypeError, match="'x'"):
        saxpy(4, 1.0, "text", x, grid=1, block=4)


def test_numpy_scalars_convert_by_declared_type(device):
    mod = mc.SourceModule(
        r"""
        __global__ void store(long long* out, unsigned char u8, short s16, unsigned int u32,
                              long long s64, float f, double d, bool b) {
            out[0] = u8; out[1] = s16; out[2] = u32; out[3] = s64;
            out[4] = (long long)(f * 4); out[5] = (long long)(d * 4); out[6] = b;
        }""",
        device=device,
    )
    out = mc.zeros(7, np.int64, device=device)
    mod.get_function("store")(out, np.uint8(200), np.int16(-3), np.uint32(4000000000), np.int64(-(2**40)),
                              np.float32(1.5), np.float64(2.25), np.bool_(True), grid=1, block=1)
    assert out.get().tolist() == [200, -3, 4000000000, -(2**40), 6, 9, 1]
    with pytest.raises(OverflowError):
        mod.get_function("store")(out, np.int32(300), 0, 0, 0, 0.0, 0.0, False, grid=1, block=1)
    with pytest.raises(OverflowError):
        mod.get_function("store")(out, 0, 0, -1, 0, 0.0, 0.0, False, grid=1, block=1)
    with pytest.raises(OverflowError):
        mod.get_function("store")(out, 0, 0, 0, 0, 0.0, 0.0, 2, grid=1, block=1)


def test_read_only_array_needs_a_const_parameter(cpu):
    mod = mc.SourceModule(
        r"""
        __global__ void read(const int* in, int* out) { out[0] = in[0]; }
        __global__ void write(int* p) { p[0] = 1; }""",
        device=cpu,
    )
    ro = np.arange(4, dtype=np.int32)
    ro.flags.writeable = False
    out = np.zeros(1, np.int32)
    mod.get_function("read")(ro, out, grid=1, block=1)
    assert out[0] == 0
    with pytest.raises(ValueError, match="read-only"):
        mod.get_function("write")(ro, grid=1, block=1)


def test_non_contiguous_array_is_rejected(cpu):
    f = mc.SourceModule("__global__ void k(float* p) { p[0] = 1; }", device=cpu).get_function("k")
    a = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="contiguous"):
        f(a[:, 1], grid=1, block=1)


def test_struct_by_value_and_null_pointer(cpu):
    mod = mc.SourceModule(
        r"""
        struct Params { int n; float scale; double offset; };
        __global__ void apply(Params p, float* out, int* maybe) {
            int i = threadIdx.x;
            if (i < p.n) out[i] = i * p.scale + (float)p.offset;
            if (maybe) maybe[0] = 1;
        }""",
        device=cpu,
    )
    dt = np.dtype([("n", np.int32), ("scale", np.float32), ("offset", np.float64)])
    params = np.array((4, 2.0, 0.5), dtype=dt)[()]
    out = np.zeros(4, np.float32)
    mod.get_function("apply")(params, out, None, grid=1, block=4)
    np.testing.assert_array_equal(out, [0.5, 2.5, 4.5, 6.5])
    with pytest.raises(TypeError, match="16 bytes"):
        mod.get_function("apply")(b"\0" * 8, out, None, grid=1, block=4)


@pytest.mark.parametrize(
    "grid, block, shared, match",
    [
        ((1,), (2048,), 0, "exceeds"),
        ((1,), (64, 32), 0, "2048 threads"),
        ((1,), (1, 1, 128), 0, "block.z"),
        ((0,), (32,), 0, "zero dimension"),
        ((1,), (32, 0), 0, "zero dimension"),
        ((1,), (32,), 49153, "shared"),
        ((1, 1, 1, 1), (32,), 0, "1 to 3 dimensions"),
    ],
)
def test_launch_outside_limits_is_value_error_before_running(device, grid, block, shared, match):
    mod = mc.SourceModule("__global__ void mark(int* p) { p[0] = 1; }", device=device)
    p = mc.zeros(1, np.int32, device=device)
    with pytest.raises(ValueError, match=match):
        mod.get_function("mark")(p, grid=grid, block=block, shared=shared)
    assert p.get()[0] == 0
    mod.get_function("mark")(p, grid=1, block=1)
    assert p.get()[0] == 1


def test_static_shared_memory_counts_against_the_limit(device):
    mod = mc.SourceModule(
        r"""
        __global__ void big(float* out) {
            __shared__ float s[10000];
            s[threadIdx.x] = 1; __syncthreads(); out[0] = s[0];
        }""",
        device=device,
    )
    f = mod.get_function("big")
    assert f.static_shared_bytes >= 40000
    out = mc.zeros(1, np.float32, device=device)
    f(out, grid=1, block=32, shared=8192)
    with pytest.raises(ValueError, match="static __shared__"):
        f(out, grid=1, block=32, shared=10000)


def test_launch_keyword_errors(saxpy, device):
    x = mc.zeros(4, np.float32, device=device)
    with pytest.raises(TypeError, match="grid= and block="):
        saxpy(4, 1.0, x, x, block=4)
    with pytest.raises(TypeError, match="unexpected keyword argument 'blocks'"):
        saxpy(4, 1.0, x, x, grid=1, blocks=4)
    with pytest.raises(TypeError, match="grid must be an int"):
        saxpy(4, 1.0, x, x, grid=1.5, block=4)
    saxpy(4, 1.0, x, x, grid=[1], block=[4, 1, 1], shared=0, stream=None)


def test_compile_error_carries_user_line_numbers(device):
    source = "__global__ void k(int* p) {\n    p[0] = 1;\n    p[1] = not_declared;\n}\n"
    options = ["-O1"] if device.kind == "cpu" else ["-lineinfo"]  # each compiler's own option
    with pytest.raises(mc.CompileError) as info:
        mc.SourceModule(source, device=device, options=options)
    error = info.value
    assert isinstance(error, RuntimeError)
    assert "kernel.cu:3" in str(error) and "not_declared" in error.log
    assert error.source == source
    assert error.options == options
    assert "   3      p[1] = not_declared;" in error.dump()


def test_options_pass_through(cpu):
    mod = mc.SourceModule("__global__ void k(int* p) { p[0] = VALUE; }", device=cpu, options=["-O2", "-DVALUE=42"])
    p = np.zeros(1, np.int32)
    mod.get_function("k")(p, grid=1, block=1)
    assert p[0] == 42
    with pytest.raises(TypeError, match="sequence of strings"):
        mc.SourceModule("__global__ void k() {}", device=cpu, options="-O2")


def test_launches_from_four_python_threads_at_once(device, scheme):
    mod = mc.SourceModule(
        r"""
        __global__ void fill(int* out, int value, int n) {
            __shared__ int s[128];
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            s[threadIdx.x] = value;
            __syncthreads();
            if (i < n) out[i] = s[(threadIdx.x + 1) % blockDim.x] + i;
        }""",
        device=device,
    )
    f = mod.get_function("fill")
    assert f.execution_mode == scheme
    n = 1 << 16
    errors: list[BaseException] = []

    def work(value: int) -> None:
        try:
            for _ in range(5):
                out = mc.zeros(n, np.int32, device=device)
                f(out, value, n, grid=(n // 128,), block=(128,))
                np.testing.assert_array_equal(out.get(), value + np.arange(n))
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(v,)) for v in (10, 20, 30, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_gil_is_released_during_a_launch(cpu):
    mod = mc.SourceModule(
        r"""
        __global__ void spin(volatile long long* sink, long long iterations) {
            long long acc = 0;
            for (long long i = 0; i < iterations; ++i) acc += i ^ (acc >> 3);
            sink[0] = acc;
        }""",
        device=cpu,
    )
    sink = np.zeros(1, np.int64)
    window: list[float] = []

    def launch() -> None:
        window.append(time.perf_counter())
        mod.get_function("spin")(sink, 300_000_000, grid=1, block=1)
        window.append(time.perf_counter())

    ticks: list[float] = []
    t = threading.Thread(target=launch)
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    start, end = window
    assert any(start < tick < end for tick in ticks), "the main thread never ran during the launch"

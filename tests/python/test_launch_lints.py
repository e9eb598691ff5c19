# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Launch lints: mc.LaunchWarning for index overflow, a grid too small, odd block sizes."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import manycore as mc

AXPY = r"""
__global__ void axpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
"""

GRID_STRIDE = r"""
__global__ void fill(long long n, float value, float* x) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x)
        x[i] = value;
}
"""

TOUCH = r"""
__global__ void touch(unsigned char* p, long long n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = 7;
}
"""


def recorded(call) -> list[warnings.WarningMessage]:
    """The LaunchWarnings ``call()`` gives, every one of them (no once-per-line filtering)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, mc.LaunchWarning)]


@pytest.fixture
def lints_on():
    """Launch lints on for the test, whatever the process had, and restored after."""
    before = mc.lints_enabled()
    mc.set_lints(True)
    yield
    mc.set_lints(before)


def test_launch_warning_is_a_user_warning_exported_from_manycore() -> None:
    assert issubclass(mc.LaunchWarning, UserWarning)
    assert mc.LaunchWarning is mc.errors.LaunchWarning
    assert "LaunchWarning" in mc.__all__


def test_block_not_a_multiple_of_32(device, lints_on) -> None:
    f = mc.SourceModule(AXPY, device=device).get_function("axpy")
    x = mc.to_device(np.ones(1000, np.float32), device)
    y = mc.zeros(1000, np.float32, device)
    caught = recorded(lambda: f(1000, 2.0, x, y, grid=(10,), block=(100,)))  # line of the launch
    assert [w.message.kind for w in caught] == ["block-size"]
    message = str(caught[0].message)
    assert message.startswith("axpy(): block=(100, 1, 1) has 100 threads, not a multiple of 32")
    assert "4 warps of 32 with 28 lanes idle" in message and "use 128 or 96 threads" in message
    # The warning points at the user's launch line, not at manycore.
    assert caught[0].filename == __file__
    np.testing.assert_array_equal(y.get(), 2.0)  # a warning, and the launch still ran
    assert recorded(lambda: f(1000, 2.0, x, y, grid=(4,), block=(256,))) == []
    assert recorded(lambda: f(1000, 2.0, x, y, grid=(1000,), block=(1,))) == []  # serial


def test_grid_too_small_for_one_element_per_thread(device, lints_on) -> None:
    f = mc.SourceModule(AXPY, device=device).get_function("axpy")
    x = mc.to_device(np.ones(4096, np.float32), device)
    y = mc.zeros(4096, np.float32, device)
    caught = recorded(lambda: f(np.int32(4096), np.float32(1), x, y, grid=(4,), block=(256,)))
    assert [w.message.kind for w in caught] == ["grid-too-small"]
    message = str(caught[0].message)
    assert "runs 1024 threads along x, but n = 4096" in message
    assert "index 'i' at line 3" in message
    assert "elements 1024 to 4095 are never processed" in message
    assert "launch grid=(16,)" in message and "i += blockDim.x * gridDim.x" in message
    # The guard, not the arrays' length, is what the launch must cover.
    assert recorded(lambda: f(1024, 1.0, x, y, grid=(4,), block=(256,))) == []
    assert recorded(lambda: f(4096, 1.0, x, y, grid=(16,), block=(256,))) == []


def test_a_reused_module_keeps_its_lint_facts(lints_on) -> None:
    # The second SourceModule of a source is the registry's module, analysed only once.
    first = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    again = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    x = np.ones(4096, np.float32)
    for f in (first, again):
        assert [w.kind for w in f.lints(4096, 1.0, x, x, grid=(4,), block=(256,))] == [
            "grid-too-small"]


def test_grid_stride_kernel_covers_any_length(device, lints_on) -> None:
    f = mc.SourceModule(GRID_STRIDE, device=device).get_function("fill")
    x = mc.zeros(100_000, np.float32, device)
    assert recorded(lambda: f(100_000, 3.0, x, grid=(2,), block=(128,))) == []
    np.testing.assert_array_equal(x.get(), 3.0)


def test_index_overflow_with_more_than_2_31_elements(lints_on) -> None:
    # 2**31 + 1 bytes that are never touched past the first few: no memory is committed.
    big = mc.empty(2**31 + 1, np.uint8, device="cpu")
    f = mc.SourceModule(TOUCH, device="cpu").get_function("touch")
    caught = recorded(lambda: f(big, 4, grid=(1,), block=(32,)))
    assert [w.message.kind for w in caught] == ["index-overflow"]
    message = str(caught[0].message)
    assert message.startswith("touch(): argument 'p' has 2147483649 elements, more than the "
                              "2147483647 a 32-bit 'int' can reach")
    assert "index 'i' is declared 'int' at line 3" in message
    assert "'long long' or 'size_t'" in message
    assert caught[0].filename == __file__
    # A 32-bit size parameter is flagged the same way when no index is declared.
    g = mc.SourceModule(r"""
__global__ void count(const unsigned char* p, int n, unsigned long long* out) {
    if (blockIdx.x == 0 && threadIdx.x == 0) out[0] = p[n];
}""", device="cpu").get_function("count")
    out = np.zeros(1, np.uint64)
    [w] = g.lints(big, 5, out, grid=(1,), block=(32,))
    assert w.kind == "index-overflow"
    assert "the kernel's parameter 'n' is 'int'" in str(w)


def test_unsigned_index_reaches_2_32(lints_on) -> None:
    big = mc.empty(2**31 + 1, np.uint8, device="cpu")
    f = mc.SourceModule(r"""
__global__ void touch(unsigned char* p, unsigned long long n) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = 1;
}""", device="cpu").get_function("touch")
    assert f.lints(big, 4, grid=(1,), block=(32,)) == []


def test_64_bit_kernel_has_no_overflow_lint(lints_on) -> None:
    big = mc.empty(2**31 + 1, np.uint8, device="cpu")
    f = mc.SourceModule(r"""
__global__ void touch(unsigned char* p, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = 1;
}""", device="cpu").get_function("touch")
    assert recorded(lambda: f(big, 4, grid=(1,), block=(32,))) == []


def test_lints_dry_check_does_not_run(lints_on) -> None:
    f = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    x = np.ones(4096, np.float32)
    y = np.zeros(4096, np.float32)
    found = f.lints(4096, 2.0, x, y, grid=(4,), block=(100,))
    assert [w.kind for w in found] == ["block-size", "grid-too-small"]
    assert all(isinstance(w, mc.LaunchWarning) for w in found)
    np.testing.assert_array_equal(y, 0.0)  # nothing ran
    assert f.lints(4096, 2.0, x, y, grid=(16,), block=(256,)) == []
    mc.set_lints(False)
    assert len(f.lints(4096, 2.0, x, y, grid=(4,), block=(100,))) == 2  # whatever set_lints says
    # The same argument checks as a launch.
    with pytest.raises(mc.ArgumentTypeError):
        f.lints(4096, 2.0, x, "y", grid=(4,), block=(100,))
    with pytest.raises(mc.ArgumentTypeError, match="needs grid= and block="):
        f.lints(4096, 2.0, x, y)


def test_silenced_per_call(lints_on) -> None:
    f = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    x = np.ones(1000, np.float32)
    y = np.zeros(1000, np.float32)
    assert recorded(lambda: f(1000, 2.0, x, y, grid=(1,), block=(100,), lint=False)) == []
    np.testing.assert_array_equal(y[:100], 2.0)
    assert len(recorded(lambda: f(1000, 2.0, x, y, grid=(1,), block=(100,), lint=True))) == 2
    with pytest.raises(mc.ArgumentTypeError, match="lint must be True or False"):
        f(1000, 2.0, x, y, grid=(1,), block=(100,), lint="no")
    with pytest.raises(TypeError, match="grid=, block=, shared=, stream= and lint="):
        f(1000, 2.0, x, y, grid=(1,), block=(128,), lints=False)


def test_silenced_globally(lints_on) -> None:
    f = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    x = np.ones(1000, np.float32)
    y = np.zeros(1000, np.float32)
    mc.set_lints(False)
    assert mc.lints_enabled() is False
    assert recorded(lambda: f(1000, 2.0, x, y, grid=(1,), block=(100,))) == []
    mc.set_lints(True)
    assert mc.lints_enabled() is True
    assert len(recorded(lambda: f(1000, 2.0, x, y, grid=(1,), block=(100,)))) == 2


def test_silenced_by_environment() -> None:
    code = (
        "import numpy as np, manycore as mc\n"
        f"f = mc.SourceModule({AXPY!r}, device='cpu').get_function('axpy')\n"
        "x = np.ones(1000, np.float32); y = np.zeros_like(x)\n"
        "f(1000, 2.0, x, y, grid=(1,), block=(100,))\n"
        "print(mc.lints_enabled())\n"
    )
    for value, enabled in (("0", False), ("1", True)):
        env = dict(os.environ, MANYCORE_LINTS=value)
        r = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], env=env,
                           capture_output=True, text=True, timeout=120)
        if enabled:
            assert r.returncode != 0 and "LaunchWarning" in r.stderr, r.stderr
        else:
            assert r.returncode == 0, r.stderr
            assert r.stdout.strip() == "False"


def test_warnings_filters_apply(lints_on) -> None:
    f = mc.SourceModule(AXPY, device="cpu").get_function("axpy")
    x = np.ones(1000, np.float32)
    y = np.zeros(1000, np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=mc.LaunchWarning)
        with pytest.raises(mc.LaunchWarning, match="not a multiple of 32"):
            f(1000, 2.0, x, y, grid=(10,), block=(100,))
    np.testing.assert_array_equal(y, 0.0)  # an error-filtered lint stops the launch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=r".*not a multiple of 32", category=mc.LaunchWarning)
        f(1000, 2.0, x, y, grid=(1,), block=(100,))
    assert [w.message.kind for w in caught] == ["grid-too-small"]


def test_no_lints_on_the_tour_or_the_array_library(lints_on) -> None:
    from manycore.tools import tour

    with warnings.catch_warnings():
        warnings.simplefilter("error", mc.LaunchWarning)
        assert tour.run(size=1 << 12, repeat=1, device="cpu", out=lambda _line: None) == 0
        a = mc.arange(10_000, dtype=np.float32, device="cpu")
        np.testing.assert_allclose((a * 2 + 1).get(), np.arange(10_000) * 2 + 1)
        assert float(mc.sum(a).get()) == pytest.approx(np.arange(10_000).sum())

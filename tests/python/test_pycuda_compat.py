# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What manycore.pycuda points out (CompatWarning, each with a case that must warn and one that
must not), PyCUDA's argument rules, install(), `manycore pycuda` and the course-style programs."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import manycore as mc
import manycore.pycuda.driver as drv
from manycore.pycuda import gpuarray
from manycore.pycuda.compiler import SourceModule
from pycuda_support import EXAMPLES, ctx, run_python  # noqa: F401 - the fixture

ADD = """
__global__ void add(int *a, int *b, int *c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""
TOTAL = """
__global__ void count(const int *x, int *total, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(total, x[i]);
}
"""
N = 512


def add_kernel(tag: str):
    """The add kernel in a module of its own: warnings are given once per kernel and parameter,
    so each test that expects them compiles its own source."""
    return SourceModule(ADD + f"// {tag}\n").get_function("add")


def launch_add(a, b, c, n, tag: str):
    add_kernel(tag)(a, b, c, n, block=(256, 1, 1), grid=(2, 1))


def compat(record: list, kind: str) -> list:
    return [w for w in record if issubclass(w.category, mc.CompatWarning) and w.message.kind == kind]


def test_compat_warning_is_its_own_category():
    assert issubclass(mc.CompatWarning, UserWarning)
    assert not issubclass(mc.CompatWarning, mc.LaunchWarning)


def test_element_type_mismatch_warns_and_runs_as_pycuda(ctx):  # noqa: F811
    a = np.arange(N, dtype=np.uint32)
    c = np.zeros(N, np.uint32)
    with pytest.warns(mc.CompatWarning) as record:
        launch_add(drv.In(a), drv.In(a), drv.Out(c), np.int32(N), "element-type")
    found = compat(record, "element-type")
    assert {w.message.args[0].split("'")[1] for w in found} == {"a", "b", "c"}
    text = str(found[0].message)
    assert "uint32" in text and "values of 2**31 or more arrive negative" in text
    # the remedy that keeps the values first, then conversion where the array is created
    assert text.index("change the parameter to the array's type ('unsigned int*')") < \
        text.index("convert where the array is created (.astype(numpy.int32)")
    assert "overflow" in text and "not in the call" in text
    assert np.array_equal(c, 2 * a)


def test_matching_element_types_do_not_warn(ctx):  # noqa: F811
    a = np.arange(N, dtype=np.int32)
    c = np.zeros(N, np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        launch_add(drv.In(a), gpuarray.to_gpu(a), drv.Out(c), np.int32(N), "same-type")
    assert np.array_equal(c, 2 * a)


def test_int64_total_into_int_pointer(ctx):  # noqa: F811
    f = SourceModule(TOTAL + f"// {drv.Context.get_device()}\n").get_function("count")
    x = gpuarray.to_gpu(np.ones(N, np.int32))
    total = gpuarray.zeros(1, np.int64)
    with pytest.warns(mc.CompatWarning, match=r"int64 element \(8 bytes\) holds 2 of the kernel's ints"):
        f(x, total, np.int32(N), block=(256, 1, 1), grid=(2, 1))
    assert total.get()[0] == N  # the low half, as under PyCUDA
    right = gpuarray.zeros(1, np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(x, right, np.int32(N), block=(256, 1, 1), grid=(2, 1))
    assert right.get()[0] == N


def test_scalar_type_mismatch_warns_and_keeps_pycudas_bytes(ctx):  # noqa: F811
    a = gpuarray.to_gpu(np.arange(N, dtype=np.int32))
    c = gpuarray.zeros(N, np.int32)
    with pytest.warns(mc.CompatWarning) as record:
        launch_add(a, a, c, np.uint32(N), "scalar-type")
    (w,) = compat(record, "scalar-type")
    assert "numpy.uint32" in str(w.message) and "('unsigned int')" in str(w.message)
    assert np.array_equal(c.get(), 2 * np.arange(N))
    # a value of 2**31 or more arrives negative, as PyCUDA passes the bytes: nothing runs
    c.fill(0)
    f = add_kernel("scalar-type")
    with pytest.warns(mc.LaunchWarning):  # the launch lint reads n as given: 3e9 elements
        f(a, a, c, np.uint32(3_000_000_000), block=(256, 1, 1), grid=(2, 1))
    assert not c.get().any()


def test_matching_scalars_and_python_numbers_do_not_warn(ctx):  # noqa: F811
    a = gpuarray.to_gpu(np.arange(N, dtype=np.int32))
    c = gpuarray.zeros(N, np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        launch_add(a, a, c, np.int32(N), "same-scalar")
        launch_add(a, a, c, N, "same-scalar")  # PyCUDA refuses Python ints: converted here
    assert np.array_equal(c.get(), 2 * np.arange(N))


def test_each_warning_once_per_kernel_and_parameter(ctx):  # noqa: F811
    f = add_kernel("once")
    a = gpuarray.to_gpu(np.arange(N, dtype=np.uint32))
    with pytest.warns(mc.CompatWarning):
        f(a, a, a, np.int32(N), block=(256, 1, 1), grid=(2, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(a, a, a, np.int32(N), block=(256, 1, 1), grid=(2, 1))


def test_lint_switches_leave_compat_warnings_on_and_filters_silence_them(ctx):  # noqa: F811
    a = gpuarray.to_gpu(np.arange(N, dtype=np.uint32))
    mc.set_lints(False)
    try:
        with pytest.warns(mc.CompatWarning):
            launch_add(a, a, a, np.int32(N), "lints-off")
    finally:
        mc.set_lints(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", mc.CompatWarning)
        launch_add(a, a, a, np.int32(N), "filtered")


def test_timed_region_with_compile_and_copies_warns(ctx):  # noqa: F811
    a = np.arange(N, dtype=np.int32)
    c = np.zeros_like(a)
    start, end = drv.Event(), drv.Event()
    start.record()
    f = add_kernel("timed")
    f(drv.In(a), drv.In(a), drv.Out(c), np.int32(N), block=(256, 1, 1), grid=(2, 1))
    end.record()
    end.synchronize()
    with pytest.warns(mc.CompatWarning) as record:
        ms = start.time_till(end)
    (w,) = compat(record, "timed-region")
    text = str(w.message)
    assert re.search(r"compiling a SourceModule \([\d.]+ ms\)", text)
    assert re.search(r"copies of In/Out/InOut arguments \([\d.]+ ms\)", text)
    assert ms > 0


def test_timed_region_of_kernels_alone_does_not_warn(ctx):  # noqa: F811
    f = add_kernel("kernels-alone")
    a = gpuarray.to_gpu(np.arange(N, dtype=np.int32))
    c = gpuarray.empty_like(a)
    start, end = drv.Event(), drv.Event()
    start.record()
    f(a, a, c, np.int32(N), block=(256, 1, 1), grid=(2, 1))
    end.record()
    end.synchronize()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert start.time_till(end) >= 0
        drv.Context.synchronize()
        assert end.time_since(start) >= 0


def test_time_till_an_event_the_host_never_waited_for_warns(ctx):  # noqa: F811
    f = add_kernel("not-waited")
    a = gpuarray.to_gpu(np.arange(N, dtype=np.int32))
    start, end = drv.Event(), drv.Event()
    start.record()
    f(a, a, a, np.int32(N), block=(256, 1, 1), grid=(2, 1))
    end.record()
    with pytest.warns(mc.CompatWarning, match=r"end.synchronize\(\)") as record:
        ms = start.time_till(end)
    assert compat(record, "event-not-reached") and ms >= 0
    other = drv.Event()
    start.record()
    other.record()
    drv.Context.synchronize()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start.time_till(other)


def test_grid_too_small_is_a_launch_lint(ctx):  # noqa: F811
    a = gpuarray.to_gpu(np.arange(N, dtype=np.int32))
    with pytest.warns(mc.LaunchWarning, match="never processed"):
        add_kernel("grid")(a, a, a, np.int32(N), block=(256, 1, 1), grid=(1, 1))


# ---- install(), `manycore pycuda`, `manycore check --pycuda`

def test_install_resolves_pycuda_to_manycore():
    out = run_python(code="""
        import manycore.pycuda
        manycore.pycuda.install()
        import pycuda.autoinit, pycuda.driver as drv, pycuda.gpuarray as ga
        from pycuda.compiler import SourceModule
        import manycore.pycuda.driver
        assert drv is manycore.pycuda.driver
        print(type(ga.to_gpu([1.0])).__module__, drv.Context.get_device().mc_device)
    """, MANYCORE_DEVICE="cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["manycore.pycuda.gpuarray", "cpu"]


def test_install_refuses_when_a_real_pycuda_is_imported():
    out = run_python(code="""
        import sys, types
        real = types.ModuleType("pycuda")
        real.__file__ = "/opt/site-packages/pycuda/__init__.py"
        sys.modules["pycuda"] = real
        import manycore.pycuda
        try:
            manycore.pycuda.install()
        except RuntimeError as e:
            print("refused:", e)
        assert sys.modules["pycuda"] is real
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused:")
    assert "/opt/site-packages/pycuda/__init__.py" in out.stdout and "restart" in out.stdout


SCRIPT = """
import sys
import numpy as np
import pycuda.autoinit
import pycuda.driver as drv
from pycuda.compiler import SourceModule

mod = SourceModule('''
__global__ void twice(float *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 2;
}''')
x = np.arange(int(sys.argv[1]), dtype=np.float32)
mod.get_function("twice")(drv.InOut(x), np.int32(x.size), block=(64, 1, 1), grid=(1, 1))
print("sum", x.sum(), sys.argv[1:])
"""


@pytest.mark.parametrize("command", [["-m", "manycore", "pycuda"]], ids=["python -m manycore pycuda"])
def test_manycore_pycuda_runs_a_script(tmp_path, command):
    script = tmp_path / "double.py"
    script.write_text(SCRIPT)
    out = run_python(*command, str(script), "64", "extra", MANYCORE_DEVICE="cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "sum 4032.0 ['64', 'extra']"
    assert "gives manycore.pycuda" in out.stderr and "on cpu" in out.stderr


def test_manycore_pycuda_usage_and_missing_script():
    out = run_python("-m", "manycore", "pycuda")
    assert out.returncode == 2 and "usage: manycore pycuda" in out.stderr
    out = run_python("-m", "manycore", "pycuda", "no_such_script.py")
    assert out.returncode == 2 and "no such script" in out.stderr


def test_manycore_check_pycuda_finds_the_bug(tmp_path):
    script = tmp_path / "overrun.py"
    script.write_text(SCRIPT.replace("if (i < n) x[i] *= 2;", "x[i] *= 2;"))
    out = run_python("-m", "manycore", "check", "--pycuda", str(script), "60", MANYCORE_DEVICE="cpu")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "twice" in out.stdout and "out-of-bounds" in out.stdout.lower().replace(" ", "-")


# ---- the course-style programs, at their own sizes, on the CPU

PROGRAMS = {
    "vector_add_v0.py": {"element-type", "scalar-type", "timed-region"},
    "vector_add_v1.py": set(),
    "matrix_add.py": set(),
    "transpose.py": set(),
    "matrix_mul.py": set(),
    "reduction_v1.py": {"timed-region"},
    "reduction_v2.py": set(),
    "reduction_v3.py": {"element-type"},
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_course_style_programs(program):
    out = run_python("-W", "always", "-m", "manycore", "pycuda", str(EXAMPLES / program),
                     MANYCORE_DEVICE="cpu", timeout=600)
    assert out.returncode == 0, out.stderr
    results = re.findall(r"correct: (\w+)", out.stdout)
    assert results and set(results) == {"True"}, out.stdout
    assert re.search(r"[\d.]+ ms", out.stdout)  # each program reports its own time
    kinds = set()
    for line in out.stderr.splitlines():
        if "CompatWarning: " in line:
            message = line.split("CompatWarning: ", 1)[1]
            kinds.add("timed-region" if message.startswith("time_till") else
                      "scalar-type" if " scalar: " in message else "element-type")
    assert kinds == PROGRAMS[program], out.stderr


def test_launch_cost_benchmark_runs():
    out = run_python(str(EXAMPLES.parents[1] / "bench" / "pycuda" / "run.py"), "--quick", "--device",
                     "cpu", "--calls", "200")
    assert out.returncode == 0, out.stderr
    for name in ["native manycore call", "pycuda call, GPUArrays", "pycuda prepared_call"]:
        assert name in out.stdout

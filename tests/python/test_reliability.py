# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Careless and hostile inputs: bad memory, overflowing sizes, settings, names, messages.

Each case that used to crash or hang the interpreter runs in a child process with a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import manycore as mc
from manycore import checking

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict | None = None, timeout: float = 120,
               **kwargs) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


# ---- Item 4: bad memory inputs are refused ----------------------------------------------------


def test_copy_into_a_read_only_numpy_array_is_refused():
    dst = np.zeros(8, np.uint8)
    dst.flags.writeable = False
    src = mc.to_device(np.arange(8, dtype=np.uint8), device="cpu")
    with pytest.raises(ValueError, match="dst is read-only"):
        mc.copyto(dst, src)
    assert (dst == 0).all()


def test_copy_into_an_array_over_immutable_bytes_is_refused():
    data = b"abcdefgh"
    dst = np.frombuffer(data, np.uint8)
    with pytest.raises(ValueError, match="read-only"):
        mc.copyto(dst, mc.to_device(np.zeros(8, np.uint8), device="cpu"))
    assert data == b"abcdefgh"


def test_object_arrays_are_refused_by_void_pointer_parameters():
    f = mc.SourceModule("__global__ void k(void* p) {}", device="cpu").get_function("k")
    objects = np.array([object(), object()])
    with pytest.raises(TypeError, match="dtype=object"):
        f(objects, grid=(1,), block=(1,))


def test_object_arrays_are_refused_by_to_device():
    with pytest.raises(TypeError, match="dtype=object"):
        mc.to_device(np.array([object(), "text"], dtype=object), device="cpu")


def test_to_device_of_none_is_a_type_error():
    with pytest.raises(TypeError, match=r"to_device\(None\)"):
        mc.to_device(None, device="cpu")


def test_a_size_that_overflows_is_a_memory_error_naming_the_shape():
    with pytest.raises(MemoryError, match=r"shape \(4611686018427387904,\).*2\*\*64 bytes"):
        mc.zeros(2**62, np.float32, device="cpu")
    with pytest.raises(MemoryError, match=r"shape \(4294967296, 4294967296\).*2\*\*64 elements"):
        mc.empty((2**32, 2**32), np.uint8, device="cpu")


# ---- Item 5: checked limits cannot be bypassed by overflow ------------------------------------


def test_checked_thread_limit_counts_without_overflow():
    done = run_python('''
    import numpy as np, manycore as mc
    f = mc.SourceModule("__global__ void k(int* y) {}", device="cpu", checked=True).get_function("k")
    try:
        f(np.zeros(1, np.int32), grid=(1430301313, 65535, 65535), block=(1024,))
        print("ran")
    except mc.InvalidLaunch as e:
        print("refused:", e)
    ''', timeout=120)
    assert "refused:" in done.stdout, done.stdout + done.stderr
    assert str(1430301313 * 65535 * 65535 * 1024) in done.stdout


# ---- Item 6: findings and results are never lost silently -------------------------------------

PLANTED = '''
import numpy as np, manycore as mc
f = mc.SourceModule("""
__global__ void shift(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i + 1];
}""", device="cpu", checked=True).get_function("shift")
x = np.zeros(64, np.float32)
f(x, np.int32(64), grid=(1,), block=(64,))
print("script finished")
'''


def test_a_failed_write_of_findings_is_an_error_that_says_where():
    done = run_python(PLANTED, env={"MANYCORE_CHECK_COLLECT": "/dev/full"})
    assert done.returncode != 0
    assert "script finished" not in done.stdout
    assert "MANYCORE_CHECK_COLLECT=/dev/full" in done.stderr and "No space left" in done.stderr


def test_a_full_tmpdir_during_a_compile_names_errno_and_leaves_no_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = run_python('''
    import resource, manycore as mc
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))  # a full disk, for this process
    try:
        mc.SourceModule("__global__ void k(int* y) { y[0] = 3; }", device="cpu")
        print("compiled")
    except mc.Error as e:
        print("error:", e)
    ''', env={"TMPDIR": str(tmp), "MANYCORE_CACHE_DIR": str(tmp_path / "cache")})
    assert "error:" in done.stdout, done.stdout + done.stderr
    assert "errno 27" in done.stdout and "File too large" in done.stdout
    assert list(tmp.iterdir()) == []


# ---- Item 8: settings are validated -----------------------------------------------------------

SETTINGS_PROBE = '''
import numpy as np, manycore as mc
try:
    m = mc.SourceModule("__global__ void k(int* y) { __syncthreads(); y[threadIdx.x] = 1; }",
                        device="cpu")
    y = np.zeros(64, np.int32)
    m.get_function("k")(y, grid=(4,), block=(64,))
    print("ran", int(y.sum()))
except mc.InvalidArgument as e:
    print("InvalidArgument:", e)
'''


@pytest.mark.parametrize("name,value,accepted", [
    ("MANYCORE_FIBER_STACK_BYTES", "-1", "from 16384 to 1073741824"),
    ("MANYCORE_FIBER_STACK_BYTES", "1e23", "from 16384 to 1073741824"),
    ("MANYCORE_FIBER_STACK_BYTES", "100000000000000000000000", "from 16384 to 1073741824"),
    ("MANYCORE_NUM_THREADS", "-1", "from 1 to 4096"),
    ("MANYCORE_NUM_THREADS", "100000", "from 1 to 4096"),
    ("MANYCORE_MAX_SHARED_BYTES", "-5", "from 0 to 1073741824"),
    ("MANYCORE_DEVICE", "nonsense", "cpu, cuda or cuda:N"),
    ("MANYCORE_COMPILE_TIMEOUT", "0", "more than 0"),
    ("MANYCORE_COMPILE_TIMEOUT", "soon", "more than 0"),
])
def test_a_bad_setting_is_an_invalid_argument_naming_it(name, value, accepted):
    done = run_python(SETTINGS_PROBE, env={name: value}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "InvalidArgument:" in done.stdout, done.stdout
    assert f"{name}='{value}'" in done.stdout and accepted in done.stdout


def test_a_hanging_compiler_is_stopped_by_the_compile_timeout(tmp_path):
    hanging = tmp_path / "stuck-cxx"
    hanging.write_text("#!/bin/sh\nexec sleep 300\n")
    hanging.chmod(0o755)
    done = run_python('''
    import time, manycore as mc
    start = time.monotonic()
    try:
        mc.SourceModule("__global__ void k(int* y) { y[0] = 1; }", device="cpu")
        print("compiled")
    except mc.CompileError as e:
        print("CompileError:", e, "after", round(time.monotonic() - start))
    ''', env={"CXX": str(hanging), "MANYCORE_COMPILE_TIMEOUT": "2", "MANYCORE_CACHE": "0"},
        timeout=60)
    assert "CompileError:" in done.stdout, done.stdout + done.stderr
    assert "MANYCORE_COMPILE_TIMEOUT=2 s" in done.stdout
    assert int(done.stdout.split("after")[-1]) < 10


# ---- Item 9: kernel names are free ------------------------------------------------------------

COMMON_NAMES = ("min max sqrt exp abs round index select time rand free memcpy norm clock log "
                "pow sin cos floor ceil fabs fmin fmax exit signal kill read write open close "
                "atoi malloc printf div fma erf hypot trunc scale add").split()


def test_forty_common_names_are_kernel_names(device):
    assert len(COMMON_NAMES) == 40
    source = "\n".join(
        f"__global__ void {name}(float* y, int n) {{ int i = threadIdx.x; if (i < n) y[i] = {k}; }}"
        for k, name in enumerate(COMMON_NAMES))
    module = mc.SourceModule(source, device=device)
    for k, name in enumerate(COMMON_NAMES):
        y = mc.zeros(32, np.float32, device=device)
        module.get_function(name)(y, np.int32(32), grid=(1,), block=(32,))
        assert (y.get() == k).all(), name


def test_a_kernel_named_like_a_library_function_works_checked():
    m = mc.SourceModule("__global__ void max(float* y) { y[threadIdx.x] = threadIdx.x; }",
                        device="cpu", checked=True)
    y = np.zeros(32, np.float32)
    m.get_function("max")(y, grid=(1,), block=(32,))
    assert (y == np.arange(32)).all()


def test_overloaded_kernels_are_a_compile_error_in_the_users_terms():
    with pytest.raises(mc.CompileError, match="kernel 'k' is defined again with other parameters"):
        mc.SourceModule("__global__ void k(int* y) {}\n__global__ void k(float* y) {}",
                        device="cpu")


def test_a_kernel_in_a_namespace_is_named_through_it(device):
    m = mc.SourceModule("namespace physics { namespace v2 {\n"
                        "__global__ void step(int* y) { y[threadIdx.x] = 5; }\n} }\n"
                        "namespace { __global__ void hidden(int* y) { y[0] = 6; } }",
                        device=device)
    assert sorted(m.kernel_names) == ["hidden", "physics::v2::step"]
    y = mc.zeros(4, np.int32, device=device)
    m.get_function("physics::v2::step")(y, grid=(1,), block=(4,))
    assert (y.get() == 5).all()


def test_a_kernel_that_returns_a_value_is_a_compile_error():
    with pytest.raises(mc.CompileError, match="kernels return void"):
        mc.SourceModule("__global__ int k(int* y) { return y[0]; }", device="cpu")


# ---- Item 10: messages in the user's terms ----------------------------------------------------


def test_a_source_that_is_not_utf8_text_says_where():
    with pytest.raises(ValueError, match="line 2, column 4"):
        mc.SourceModule("__global__ void k() {}\n// \udcff\n", device="cpu")


def test_a_source_given_as_bytes_says_to_decode_it():
    with pytest.raises(TypeError, match=r"decode it first"):
        mc.SourceModule(b"__global__ void k() {}", device="cpu")


def test_get_function_of_none_says_a_name_is_expected(device):
    m = mc.SourceModule("__global__ void k(int* y) {}", device=device)
    with pytest.raises(TypeError, match="name must be a str.*kernels here: 'k'"):
        m.get_function(None)


def test_writing_a_read_only_array_names_the_users_operation():
    x = np.zeros(16, np.float32)
    x.flags.writeable = False
    a = mc.asarray(x)
    with pytest.raises(ValueError, match=r"^fill: the array it writes into is read-only"):
        a.fill(1)
    with pytest.raises(ValueError) as e:
        a += 1
    assert "read-only" in str(e.value) and "mc_k_" not in str(e.value)


def test_trap_reports_the_users_line():
    m = mc.SourceModule("__global__ void k(int* y) {\n"
                        "    if (threadIdx.x == 3)\n        __trap();\n}", device="cpu")
    y = np.zeros(4, np.int32)
    with pytest.raises(mc.KernelFault, match=r"thread \(3,0,0\).*kernel.cu:3"):
        m.get_function("k")(y, grid=(1,), block=(32,))


def test_numpy_integers_are_accepted_as_launch_dimensions(device):
    m = mc.SourceModule("__global__ void k(int* y) { y[blockIdx.x * blockDim.x + threadIdx.x] = 1; }",
                        device=device)
    y = mc.zeros(64, np.int32, device=device)
    m.get_function("k")(y, grid=np.int64(2), block=(np.int32(32),), shared=np.uint16(0))
    assert int(y.get().sum()) == 64
    with pytest.raises(TypeError):
        m.get_function("k")(y, grid=True, block=(32,))


def test_a_read_only_cache_folder_says_why_it_is_not_usable(tmp_path):
    cache = tmp_path / "cache"
    version = cache / f"v{mc.__version__}"
    version.mkdir(parents=True, mode=0o700)
    cache.chmod(0o700)
    version.chmod(0o500)
    done = subprocess.run([sys.executable, "-m", "manycore", "cache", "info"],
                          env=dict(os.environ, MANYCORE_CACHE_DIR=str(cache)),
                          capture_output=True, text=True, timeout=120)
    version.chmod(0o700)
    assert done.returncode == 0, done.stderr
    assert "usable" in done.stdout and "no" in done.stdout.split("usable", 1)[1].splitlines()[0]
    assert "read-only for you" in done.stdout and "chmod u+w" in done.stdout


def test_a_module_file_rewritten_in_place_while_loaded_does_not_crash(tmp_path):
    done = run_python('''
    import os, stat, numpy as np, manycore as mc
    src = "__global__ void k(float* y) { y[threadIdx.x] = 2 * threadIdx.x; }"
    m = mc.SourceModule(src, device="cpu")
    path = m.cache_path
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:  # in place: the same inode, new bytes
        f.write(b"\\xcc" * size)
    y = np.zeros(32, np.float32)
    m.get_function("k")(y, grid=(1,), block=(32,))
    print("result ok" if (y == 2 * np.arange(32)).all() else "result wrong")
    ''', env={"MANYCORE_CACHE_DIR": str(tmp_path / "cache")})
    assert "result ok" in done.stdout, done.stdout + done.stderr


# ---- Item 11: checked-mode diagnostics --------------------------------------------------------


def checked_findings(source: str, block: int = 64) -> list:
    m = mc.SourceModule(source, device="cpu", checked=True)
    y = np.zeros(block, np.int32)
    try:
        m.get_function("k")(y, grid=(1,), block=(block,))
    except mc.KernelFault as e:
        return list(e.findings)
    return []


def test_two_divergent_barriers_on_one_line_are_barrier_divergence():
    found = checked_findings("""__global__ void k(int* y) { __shared__ int s[64];
        s[threadIdx.x] = 1;
        if (threadIdx.x < 16) __syncthreads(); else __syncthreads();
        y[threadIdx.x] = s[63 - threadIdx.x]; }""")
    assert [f.kind for f in found] == ["barrier-divergence"]
    assert "line 3 (column" in found[0].message


def test_threads_that_return_before_a_barrier_others_wait_at_are_barrier_divergence():
    found = checked_findings("""__global__ void k(int* y) { __shared__ int s[64];
        s[threadIdx.x] = 1;
        if (threadIdx.x >= 16) return;
        __syncthreads();
        y[threadIdx.x] = s[15 - threadIdx.x]; }""")
    assert [f.kind for f in found] == ["barrier-divergence"]
    assert "returned without it" in found[0].message and found[0].line == 4


def test_a_read_before_another_threads_write_is_a_race_not_an_uninitialized_read():
    found = checked_findings("""__global__ void k(int* y) { __shared__ int s[64];
        int v = s[(threadIdx.x + 1) % 64];
        s[threadIdx.x] = threadIdx.x;
        __syncthreads();
        y[threadIdx.x] = v; }""")
    assert found and {f.kind for f in found} == {"race"}
    assert any(f.line == 2 and f.other_line == 3 for f in found)


def test_a_read_no_thread_writes_is_still_an_uninitialized_read():
    found = checked_findings("""__global__ void k(int* y) { __shared__ int s[64];
        if (threadIdx.x < 32) s[threadIdx.x] = 1;
        __syncthreads();
        y[threadIdx.x] = s[threadIdx.x]; }""")
    assert [f.kind for f in found] == ["uninitialized-read"]


# ---- Item 12: remedies that do not mislead ----------------------------------------------------

REDUCE = """__global__ void total(int* out, const int* a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, a[i]);
}"""


def test_the_type_error_leads_with_the_remedy_that_keeps_the_values(device):
    f = mc.SourceModule(REDUCE, device=device).get_function("total")
    out = mc.zeros(1, np.uint32, device=device)
    a = mc.to_device(np.ones(10, np.int32), device=device)
    with pytest.raises(TypeError) as e:
        f(out, a, np.int32(10), grid=(1,), block=(32,))
    text = str(e.value)
    assert text.index("declare the parameter 'unsigned int*'") < text.index("astype")
    assert "not in the call" in text and "overflow" in text


def test_a_temporary_array_for_a_non_const_pointer_is_a_launch_warning(device):
    f = mc.SourceModule(REDUCE, device=device).get_function("total")
    a = mc.to_device(np.ones(10, np.int32), device=device)
    out = mc.zeros(1, np.uint32, device=device)
    with pytest.warns(mc.LaunchWarning, match="temporary array") as caught:
        f(out.astype(np.int32), a, np.int32(10), grid=(1,), block=(32,))
    assert [w.message.kind for w in caught] == ["temporary-array"]
    host = np.zeros(1, np.int32)
    if device.kind == "cpu":  # a NumPy temporary too, where kernels take NumPy arrays
        with pytest.warns(mc.LaunchWarning, match="temporary array"):
            f(host.astype(np.int32), a, np.int32(10), grid=(1,), block=(32,))
    # A named array, a view of one, and a temporary for a const pointer: no warning.
    named = out.astype(np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(named, a, np.int32(10), grid=(1,), block=(32,))
        f(named[0:1], a.astype(np.int32), np.int32(10), grid=(1,), block=(32,))
    assert int(named.get()[0]) == 20


# ---- Item 13: manycore check never says "no findings" for what it did not check ---------------


def manycore_check(script: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manycore", "check", str(script)],
                          capture_output=True, text=True, timeout=300)


def test_check_of_a_script_that_fails_before_any_launch_says_nothing_was_checked(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import no_such_module_here\n")
    done = manycore_check(script)
    assert "nothing was checked" in done.stdout and "no findings" not in done.stdout
    assert "exited with status 1" in done.stdout


def test_check_says_how_many_launches_it_checked(tmp_path):
    script = tmp_path / "clean.py"
    script.write_text(PLANTED.replace("x[i + 1]", "x[i]") + "f(x, np.int32(64), grid=(1,), block=(64,))\n")
    done = manycore_check(script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "manycore check: no findings in 2 checked launches" in done.stdout


def test_collected_launch_counts_are_summed_over_processes(tmp_path):
    collect = tmp_path / "findings.jsonl"
    collect.write_text("\n".join(json.dumps(r) for r in [
        {"checked_launches": 1, "pid": 10}, {"checked_launches": 7, "pid": 10},
        {"checked_launches": 1, "pid": 11}]) + "\n")
    assert checking.checked_launches(collect) == 8
    assert checking.read_collected(collect) == ([], [])
    assert checking.summary_line([], 0).startswith("manycore check: nothing was checked")

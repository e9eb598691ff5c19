# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""A kernel that faults or hangs on the CPU: an exception, never a dead or stuck interpreter.

Every case whose old behaviour was a crash or a hang runs in a child process with a timeout,
so a regression fails its test instead of ending the test run. The child prints one JSON line
of what it saw; the parent checks it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import manycore as mc

# Common to the children: a correct kernel to launch after a fault, and its check.
PRELUDE = r'''
import json, os, signal, sys, threading, time
import numpy as np
import manycore as mc

OK = mc.SourceModule(r"""
__global__ void twice(float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * i;
}""", device="cpu").get_function("twice")

def still_works():
    y = np.zeros(5000, np.float32)
    OK(y, np.int32(5000), grid=(40,), block=(128,))
    return bool((y == 2 * np.arange(5000, dtype=np.float32)).all())

def fault_of(call):
    try:
        call()
    except mc.KernelFault as e:
        return str(e)
    except BaseException as e:
        return f"{type(e).__name__}: {e}"
    return None

def report(**what):
    print("RESULT " + json.dumps(what), flush=True)
'''


def child(code: str, env: dict | None = None, timeout: float = 120, setup: str = "") -> dict:
    """Runs PRELUDE, setup and code in a fresh interpreter; returns its RESULT line (and its
    status)."""
    environment = dict(os.environ)
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-c", PRELUDE + setup + textwrap.dedent(code)],
                          env=environment, capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["returncode"] = done.returncode
            result["stderr"] = done.stderr
            return result
    raise AssertionError(f"the child died (status {done.returncode}) before reporting:\n"
                         f"{done.stdout}\n{done.stderr}")


FAULTS = r'''
__global__ void null_write(float* y) {
    float* p = nullptr;
    p[threadIdx.x] = 1.0f;
}
__global__ void far_write(float* y, long long far) {
    y[far + threadIdx.x] = 1.0f;
}
__global__ void divide(int* y, int d) {
    y[threadIdx.x] = 100 / d;
}
__device__ int deep(int n) {
    volatile int frame[64];
    frame[n & 63] = n;
    return n == 0 ? 0 : deep(n - 1) + frame[(n * 7) & 63];
}
__global__ void recurse(int* y, int n) {
    __syncthreads();
    y[threadIdx.x] = deep(n);
}
'''


def faults_module(checked: bool = False) -> str:
    return f'M = mc.SourceModule(r"""{FAULTS}""", device="cpu", checked={checked})\n'


# `recurse` synchronises: under loop fission its threads would run on the pool's threads'
# stacks, not on fibers' (whose overflow these tests are about).
FIBERS = {"MANYCORE_CPU_SCHEME": "fibers"}


def fault_case(call: str, env: dict | None = None) -> str:
    """The KernelFault message of launching `call` (an expression over FAULTS' module M) in a
    child, which must then still run a correct kernel."""
    r = child(setup=faults_module(), code=f"""
    f = fault_of(lambda: {call})
    report(fault=f, works=still_works())
    """, env=env)
    assert r["returncode"] == 0 and r["works"], r["stderr"]
    assert r["fault"] is not None
    return r["fault"]


def test_null_write_is_a_kernel_fault_naming_the_address_and_the_remedy():
    fault = fault_case(
        'M.get_function("null_write")(np.zeros(64, np.float32), grid=(1,), block=(64,))')
    assert "kernel 'null_write'" in fault and "illegal address 0x0" in fault
    assert "null pointer" in fault and "rerun with checked=True" in fault
    assert "block (0,0,0)" in fault
    assert "memory may be corrupt" in fault and "restart the process" in fault


def test_far_out_of_bounds_write_is_a_kernel_fault():
    fault = fault_case(
        'M.get_function("far_write")(np.zeros(64, np.float32), np.int64(1 << 40), grid=(1,), block=(32,))')
    assert "kernel 'far_write'" in fault and "illegal address 0x" in fault
    assert "a write" in fault and "index far outside an array" in fault


def test_integer_division_by_zero_is_a_kernel_fault():
    fault = fault_case(
        'M.get_function("divide")(np.zeros(64, np.int32), np.int32(0), grid=(1,), block=(64,))')
    assert "kernel 'divide'" in fault and "integer division by zero" in fault


def test_division_by_zero_in_checked_mode_is_a_finding():
    r = child(setup=faults_module(checked=True), code='''
    try:
        M.get_function("divide")(np.zeros(64, np.int32), np.int32(0), grid=(2,), block=(64,))
        kinds = []
    except mc.KernelFault as e:
        kinds = [(f.kind, f.block, f.message) for f in e.findings]
    report(kinds=kinds, works=still_works())
    ''')
    assert r["returncode"] == 0, r["stderr"]
    assert r["kinds"] and r["kinds"][0][0] == "arithmetic"
    assert "integer division by zero" in r["kinds"][0][2]
    assert r["works"]


def test_fiber_stack_overflow_names_the_stack_size_and_the_setting():
    fault = fault_case(
        'M.get_function("recurse")(np.zeros(32, np.int32), np.int32(300), grid=(1,), block=(32,))',
        env=FIBERS)
    assert "stack overflow" in fault and "65536 bytes" in fault
    assert "MANYCORE_FIBER_STACK_BYTES" in fault and "thread (" in fault


def test_a_larger_fiber_stack_lets_the_same_recursion_run():
    r = child(setup=faults_module(), code='''
    y = np.zeros(32, np.int32)
    f = fault_of(lambda: M.get_function("recurse")(y, np.int32(300), grid=(1,), block=(32,)))
    report(fault=f)
    ''', env={**FIBERS, "MANYCORE_FIBER_STACK_BYTES": str(1 << 20)})
    assert r["returncode"] == 0, r["stderr"]
    assert r["fault"] is None


def test_printf_format_mismatch_is_a_compile_error_at_the_users_line():
    with pytest.raises(mc.CompileError) as e:
        mc.SourceModule('__global__ void k(int* y) {\n    printf("%s\\n", y[0]);\n}',
                        device="cpu")
    assert "kernel.cu:2" in str(e.value) and "format" in str(e.value)


def test_fault_on_a_pool_thread_leaves_the_pool_usable():
    # Many blocks, one of them faulting: the fault may come on any of the pool's threads.
    r = child('''
    M = mc.SourceModule(r"""
    __global__ void one_bad(float* y, int bad) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        float* p = blockIdx.x == bad ? nullptr : y;
        p[i] = 1.0f;
    }""", device="cpu")
    faults = []
    for bad in (3, 200, 1023):
        y = np.zeros(1024 * 64, np.float32)
        faults.append(fault_of(lambda: M.get_function("one_bad")(y, np.int32(bad),
                                                                  grid=(1024,), block=(64,))))
    report(faults=faults, works=still_works())
    ''')
    assert r["returncode"] == 0, r["stderr"]
    assert all(f is not None and "kernel 'one_bad'" in f for f in r["faults"])
    assert r["works"]


def test_fault_survival_each_faulting_kernel_then_a_correct_one():
    r = child(setup=faults_module(), code='''
    y = np.zeros(64, np.float32)
    i32 = np.zeros(64, np.int32)
    cases = [
        lambda: M.get_function("null_write")(y, grid=(2,), block=(32,)),
        lambda: M.get_function("far_write")(y, np.int64(1 << 40), grid=(1,), block=(32,)),
        lambda: M.get_function("divide")(i32, np.int32(0), grid=(4,), block=(16,)),
        lambda: M.get_function("recurse")(i32, np.int32(300), grid=(1,), block=(32,)),
    ]
    seen = []
    for case in cases * 2:  # twice: the second round finds the handlers as the first left them
        seen.append([fault_of(case) is not None, still_works()])
    report(seen=seen)
    ''', env=FIBERS)
    assert r["returncode"] == 0, r["stderr"]
    assert r["seen"] == [[True, True]] * 8


def test_faults_outside_kernels_keep_the_default_behaviour():
    # After manycore's handlers are in place, a fault in ordinary code still ends the process
    # with SIGSEGV, and Python's faulthandler (installed first) still reports it.
    code = PRELUDE + textwrap.dedent('''
    still_works()
    import ctypes
    ctypes.string_at(0)
    ''')
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in done.stderr


def test_a_kill_signal_from_outside_is_not_taken_for_a_fault():
    # SIGSEGV sent by kill() while a kernel runs is not the kernel's fault: default action.
    code = PRELUDE + textwrap.dedent('''
    M = mc.SourceModule(r"""
    __global__ void spin(int* flag) { volatile int* f = flag; while (f[0] == 0) { } }
    """, device="cpu")
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGSEGV)).start()
    M.get_function("spin")(np.zeros(1, np.int32), grid=(1,), block=(1,))
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -signal.SIGSEGV


# ---- Item 2: manycore's own arrays end at a guard page -------------------------------------


def test_write_past_the_end_of_a_manycore_array_faults_at_once():
    r = child('''
    M = mc.SourceModule(r"""
    __global__ void fill(float* y, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) y[i] = 1.0f;
    }""", device="cpu")
    y = mc.zeros(1024, np.float32, device="cpu")  # one page
    f = fault_of(lambda: M.get_function("fill")(y, np.int32(1100), grid=(9,), block=(128,),
                                                lint=False))
    report(fault=f, works=still_works())
    ''')
    assert r["returncode"] == 0, r["stderr"]
    assert "0 bytes past the end of an array of 4096 bytes" in r["fault"]
    assert r["works"]


@pytest.mark.parametrize("count", [1024, 1025, 3000, 70000])
def test_manycore_arrays_of_a_page_or_more_end_at_their_guard_page(count):
    a = mc.zeros(count, np.float32, device="cpu")
    end = a.__array_interface__["data"][0] + a.nbytes
    assert end % os.sysconf("SC_PAGE_SIZE") == 0
    assert a.__array_interface__["data"][0] % 4 == 0
    b = mc.zeros(count, np.float64, device="cpu")
    assert b.__array_interface__["data"][0] % 8 == 0
    np.asarray(a)[:] = 1  # the array's own bytes are all usable
    assert float(np.asarray(a).sum()) == count


def test_a_bound_larger_than_the_array_it_guards_is_a_launch_warning():
    m = mc.SourceModule("""
    __global__ void put(int n, float* y) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) y[i] = i;
    }""", device="cpu")
    f = m.get_function("put")
    y = np.zeros(10, np.float32)
    lints = f.lints(100000, y, grid=(391,), block=(256,))
    assert [w.kind for w in lints] == ["past-end"]
    assert "'y' has only 10 elements" in str(lints[0]) and "n = 100000" in str(lints[0])
    assert f.lints(10, y, grid=(1,), block=(256,)) == []


# ---- Item 3: Ctrl-C stops a running launch ---------------------------------------------------

SPIN = r'''
S = mc.SourceModule(r"""
__global__ void forever(int* flag) {
    volatile int* f = flag;
    while (f[0] == 0) { }
}
__global__ void wait_for_next(int* out) {
    __shared__ volatile int ready;
    if (threadIdx.x == 0) { while (ready == 0) { } }
    if (threadIdx.x == 1) ready = 1;
    __syncthreads();
    out[threadIdx.x] = ready;
}
__global__ void slow(float* y, long long steps) {
    float v = 0;
    for (long long k = 0; k < steps; ++k) v = v * 0.5f + 1.0f;
    y[blockIdx.x] = v;
}""", device="cpu", checked=CHECKED)

def interrupted(call, after=0.5):
    threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    try:
        call()
        outcome = "returned"
    except KeyboardInterrupt as e:
        outcome = "KeyboardInterrupt: " + str(e)
    except BaseException as e:
        outcome = f"{type(e).__name__}: {e}"
    return outcome, time.monotonic() - start - after

def pool_threads():
    names = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as f:
            names.append(f.read().strip())
    return sum(n.startswith("manycore-") for n in names)
'''


def spin_child(code: str, checked: bool = False, env: dict | None = None) -> dict:
    return child(code, env=env, timeout=120, setup=SPIN.replace("CHECKED", str(checked)))


def test_ctrl_c_stops_an_infinite_loop_kernel():
    r = spin_child('''
    still_works()
    before = pool_threads()
    outcome, late = interrupted(lambda: S.get_function("forever")(np.zeros(1, np.int32),
                                                                  grid=(64,), block=(32,)))
    report(outcome=outcome, late=late, works=still_works(), before=before, after=pool_threads())
    ''')
    assert r["returncode"] == 0, r["stderr"]
    assert r["outcome"].startswith("KeyboardInterrupt: kernel 'forever' was interrupted")
    assert "inconsistent" in r["outcome"]
    assert r["late"] < 1.5
    assert r["works"] and r["after"] == r["before"]  # the pool kept every thread


def test_ctrl_c_stops_a_single_block_on_the_calling_thread():
    r = spin_child('''
    outcome, late = interrupted(lambda: S.get_function("forever")(np.zeros(1, np.int32),
                                                                  grid=(1,), block=(1,)))
    report(outcome=outcome, late=late, works=still_works())
    ''')
    assert r["outcome"].startswith("KeyboardInterrupt") and r["late"] < 1.5 and r["works"]


def test_ctrl_c_stops_handing_out_blocks():
    # 400 blocks of ~20 ms: without the interrupt the launch takes seconds.
    r = spin_child('''
    y = np.zeros(400, np.float32)
    S.get_function("slow")(y, np.int64(1000), grid=(4,), block=(1,))  # compiled and warm
    t = time.monotonic(); S.get_function("slow")(y, np.int64(2_000_000), grid=(4,), block=(1,))
    per_block = (time.monotonic() - t) / 2
    outcome, late = interrupted(lambda: S.get_function("slow")(y, np.int64(2_000_000),
                                                               grid=(400,), block=(1,)), 0.3)
    report(outcome=outcome, late=late, per_block=per_block, works=still_works())
    ''')
    assert r["outcome"].startswith("KeyboardInterrupt: kernel 'slow' was interrupted")
    assert "blocks not run" in r["outcome"]
    assert r["late"] < 1.0 and r["works"]


def test_ctrl_c_stops_a_spin_wait_on_another_thread_of_the_block():
    r = spin_child('''
    outcome, late = interrupted(lambda: S.get_function("wait_for_next")(
        np.zeros(32, np.int32), grid=(1,), block=(32,)))
    report(outcome=outcome, late=late, works=still_works())
    ''')
    assert r["outcome"].startswith("KeyboardInterrupt") and r["late"] < 1.5 and r["works"]


def test_checked_mode_reports_a_likely_inter_thread_spin_wait(tmp_path):
    r = spin_child('''
    outcome, late = interrupted(lambda: S.get_function("wait_for_next")(
        np.zeros(32, np.int32), grid=(1,), block=(32,)))
    report(outcome=outcome, works=still_works())
    ''', checked=True)
    assert r["outcome"].startswith("KeyboardInterrupt") and "spin-wait" in r["outcome"]
    assert "block (0,0,0)" in r["outcome"] and r["works"]
    collect = tmp_path / "findings.jsonl"
    r = spin_child('''
    outcome, late = interrupted(lambda: S.get_function("wait_for_next")(
        np.zeros(32, np.int32), grid=(1,), block=(32,)))
    report(outcome=outcome)
    ''', checked=True, env={"MANYCORE_CHECK_COLLECT": str(collect)})
    assert r["outcome"].startswith("KeyboardInterrupt")
    kinds = [json.loads(line).get("kind") for line in collect.read_text().splitlines()]
    assert "spin-wait" in kinds


def test_ctrl_c_during_a_compile_kills_the_compiler(tmp_path):
    pids = tmp_path / "pids"
    hanging = tmp_path / "hanging-cxx"
    hanging.write_text(f"#!/bin/sh\necho $$ >> {pids}\nexec sleep 300\n")
    hanging.chmod(0o755)
    code = textwrap.dedent('''
    import json, os, signal, threading, time
    import manycore as mc
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.monotonic()
    try:
        mc.SourceModule("__global__ void k(int* y) { y[0] = 1; }", device="cpu",
                        options=["-O1"])
        outcome = "compiled"
    except KeyboardInterrupt as e:
        outcome = "KeyboardInterrupt: " + str(e)
    except BaseException as e:
        outcome = f"{type(e).__name__}: {e}"
    print("RESULT " + json.dumps(dict(outcome=outcome, took=time.monotonic() - start)))
    ''')
    environment = dict(os.environ, CXX=str(hanging), MANYCORE_CACHE="0")
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, timeout=120)
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, done.stdout + done.stderr
    r = json.loads(line[0][len("RESULT "):])
    # `--version` may be what was running: either way the compile ends as an interrupt.
    assert r["outcome"].startswith("KeyboardInterrupt:") and "interrupted" in r["outcome"]
    assert r["took"] < 5
    time.sleep(0.2)
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)

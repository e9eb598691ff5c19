# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""A CUDA driver error reaches Python as mc.CudaError with the driver's code and name: shown
with a stand-in libcuda (built here) that has one device whose name cannot be read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import manycore as mc

STAND_IN = r'''
#include <cstring>
static int ok() { return 0; }
static int init(unsigned) { return 0; }
static int count(int* n) { *n = 1; return 0; }
static int get(int* d, int) { *d = 0; return 0; }
static int name(char*, int, int) { return 101; }  // CUDA_ERROR_INVALID_DEVICE
static int error_name(int, const char** s) { *s = "CUDA_ERROR_INVALID_DEVICE"; return 0; }
static int error_text(int, const char** s) { *s = "invalid device ordinal"; return 0; }
extern "C" int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
extern "C" int cuGetProcAddress_v2(const char* n, void** f, int, unsigned long long, int* st) {
    struct { const char* name; void* fn; } table[] = {
        {"cuInit", (void*)&init}, {"cuDeviceGetCount", (void*)&count},
        {"cuDeviceGet", (void*)&get}, {"cuDeviceGetName", (void*)&name},
        {"cuGetErrorName", (void*)&error_name}, {"cuGetErrorString", (void*)&error_text},
        {"cuCtxGetCurrent", (void*)&ok}};
    *f = nullptr;
    for (auto& e : table) if (!std::strcmp(n, e.name)) *f = e.fn;
    *st = *f ? 0 : 1;
    return *f ? 0 : 500;
}
'''

PROBE = '''
import manycore as mc
try:
    mc.Device("cuda:0").name
    print("no error")
except mc.CudaError as e:
    print("CudaError", e.code, e.name, isinstance(e, RuntimeError), "|", e)
'''


def test_the_python_class_is_an_error_and_a_runtime_error():
    assert issubclass(mc.CudaError, mc.Error) and issubclass(mc.CudaError, RuntimeError)
    assert mc.errors.CudaError is mc.CudaError


def test_a_driver_error_is_a_cuda_error_with_its_code_and_name(tmp_path):
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        pytest.skip("no host compiler to build a stand-in libcuda")
    source = tmp_path / "libcuda.cpp"
    source.write_text(textwrap.dedent(STAND_IN))
    library = tmp_path / "libcuda.so.1"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    env = dict(os.environ, MANYCORE_CUDA_DRIVER_PATH=str(library))
    env.pop("MANYCORE_DEVICE", None)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.strip()
    assert out.startswith("CudaError 101 CUDA_ERROR_INVALID_DEVICE True |"), out + done.stderr
    assert "cuDeviceGetName" in out and "invalid device ordinal" in out, out

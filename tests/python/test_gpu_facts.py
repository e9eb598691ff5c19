# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What GPUs are made of: MANYCORE_EMULATED_ARCH, mc.cuda.arch_limits, Function.resource_usage()."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import manycore as mc

SOURCE = r"""
__constant__ float table[256];
extern "C" __global__ void plain(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= 2.0f;
}
extern "C" __global__ void with_shared(float* x) {
    __shared__ float s[300];
    s[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    x[threadIdx.x] = s[(threadIdx.x + 1) % 300];
}
extern "C" __global__ void with_local(float* x, int k) {
    float a[100];
    for (int i = 0; i < 100; i++) a[i] = x[i] * i;
    x[threadIdx.x] = a[k];
}
extern "C" __global__ void with_constant(float* x) { x[threadIdx.x] = table[threadIdx.x]; }
extern "C" __global__ void __launch_bounds__(128) bounded(float* x) { x[threadIdx.x] = 1; }
"""
KERNELS = ["plain", "with_shared", "with_local", "with_constant", "bounded"]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


def resources(device: mc.Device) -> dict[str, mc.KernelResources]:
    module = mc.SourceModule(SOURCE, device=device)
    return {k: module.get_function(k).resource_usage() for k in KERNELS}


def need_numbers(r: mc.KernelResources) -> None:
    if r.registers is None and r.reason and "no NVRTC" in r.reason:
        pytest.skip(r.reason)


# --- MANYCORE_EMULATED_ARCH

def test_emulated_arch_defaults_to_sm_90():
    if "MANYCORE_EMULATED_ARCH" in os.environ:
        pytest.skip("MANYCORE_EMULATED_ARCH is set in this environment")
    assert mc.emulated_arch() == "sm_90"


def test_emulated_arch_from_the_environment():
    out = run_python("import manycore as mc; print(mc.emulated_arch())", MANYCORE_EMULATED_ARCH="sm_86")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "sm_86"


@pytest.mark.parametrize("value", ["sm_91", "90", "sm90", "compute_90", "sm_9x", "hopper"])
def test_a_bad_emulated_arch_is_an_invalid_argument(value):
    out = run_python("""
        import manycore as mc
        try:
            mc.emulated_arch()
        except mc.InvalidArgument as e:
            print("InvalidArgument:", e)
    """, MANYCORE_EMULATED_ARCH=value)
    assert out.returncode == 0, out.stderr
    message = out.stdout
    assert message.startswith("InvalidArgument:"), message
    assert "MANYCORE_EMULATED_ARCH" in message and repr(value) in message
    assert "sm_50" in message and "sm_121" in message and "sm_90" in message


# --- mc.cuda.arch_limits

def test_arch_limits_has_every_architecture_from_sm_50():
    archs = mc.cuda.known_architectures()
    for a in ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120"]:
        assert a in archs
    for a in archs:
        limits = mc.cuda.arch_limits(a)
        assert dataclasses.is_dataclass(limits) and limits.arch == a
        assert limits.max_threads_per_sm == 32 * limits.max_warps_per_sm
        assert limits.warp_size == 32 and limits.max_threads_per_block == 1024
        assert limits.register_allocation_granularity == "warp"


def test_arch_limits_published_values():
    h100 = mc.cuda.arch_limits("sm_90")
    assert (h100.max_threads_per_sm, h100.max_blocks_per_sm, h100.registers_per_sm) == (2048, 32, 65536)
    assert (h100.shared_per_sm, h100.max_shared_per_block, h100.max_shared_per_block_optin) == (
        233472, 49152, 232448)
    assert (h100.shared_allocation_unit, h100.reserved_shared_per_block) == (128, 1024)
    a100 = mc.cuda.arch_limits(80)
    assert (a100.shared_per_sm, a100.max_shared_per_block_optin) == (167936, 166912)
    ada = mc.cuda.arch_limits("8.9")
    assert (ada.max_warps_per_sm, ada.max_blocks_per_sm) == (48, 24)
    turing = mc.cuda.arch_limits("sm_75")
    assert (turing.max_threads_per_sm, turing.max_blocks_per_sm, turing.reserved_shared_per_block) == (1024, 16, 0)
    assert mc.cuda.arch_limits("sm_52").shared_allocation_unit == 256


def test_arch_limits_is_frozen_and_refuses_unknown_architectures():
    limits = mc.cuda.arch_limits("sm_90")
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.warp_size = 64
    with pytest.raises(mc.InvalidArgument, match="sm_90"):
        mc.cuda.arch_limits("sm_91")
    with pytest.raises(ValueError):
        mc.cuda.arch_limits("volta")


# --- Function.resource_usage()

def test_resource_usage_on_every_device(device):
    found = resources(device)
    for r in found.values():
        assert isinstance(r, mc.KernelResources)
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.registers = 1
    need_numbers(found["plain"])
    for name, r in found.items():
        assert r.reason is None, (name, r.reason)
        assert 0 < r.registers <= 255
        assert 0 < r.max_threads_per_block <= 1024
    assert found["plain"].shared_bytes == 0 and found["plain"].local_bytes == 0
    assert found["with_shared"].shared_bytes == 300 * 4
    assert found["with_local"].local_bytes >= 400
    assert found["with_constant"].const_bytes == 256 * 4
    assert found["bounded"].max_threads_per_block == 128
    if device.kind == "cpu":
        assert {r.source for r in found.values()} == {"nvrtc"}
        assert {r.arch for r in found.values()} == {mc.emulated_arch()}
    else:
        major, minor = device.compute_capability
        assert {r.source for r in found.values()} == {"driver"}
        assert {r.arch for r in found.values()} == {f"sm_{major}{minor}"}


def test_resource_usage_is_worked_out_once_per_module(cpu):
    f = mc.SourceModule(SOURCE, device=cpu).get_function("plain")
    first = f.resource_usage()
    need_numbers(first)
    again = mc.SourceModule(SOURCE, device=cpu).get_function("plain").resource_usage()
    assert again == first


@pytest.mark.skipif(shutil.which("nvcc") is None and not os.path.exists("/usr/local/cuda/bin/nvcc"),
                    reason="no nvcc here to cross-check the cubin reader with ptxas's own report")
def test_resource_usage_agrees_with_ptxas(cpu, tmp_path):
    """The cubin reader against ptxas's report of the same kernels for the same architecture."""
    found = resources(cpu)
    need_numbers(found["plain"])
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    arch = mc.emulated_arch()
    source = tmp_path / "kernels.cu"
    source.write_text(SOURCE)
    report = subprocess.run([nvcc, f"-arch={arch}", "-std=c++20", "--resource-usage", "-cubin", "-o",
                             str(tmp_path / "k.cubin"), str(source)], capture_output=True, text=True,
                            timeout=300)
    if report.returncode != 0:
        pytest.skip(f"nvcc cannot compile for {arch} here: {report.stderr[-300:]}")
    text = report.stdout + report.stderr
    for name in KERNELS:
        block = text.split(f"Function properties for {name}\n", 1)[1].split("Compile time", 1)[0]
        registers = int(re.search(r"Used (\d+) registers", block).group(1))
        stack = int(re.search(r"(\d+) bytes stack frame", block).group(1))
        smem = re.search(r"(\d+) bytes smem", block)
        assert found[name].registers == registers, name
        assert found[name].local_bytes == stack, name
        assert found[name].shared_bytes == (int(smem.group(1)) if smem else 0), name


def test_resource_usage_for_an_architecture_nvrtc_does_not_know():
    out = run_python("""
        import manycore as mc
        f = mc.SourceModule("__global__ void k(float* x) { x[0] = 1; }", device="cpu").get_function("k")
        print(repr(f.resource_usage()))
    """, MANYCORE_EMULATED_ARCH="sm_50")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "arch='sm_50'" in text and "source='nvrtc'" in text
    if "registers=None" not in text:
        pytest.skip("this NVRTC still compiles for sm_50")
    assert "does not compile for sm_50" in text or "no NVRTC" in text


def test_resource_usage_of_a_kernel_that_does_not_compile_for_the_architecture(cpu):
    source = """
    #if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 500
    #error this kernel is for the CPU only
    #endif
    __global__ void cpu_only(float* x) { x[0] = 1; }
    """
    r = mc.SourceModule(source, device=cpu).get_function("cpu_only").resource_usage()
    need_numbers(r)
    assert r.registers is None and r.shared_bytes is None and r.max_threads_per_block is None
    assert "does not compile for" in r.reason and "this kernel is for the CPU only" in r.reason


# --- on a GPU: the device agrees with the table, the driver with NVRTC's numbers

# CUdevice_attribute numbers and the ArchLimits field each must equal.
DEVICE_ATTRIBUTES = {
    1: "max_threads_per_block",
    10: "warp_size",
    12: "max_registers_per_block",
    39: "max_threads_per_sm",
    82: "registers_per_sm",
    81: "shared_per_sm",
    97: "max_shared_per_block_optin",
    106: "max_blocks_per_sm",
    111: "reserved_shared_per_block",
    8: "max_shared_per_block",
}


def test_device_attributes_agree_with_arch_limits(device):
    if device.kind == "cpu":
        with pytest.raises(mc.DeviceUnavailable):
            mc._core.device_attribute(device, 1)
        return
    major, minor = device.compute_capability
    limits = mc.cuda.arch_limits(f"sm_{major}{minor}")
    for attribute, field in DEVICE_ATTRIBUTES.items():
        assert mc._core.device_attribute(device, attribute) == getattr(limits, field), field


def test_driver_and_nvrtc_agree(device):
    if device.kind == "cpu":
        pytest.skip("compares a GPU's driver with NVRTC's numbers for its architecture")
    major, minor = device.compute_capability
    driver = {k: dataclasses.asdict(r) for k, r in resources(device).items()}
    out = run_python(f"""
        import dataclasses, json, manycore as mc
        m = mc.SourceModule({SOURCE!r}, device="cpu")
        print(json.dumps({{k: dataclasses.asdict(m.get_function(k).resource_usage()) for k in {KERNELS!r}}}))
    """, MANYCORE_EMULATED_ARCH=f"sm_{major}{minor}")
    assert out.returncode == 0, out.stderr
    nvrtc = json.loads(out.stdout)
    for name in KERNELS:
        for field in ["registers", "shared_bytes", "local_bytes", "const_bytes", "max_threads_per_block"]:
            assert nvrtc[name][field] == driver[name][field], (name, field, nvrtc[name], driver[name])

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""mc.occupancy and mc.suggest_block: active blocks and warps per multiprocessor, and what
limits them, worked out by hand from the architecture's table for each case."""

from __future__ import annotations

import pytest

import manycore as mc

SOURCE = r"""
__global__ void light(float* x) { x[threadIdx.x] += 1.0f; }
__global__ void staged(float* x) {
    extern __shared__ float s[];
    s[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    x[threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}
__global__ void heavy(const float* in, float* out, int n) {
    float r[48];
#pragma unroll
    for (int k = 0; k < 48; ++k) r[k] = in[k * n + threadIdx.x];
    float s = 0;
#pragma unroll
    for (int j = 0; j < 48; ++j)
#pragma unroll
        for (int k = 0; k < 48; ++k) s += r[k] * r[(k + j) % 48];
    out[threadIdx.x] = s;
}
"""


@pytest.fixture(scope="module")
def kernels() -> mc.SourceModule:
    return mc.SourceModule(SOURCE, device="cpu")


def limits():
    return mc.cuda.arch_limits(mc.emulated_arch())


def needs_registers(f: mc.Function) -> int:
    r = f.resource_usage()
    if r.registers is None:
        pytest.skip(f"no NVRTC to read the kernel's registers: {r.reason}")
    return r.registers


def test_small_blocks_are_limited_by_the_block_limit(kernels):
    f = kernels.get_function("light")
    registers = needs_registers(f)
    lim = limits()
    assert registers * 32 <= lim.registers_per_sm // lim.max_warps_per_sm * 32  # no register limit
    occ = mc.occupancy(f, 32)
    # One warp a block; at most max_blocks_per_sm blocks: 32 warps of 64 on sm_90.
    assert occ.active_blocks == lim.max_blocks_per_sm
    assert occ.active_warps == lim.max_blocks_per_sm
    assert occ.occupancy == lim.max_blocks_per_sm / lim.max_warps_per_sm
    assert occ.limiter == "blocks" and occ.source == "computed"
    assert occ.arch == mc.emulated_arch() and occ.registers == registers


def test_large_blocks_are_limited_by_the_warp_limit(kernels):
    f = kernels.get_function("light")
    needs_registers(f)
    lim = limits()
    occ = mc.occupancy(f, (32, 32))
    # 32 warps a block: max_warps_per_sm / 32 blocks, every warp slot used.
    assert occ.block == 1024 and occ.active_blocks == lim.max_warps_per_sm // 32
    assert occ.occupancy == 1.0 and occ.limiter == "warps"
    assert occ.limits["warps"] == lim.max_warps_per_sm // 32


def test_shared_memory_limits_blocks(kernels):
    f = kernels.get_function("staged")
    needs_registers(f)
    lim = limits()
    dynamic = 100 * 1024
    occ = mc.occupancy(f, 128, shared=dynamic)
    unit = lim.shared_allocation_unit
    per_block = -(-(dynamic + lim.reserved_shared_per_block) // unit) * unit
    expected = lim.shared_per_sm // per_block  # 2 on sm_90 (228 KiB)
    assert occ.shared_per_block == per_block
    assert occ.active_blocks == expected and occ.active_warps == 4 * expected
    assert occ.limiter == "shared memory"
    # More than a block may have at all: nothing runs.
    too_much = mc.occupancy(f, 128, shared=lim.max_shared_per_block_optin + 1)
    assert too_much.active_blocks == 0 and too_much.occupancy == 0.0


def test_registers_limit_blocks(kernels):
    f = kernels.get_function("heavy")
    registers = needs_registers(f)
    lim = limits()
    if registers <= 32:  # 32 or fewer fill the multiprocessor's 64 warps
        pytest.skip(f"NVRTC gave the kernel only {registers} registers")
    # Registers go to a warp in units of 256; each of the 4 sub-partitions holds a quarter
    # of the register file.
    per_warp = -(-registers * 32 // lim.register_allocation_unit) * lim.register_allocation_unit
    warps = (lim.registers_per_sm // lim.sub_partitions // per_warp) * lim.sub_partitions
    occ = mc.occupancy(f, 256)
    assert occ.active_blocks == warps // 8 and occ.limiter == "registers"
    assert occ.limits["registers"] == warps // 8


def test_suggest_block(kernels):
    light, heavy = kernels.get_function("light"), kernels.get_function("heavy")
    needs_registers(light)
    # Every multiple of 64 up to 1024 fills the multiprocessor; the largest is chosen.
    assert mc.suggest_block(light) == min(1024, light.resource_usage().max_threads_per_block)
    best = mc.suggest_block(heavy)
    assert best % 32 == 0
    assert mc.occupancy(heavy, best).active_warps == max(
        mc.occupancy(heavy, b).active_warps for b in range(32, best + 1, 32))
    staged = kernels.get_function("staged")
    # Shared memory growing with the block: 4 bytes a thread plus 32 KiB.
    b = mc.suggest_block(staged, shared=lambda threads: 4 * threads + 32 * 1024)
    assert mc.occupancy(staged, b, 4 * b + 32 * 1024).limiter in ("shared memory", "warps")


def test_bad_arguments(kernels):
    f = kernels.get_function("light")
    with pytest.raises(ValueError, match="positive int"):
        mc.occupancy(f, 0)
    with pytest.raises(ValueError, match="at most"):
        mc.occupancy(f, 2048)
    with pytest.raises(ValueError, match="byte count"):
        mc.occupancy(f, 128, shared=-1)


@pytest.mark.gpu
def test_driver_agrees_with_the_table(device):
    if device.kind == "cpu":
        pytest.skip("the GPU case")
    f = mc.SourceModule(SOURCE, device=device).get_function("staged")
    for block, shared in ((32, 0), (256, 4096), (1024, 48 * 1024)):
        occ = mc.occupancy(f, block, shared)
        assert occ.source == "driver" and occ.note == ""
        assert occ.active_blocks == occ.limits[occ.limiter]


def test_profile_report_shows_occupancy(kernels):
    import numpy as np

    f = kernels.get_function("light")
    needs_registers(f)
    x = np.zeros(1024, np.float32)
    with mc.profile() as p:
        f(x, grid=1, block=1024)
    (occ,) = p.occupancy("light")
    assert occ.block == 1024 and occ.occupancy == 1.0
    text = p.report(peaks=None)
    assert "occupancy (per multiprocessor)" in text and "suggested block" in text

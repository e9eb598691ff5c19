# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Checked launches large enough to run as lanes of blocks at once: what one thread running
every block finds is found, the same findings every time, and correct kernels stay clean."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc
from manycore import _core
from test_checked import ROTATE, checked, line_of

# Blocks enough for every worker of the pool to get a lane (16 blocks a lane at least).
BLOCKS = 16 * max(2, _core.num_threads())


def fault(f, *args, **launch) -> mc.KernelFault:
    with pytest.raises(mc.KernelFault) as info:
        f(*args, **launch)
    return info.value


def test_an_in_place_rotation_races_at_every_block_boundary_lanes_included():
    n = BLOCKS * 64
    a = np.arange(n, dtype=np.int32)
    f = checked(ROTATE).get_function("rotate")
    error = fault(f, a, a, np.int32(n), grid=(BLOCKS,), block=(64,))
    races = [x for x in error.findings if x.kind == "race"]
    across = [x for x in races if x.block != x.other_block]
    assert across, [str(x) for x in races]
    # Whatever lanes ran them, the first boundary is the one a single thread meets first.
    first = across[0]
    assert (first.index, first.block, first.thread, first.access) == (64, (0, 0, 0), (63, 0, 0), "write")
    assert (first.other_block, first.other_thread, first.other_access) == ((1, 0, 0), (0, 0, 0), "read")
    assert (first.line, first.other_line) == (line_of(ROTATE, "WRITE"), line_of(ROTATE, "READ"))
    assert "different blocks never synchronise" in first.message


def test_a_race_between_the_last_block_of_one_lane_and_the_first_of_the_next_is_found():
    src = r"""
    __global__ void spill(const float* in, float* out, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i + 1 < n) out[i + 1] = in[i];  // WRITE
        if (threadIdx.x == 0 && blockIdx.x == LAST_OF_FIRST_LANE + 1) out[i] += 1.0f;  // RMW
    }
    """
    lanes = min(_core.num_threads(), BLOCKS // 16)
    if lanes < 2:
        pytest.skip("one worker: a single lane runs every block")
    last_of_first_lane = BLOCKS // lanes - 1
    src = src.replace("LAST_OF_FIRST_LANE", str(last_of_first_lane))
    n = BLOCKS * 32
    f = checked(src).get_function("spill")
    error = fault(f, np.ones(n, np.float32), np.zeros(n, np.float32), np.int32(n),
                  grid=(BLOCKS,), block=(32,))
    hits = [x for x in error.findings if x.kind == "race" and x.index == (last_of_first_lane + 1) * 32]
    assert hits, [str(x) for x in error.findings]
    f = hits[0]
    assert (f.block, f.thread, f.access, f.line) == ((last_of_first_lane, 0, 0), (31, 0, 0), "write",
                                                     line_of(src, "WRITE"))
    assert f.other_block == (last_of_first_lane + 1, 0, 0) and f.other_thread == (0, 0, 0)
    assert f.other_line == line_of(src, "RMW")


def test_findings_are_the_same_from_launch_to_launch():
    src = r"""
    __global__ void total(const float* in, float* out, int* hits) {
        __shared__ float s[64];
        int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
        s[t] = in[i];
        out[0] = s[(t + 1) % 64];
        hits[blockIdx.x % 7] = t;
    }
    """
    f = checked(src).get_function("total")
    runs = []
    for _ in range(5):
        error = fault(f, np.ones(BLOCKS * 64, np.float32), np.zeros(1, np.float32),
                      np.zeros(7, np.int32), grid=(BLOCKS,), block=(64,))
        runs.append(([str(x) for x in error.findings], error.findings_total))
    assert all(run == runs[0] for run in runs)
    kinds = {(x.kind, x.variable, x.block == x.other_block) for x in fault(
        f, np.ones(BLOCKS * 64, np.float32), np.zeros(1, np.float32), np.zeros(7, np.int32),
        grid=(BLOCKS,), block=(64,)).findings}
    assert {("race", "s", True), ("race", "out", True), ("race", "out", False),
            ("race", "hits", False)} <= kinds


def test_an_out_of_bounds_access_in_a_later_lane_is_reported_once():
    src = r"""
    __global__ void twice(const float* x, float* y, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        y[i] = 2.0f * x[i];  // THE LINE
    }
    """
    n = BLOCKS * 32 - 5
    x, y = np.ones(n, np.float32), np.zeros(n, np.float32)
    error = fault(checked(src).get_function("twice"), x, y, np.int32(n), grid=(BLOCKS,), block=(32,))
    assert error.findings_total == 2
    assert {(f.variable, f.access, f.index, f.block) for f in error.findings} == {
        ("x", "read", n, (BLOCKS - 1, 0, 0)), ("y", "write", n, (BLOCKS - 1, 0, 0))
    }
    assert np.all(y == 2.0)


def test_correct_kernels_over_many_blocks_stay_clean_and_compute_as_unchecked():
    src = r"""
    __global__ void rotate(const int* in, int* out, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) out[(i + 1) % n] = in[i];
    }
    __global__ void reduce(const float* in, float* out, int n) {
        __shared__ float s[128];
        int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
        s[t] = i < n ? in[i] : 0.0f;
        __syncthreads();
        for (int stride = 64; stride > 0; stride >>= 1) {
            if (t < stride) s[t] += s[t + stride];
            __syncthreads();
        }
        if (t == 0) atomicAdd(out, s[0]);
    }
    """
    mod = checked(src)
    n = BLOCKS * 128 - 7
    a = np.arange(n, dtype=np.int32)
    b = np.zeros_like(a)
    mod.get_function("rotate")(a, b, np.int32(n), grid=(BLOCKS,), block=(128,))
    assert np.array_equal(b, np.roll(a, 1))
    out = np.zeros(1, np.float32)
    mod.get_function("reduce")(np.ones(n, np.float32), out, np.int32(n), grid=(BLOCKS,), block=(128,))
    assert out[0] == n

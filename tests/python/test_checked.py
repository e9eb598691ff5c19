# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Checked mode: planted bugs are found exactly, correct kernels find nothing.

Out-of-bounds accesses are found on every device (the tests taking ``device``); races,
uninitialized reads and barrier divergence are the CPU's part (on a GPU, compute-sanitizer's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import manycore as mc
from manycore.findings import Finding


def line_of(source: str, marker: str) -> int:
    """The 1-based line of the source that holds `marker` (a comment)."""
    for number, text in enumerate(source.splitlines(), start=1):
        if marker in text:
            return number
    raise AssertionError(f"no line with {marker!r}")


def checked(source: str, device: mc.Device | str = "cpu", **kw) -> mc.SourceModule:
    return mc.SourceModule(source, device=device, checked=True, **kw)


def run(f: mc.Function, device: mc.Device | str, args: tuple, launch: dict) -> None:
    """f(*args) on `device`: NumPy arrays go to a GPU first and their results come back into
    them after (also after a KernelFault), so the tests read results the same on every device."""
    gpu = str(device) != "cpu"
    moved = [mc.to_device(a, device) if gpu and isinstance(a, np.ndarray) else a for a in args]
    try:
        f(*moved, **launch)
    finally:
        for a, m in zip(args, moved):
            if m is not a:
                a[...] = m.get().view(a.dtype).reshape(a.shape)


def findings(source: str, kernel: str, *args, device: mc.Device | str = "cpu", **launch) -> list[Finding]:
    f = checked(source, device).get_function(kernel)
    with pytest.raises(mc.KernelFault) as info:
        run(f, device, args, launch)
    assert info.value.kernel == kernel
    assert info.value.findings_total == len(info.value.findings)
    assert all(isinstance(x, Finding) for x in info.value.findings)
    return info.value.findings


def only(found: list[Finding], kind: str, **fields) -> Finding:
    """The one finding of `kind` whose fields have these values."""
    hits = [f for f in found if f.kind == kind and all(getattr(f, k) == v for k, v in fields.items())]
    assert len(hits) == 1, f"wanted one {kind} {fields}, found: {[str(f) for f in found]}"
    return hits[0]


def no_findings(source: str, kernel: str, *args, device: mc.Device | str = "cpu", **launch) -> None:
    run(checked(source, device).get_function(kernel), device, args, launch)


# ---- Out of bounds ------------------------------------------------------------------------------

MISSING_GUARD = r"""
__global__ void twice(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] = 2.0f * x[i];  // THE LINE
}
"""


def test_a_missing_bounds_guard_reads_and_writes_past_the_arrays(device):
    x = np.ones(100, np.float32)
    y = np.zeros(100, np.float32)
    found = findings(MISSING_GUARD, "twice", x, y, np.int32(100), device=device, grid=(1,), block=(128,))
    line = line_of(MISSING_GUARD, "THE LINE")
    read = only(found, "out-of-bounds", variable="x")
    assert (read.space, read.index, read.extent, read.access, read.line) == ("global", 100, 100, "read", line)
    assert (read.block, read.thread) == ((0, 0, 0), (100, 0, 0))
    write = only(found, "out-of-bounds", variable="y")
    assert (write.index, write.extent, write.access, write.line) == (100, 100, "write", line)
    assert write.thread == (100, 0, 0)
    assert str(write) == (
        f"out-of-bounds in kernel 'twice', array 'y': thread (100,0,0) of block (0,0,0) writes "
        f"y[100] at line {line}, but 'y' has 100 elements (indices 0 to 99)"
    )
    # Nothing outside the arrays was written, and the threads in range did their work.
    assert np.all(y == 2.0)


def test_out_of_bounds_counts_from_the_view_passed(device):
    base = np.ones(100, np.float32)
    y = np.zeros(90, np.float32)
    found = findings(MISSING_GUARD, "twice", base[10:], y, np.int32(90), device=device, grid=(1,), block=(91,))
    read = only(found, "out-of-bounds", variable="x")
    assert (read.index, read.extent, read.thread) == (90, 90, (90, 0, 0))


def test_a_negative_index_is_out_of_bounds_even_inside_the_buffer(device):
    src = r"""
    __global__ void left(const float* x, float* y) {
        int i = threadIdx.x;
        y[i] = x[i - 1];  // NEIGHBOUR
    }
    """
    base = np.ones(64, np.float32)
    found = findings(src, "left", base[1:33], np.zeros(32, np.float32), device=device, grid=(1,), block=(32,))
    f = only(found, "out-of-bounds", variable="x")
    assert (f.index, f.extent, f.thread, f.line) == (-1, 32, (0, 0, 0), line_of(src, "NEIGHBOUR"))


STATIC_SHARED_OOB = r"""
__global__ void fill(float* out) {
    __shared__ float s[32];
    s[threadIdx.x] = 1.0f;  // STORE
    __syncthreads();
    out[threadIdx.x] = s[threadIdx.x % 32];
}
"""


def test_a_static_shared_array_written_past_its_end(device):
    out = np.zeros(33, np.float32)
    found = findings(STATIC_SHARED_OOB, "fill", out, device=device, grid=(2,), block=(33,))
    f = only(found, "out-of-bounds", variable="s", block=(0, 0, 0))
    assert (f.space, f.index, f.extent, f.access) == ("shared", 32, 32, "write")
    assert (f.thread, f.line) == ((32, 0, 0), line_of(STATIC_SHARED_OOB, "STORE"))
    assert "shared array 's'" in f.message


def test_static_shared_memory_of_a_checked_kernel_counts_against_the_limit(device):
    src = r"""
    __global__ void big(float* out) {
        __shared__ float s[10000];
        s[threadIdx.x] = 1; __syncthreads(); out[0] = s[0];
    }"""
    f = checked(src, device).get_function("big")
    assert f.static_shared_bytes >= 40000
    with pytest.raises(ValueError, match="static __shared__"):
        run(f, device, (np.zeros(1, np.float32),), dict(grid=1, block=32, shared=10000))


def test_a_two_dimensional_shared_array_is_bounded_by_its_whole_size(device):
    src = r"""
    __global__ void tile(float* out) {
        __shared__ float t[4][8];
        t[threadIdx.y][threadIdx.x] = 1.0f;  // STORE
        __syncthreads();
        out[threadIdx.y * 8 + threadIdx.x] = t[threadIdx.y % 4][threadIdx.x];
    }
    """
    found = findings(src, "tile", np.zeros(40, np.float32), device=device, grid=(1,), block=(8, 5))
    f = only(found, "out-of-bounds", variable="t")
    assert (f.index, f.extent, f.thread) == (32, 32, (0, 4, 0))


DYNAMIC_SHARED_OOB = r"""
__global__ void shift(float* out) {
    extern __shared__ float d[];
    d[threadIdx.x + 1] = 1.0f;  // STORE
    __syncthreads();
    out[threadIdx.x] = d[threadIdx.x];
}
"""


def test_dynamic_shared_memory_is_bounded_by_the_launch_size(device):
    out = np.zeros(32, np.float32)
    found = findings(DYNAMIC_SHARED_OOB, "shift", out, device=device, grid=(1,), block=(32,), shared=32 * 4)
    f = only(found, "out-of-bounds", variable="d")
    assert (f.space, f.index, f.extent, f.access) == ("shared", 32, 32, "write")
    assert (f.thread, f.line) == ((31, 0, 0), line_of(DYNAMIC_SHARED_OOB, "STORE"))


# ---- Races --------------------------------------------------------------------------------------

ROTATE = r"""
__global__ void rotate(const int* in, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int v = in[i];  // READ
        out[(i + 1) % n] = v;  // WRITE
    }
}
"""


def test_an_in_place_rotation_races_across_blocks():
    a = np.arange(128, dtype=np.int32)
    found = findings(ROTATE, "rotate", a, a, np.int32(128), grid=(2,), block=(64,))
    races = [f for f in found if f.kind == "race"]
    # Within a block, thread 0 writes element 1 before thread 1 reads it.
    f = only(races, "race", variable="in", index=1)
    assert (f.thread, f.other_thread, f.block, f.other_block) == ((0, 0, 0), (1, 0, 0), (0, 0, 0), (0, 0, 0))
    assert "no __syncthreads between" in f.message
    # Across blocks: thread 63 of block 0 writes element 64, which thread 0 of block 1 reads.
    f = only(races, "race", variable="in", index=64)
    assert (f.thread, f.block, f.access, f.line) == ((63, 0, 0), (0, 0, 0), "write", line_of(ROTATE, "WRITE"))
    assert (f.other_thread, f.other_block, f.other_access) == ((0, 0, 0), (1, 0, 0), "read")
    assert f.other_line == line_of(ROTATE, "READ")
    assert "the same memory as 'out'" in f.message
    assert "different blocks never synchronise" in f.message


def test_a_launch_boundary_orders_what_blocks_of_two_launches_do():
    src = r"""
    __global__ void step(int* a, int* b, int phase) {
        int t = threadIdx.x;
        if (phase == 0 && blockIdx.x == 0) a[t] = t;
        if (phase == 1 && blockIdx.x == 1) b[t] = a[t] + 1;
    }
    """
    f = checked(src).get_function("step")
    a, b = np.zeros(32, np.int32), np.zeros(32, np.int32)
    for _ in range(300):  # past the 8-bit generation of the reused shadow memory
        f(a, b, np.int32(0), grid=(2,), block=(32,))
        f(a, b, np.int32(1), grid=(2,), block=(32,))
    assert np.array_equal(b, np.arange(1, 33))


def test_a_const_array_also_passed_writable_is_race_checked():
    src = r"""
    __global__ void shift(const float* in, float* out) {
        out[threadIdx.x + 1] = in[threadIdx.x];  // WRITE
    }
    """
    a = np.arange(33, dtype=np.float32)
    found = findings(src, "shift", a, a, grid=(1,), block=(32,))
    f = only(found, "race", variable="in")
    assert (f.access, f.other_access, f.thread, f.other_thread) == ("write", "read", (0, 0, 0), (1, 0, 0))
    no_findings(src, "shift", a, np.zeros(33, np.float32), grid=(1,), block=(32,))


def test_an_out_of_place_rotation_is_clean():
    a = np.arange(128, dtype=np.int32)
    b = np.zeros_like(a)
    no_findings(ROTATE, "rotate", a, b, np.int32(128), grid=(2,), block=(64,))
    assert np.array_equal(b, np.roll(a, 1))


def test_threads_of_one_block_writing_one_global_element_race():
    src = r"""
    __global__ void last(int* out) {
        out[0] = threadIdx.x;  // STORE
    }
    """
    found = findings(src, "last", np.zeros(1, np.int32), grid=(1,), block=(4,))
    f = only(found, "race", variable="out")
    line = line_of(src, "STORE")
    assert (f.access, f.other_access, f.line, f.other_line) == ("write", "write", line, line)
    assert (f.thread, f.other_thread, f.index, f.extent) == ((0, 0, 0), (1, 0, 0), 0, 1)


def test_a_result_written_through_star_by_every_block_races_at_its_line():
    src = r"""
    __global__ void total(const float* in, float* out) {
        __shared__ float s[32];
        s[threadIdx.x] = in[blockIdx.x * 32 + threadIdx.x];
        __syncthreads();
        if (threadIdx.x == 0) *out = s[0] + s[31];  // STORE
    }
    """
    found = findings(src, "total", np.ones(64, np.float32), np.zeros(1, np.float32), grid=(2,), block=(32,))
    f = only(found, "race", variable="out")
    line = line_of(src, "STORE")
    assert (f.line, f.other_line, f.block, f.other_block) == (line, line, (0, 0, 0), (1, 0, 0))
    assert (f.access, f.other_access, f.index) == ("write", "write", 0)


NEIGHBOUR_SWAP = r"""
__global__ void swap(const float* in, float* out) {
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[t];  // WRITE
    out[t] = s[t ^ 1];  // READ
}
"""


def test_a_shared_read_of_a_neighbour_without_a_barrier_races():
    found = findings(NEIGHBOUR_SWAP, "swap", np.ones(64, np.float32), np.zeros(64, np.float32),
                     grid=(1,), block=(64,))
    f = only(found, "race", variable="s", index=1)
    assert (f.space, f.extent) == ("shared", 64)
    assert (f.thread, f.access, f.line) == ((0, 0, 0), "read", line_of(NEIGHBOUR_SWAP, "READ"))
    assert (f.other_thread, f.other_access, f.other_line) == ((1, 0, 0), "write", line_of(NEIGHBOUR_SWAP, "WRITE"))
    assert str(f) == (
        f"race in kernel 'swap', shared array 's': thread (0,0,0) of block (0,0,0) reads s[1] at "
        f"line {f.line} while thread (1,0,0) of block (0,0,0) writes it at line {f.other_line} "
        f"with no __syncthreads between"
    )


REDUCE_NO_SYNC = r"""
__global__ void reduce(const float* in, float* out) {
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
        if (t < stride) s[t] += s[t + stride];  // STEP
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
"""


def test_a_shared_scalar_summed_without_an_atomic_races():
    src = r"""
    __global__ void total(const float* in, float* out) {
        __shared__ float sum;
        if (threadIdx.x == 0) sum = 0.0f;  // ZERO
        __syncthreads();
        sum += in[threadIdx.x];  // ADD
        __syncthreads();
        if (threadIdx.x == 0) out[blockIdx.x] = sum;
    }
    """
    found = findings(src, "total", np.ones(32, np.float32), np.zeros(1, np.float32), grid=(1,), block=(32,))
    f = only(found, "race", variable="sum")
    line = line_of(src, "ADD")
    assert (f.space, f.index, f.extent, f.line, f.other_line) == ("shared", 0, 1, line, line)
    # The last thread at the barrier runs on first: thread 31 adds, then thread 0 reads its sum.
    assert (f.thread, f.access, f.other_thread, f.other_access) == ((31, 0, 0), "write", (0, 0, 0), "read")
    fixed = src.replace("sum += in[threadIdx.x];", "atomicAdd(&sum, in[threadIdx.x]);")
    out = np.zeros(1, np.float32)
    no_findings(fixed, "total", np.ones(32, np.float32), out, grid=(1,), block=(32,))
    assert out[0] == 32


def test_a_tree_reduction_without_its_barrier_races():
    found = findings(REDUCE_NO_SYNC, "reduce", np.ones(128, np.float32), np.zeros(2, np.float32),
                     grid=(2,), block=(64,))
    line = line_of(REDUCE_NO_SYNC, "STEP")
    races = [f for f in found if f.kind == "race"]
    assert races and all(f.variable == "s" and f.space == "shared" for f in races)
    assert {(f.line, f.other_line) for f in races} == {(line, line)}
    f = races[0]
    assert f.block == f.other_block == (0, 0, 0)
    assert f.thread != f.other_thread


DYNAMIC_SHARED_RACE = r"""
__global__ void swap(const float* in, float* out) {
    extern __shared__ float d[];
    int t = threadIdx.x;
    d[t] = in[t];  // WRITE
    out[t] = d[(t + 1) % blockDim.x];  // READ
}
"""


def test_a_dynamic_shared_read_without_a_barrier_races():
    found = findings(DYNAMIC_SHARED_RACE, "swap", np.ones(32, np.float32), np.zeros(32, np.float32),
                     grid=(1,), block=(32,), shared=32 * 4)
    f = only(found, "race", variable="d", index=1)
    assert (f.space, f.thread, f.access) == ("shared", (0, 0, 0), "read")
    assert (f.other_thread, f.other_access) == ((1, 0, 0), "write")
    assert (f.line, f.other_line) == (line_of(DYNAMIC_SHARED_RACE, "READ"), line_of(DYNAMIC_SHARED_RACE, "WRITE"))


def test_a_race_within_a_barrier_interval_of_a_kernel_with_barriers():
    src = r"""
    __global__ void k(float* out) {
        __shared__ float s[32];
        s[threadIdx.x] = 1.0f;
        __syncthreads();
        s[threadIdx.x] += s[(threadIdx.x + 1) % 32];  // RMW
        __syncthreads();
        out[threadIdx.x] = s[threadIdx.x];
    }
    """
    found = findings(src, "k", np.zeros(32, np.float32), grid=(1,), block=(32,))
    line = line_of(src, "RMW")
    # After a barrier the last thread to arrive runs first: thread 31 reads s[0] before thread 0
    # writes it (later pairs repeat the same bug and are not listed again).
    f = only(found, "race", variable="s")
    assert (f.index, f.line, f.other_line) == (0, line, line)
    assert (f.thread, f.access, f.other_thread, f.other_access) == ((31, 0, 0), "read", (0, 0, 0), "write")


# ---- Uninitialized reads ------------------------------------------------------------------------

def test_reading_shared_memory_no_thread_wrote_is_uninitialized():
    src = r"""
    __global__ void half(float* out) {
        __shared__ float s[64];
        if (threadIdx.x < 32) s[threadIdx.x] = 1.0f;
        __syncthreads();
        out[threadIdx.x] = s[threadIdx.x];  // READ
    }
    """
    found = findings(src, "half", np.zeros(64, np.float32), grid=(1,), block=(64,))
    f = only(found, "uninitialized-read", variable="s")
    assert (f.space, f.extent, f.access, f.block, f.line) == ("shared", 64, "read", (0, 0, 0), line_of(src, "READ"))
    # One of the threads past 31, reading its own element (the first to run after the barrier).
    assert f.index >= 32 and f.thread == (f.index, 0, 0)
    assert "no thread of the block has written" in f.message


def test_uninitialized_dynamic_shared_memory_is_found_per_block():
    src = r"""
    __global__ void k(float* out) {
        extern __shared__ float d[];
        if (blockIdx.x == 0) d[threadIdx.x] = 1.0f;
        __syncthreads();
        out[blockIdx.x * blockDim.x + threadIdx.x] = d[threadIdx.x];  // READ
    }
    """
    # Block 1 reads what block 0 wrote into the same buffer on the CPU: still uninitialized.
    found = findings(src, "k", np.zeros(64, np.float32), grid=(2,), block=(32,), shared=128)
    f = only(found, "uninitialized-read", variable="d")
    assert (f.block, f.extent, f.line) == ((1, 0, 0), 32, line_of(src, "READ"))
    assert f.thread == (f.index, 0, 0)


# ---- Barrier divergence -------------------------------------------------------------------------

def test_threads_waiting_at_different_barriers_diverge():
    src = r"""
    __global__ void k(float* out) {
        if (threadIdx.x < 16) {
            __syncthreads();  // FIRST
        } else {
            __syncthreads();  // SECOND
        }
        out[threadIdx.x] = 1.0f;
    }
    """
    found = findings(src, "k", np.zeros(32, np.float32), grid=(1,), block=(32,))
    f = only(found, "barrier-divergence")
    assert (f.line, f.other_line) == (line_of(src, "FIRST"), line_of(src, "SECOND"))
    assert (f.block, f.thread, f.other_thread) == ((0, 0, 0), (0, 0, 0), (16, 0, 0))
    assert f.variable is None and f.index is None


def test_a_barrier_some_threads_skip_for_a_later_one_diverges():
    src = r"""
    __global__ void k(float* out) {
        __shared__ float s[32];
        s[threadIdx.x] = threadIdx.x;
        if (threadIdx.x == 0) __syncthreads();  // ONLY THREAD 0
        __syncthreads();  // EVERYONE
        out[threadIdx.x] = s[31 - threadIdx.x];
    }
    """
    found = findings(src, "k", np.zeros(32, np.float32), grid=(1,), block=(32,))
    f = only(found, "barrier-divergence", line=line_of(src, "ONLY THREAD 0"))
    assert (f.thread, f.other_thread, f.other_line) == ((0, 0, 0), (1, 0, 0), line_of(src, "EVERYONE"))


def test_a_full_warp_mask_in_a_block_of_16_threads_names_missing_lanes():
    src = r"""
    __global__ void k(float* out) {
        float v = threadIdx.x;
        v += __shfl_down_sync(0xffffffff, v, 1);  // SHUFFLE
        out[threadIdx.x] = v;
    }
    """
    found = findings(src, "k", np.zeros(16, np.float32), grid=(1,), block=(16,))
    f = only(found, "barrier-divergence")
    assert (f.line, f.thread) == (line_of(src, "SHUFFLE"), (0, 0, 0))
    assert "0xffffffff" in f.message and "16-31" in f.message


def test_a_warp_mask_naming_lanes_that_returned():
    src = r"""
    __global__ void k(float* out) {
        if (threadIdx.x >= 8) return;
        float v = __shfl_sync(0xffffffff, (float)threadIdx.x, 0);  // SHUFFLE
        out[threadIdx.x] = v;
    }
    """
    found = findings(src, "k", np.zeros(32, np.float32), grid=(1,), block=(32,))
    f = only(found, "barrier-divergence")
    assert f.line == line_of(src, "SHUFFLE")
    assert "8-31" in f.message and "returned" in f.message


def test_lanes_waiting_in_a_shuffle_for_lanes_at_a_barrier_are_reported_not_deadlocked():
    src = r"""
    __global__ void k(float* out) {
        float v = threadIdx.x;
        if (threadIdx.x < 16) v = __shfl_sync(0xffffffff, v, 0);  // SHUFFLE
        else __syncthreads();  // BARRIER
        out[threadIdx.x] = v;
    }
    """
    found = findings(src, "k", np.zeros(32, np.float32), grid=(2,), block=(32,))
    f = only(found, "barrier-divergence")
    assert (f.line, f.other_line) == (line_of(src, "BARRIER"), line_of(src, "SHUFFLE"))
    assert (f.thread, f.other_thread) == ((16, 0, 0), (0, 0, 0))
    assert "the block deadlocks" in f.message


# ---- Correct kernels that are easy to misjudge --------------------------------------------------

def test_atomics_on_one_address_are_not_races(device):
    src = r"""
    __global__ void count(const int* in, int* total, int n) {
        __shared__ int block_total[1];
        if (threadIdx.x == 0) block_total[0] = 0;
        __syncthreads();
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n && in[i] > 0) atomicAdd(&block_total[0], 1);
        __syncthreads();
        if (threadIdx.x == 0) atomicAdd(total, block_total[0]);
    }
    """
    total = np.zeros(1, np.int32)
    no_findings(src, "count", np.ones(1000, np.int32), total, np.int32(1000), device=device, grid=(8,), block=(128,))
    assert total[0] == 1000


def test_shared_memory_set_up_by_atomics_alone_is_initialized(device):
    src = r"""
    __global__ void hist(const int* keys, int* out) {
        __shared__ int bins[4];
        if (threadIdx.x < 4) atomicExch(&bins[threadIdx.x], 0);
        __syncthreads();
        atomicAdd(&bins[keys[threadIdx.x] % 4], 1);
        __syncthreads();
        if (threadIdx.x < 4) out[threadIdx.x] = bins[threadIdx.x];
    }"""
    out = np.zeros(4, np.int32)
    no_findings(src, "hist", np.arange(64, dtype=np.int32), out, device=device, grid=(1,), block=(64,))
    assert out.tolist() == [16, 16, 16, 16]


def test_an_atomic_past_the_end_is_out_of_bounds(device):
    src = r"""
    __global__ void hist(const int* keys, int* bins) {
        atomicAdd(&bins[keys[threadIdx.x]], 1);  // ATOMIC
    }
    """
    found = findings(src, "hist", np.array([0, 1, 4], np.int32), np.zeros(4, np.int32), device=device, grid=(1,), block=(3,))
    f = only(found, "out-of-bounds", variable="bins")
    assert (f.index, f.extent, f.thread, f.line) == (4, 4, (2, 0, 0), line_of(src, "ATOMIC"))


def test_a_warp_shuffle_reduction_is_clean(device):
    src = r"""
    __global__ void warp_sum(const float* in, float* out) {
        float v = in[blockIdx.x * blockDim.x + threadIdx.x];
        for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffff, v, offset);
        if (threadIdx.x % 32 == 0) out[(blockIdx.x * blockDim.x + threadIdx.x) / 32] = v;
    }
    """
    out = np.zeros(8, np.float32)
    no_findings(src, "warp_sum", np.ones(256, np.float32), out, device=device, grid=(2,), block=(128,))
    assert np.all(out == 32)


def test_a_tree_reduction_with_barriers_and_a_synced_last_warp_is_clean(device):
    src = r"""
    __global__ void reduce(const float* in, float* out, int n) {
        __shared__ float s[128];
        int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
        s[t] = i < n ? in[i] : 0.0f;
        __syncthreads();
        for (int stride = blockDim.x / 2; stride > 32; stride >>= 1) {
            if (t < stride) s[t] += s[t + stride];
            __syncthreads();
        }
        if (t < 32) {
            for (int stride = 32; stride > 0; stride >>= 1) {
                float v = s[t] + s[t + stride];
                __syncwarp();
                s[t] = v;
                __syncwarp();
            }
        }
        if (t == 0) out[blockIdx.x] = s[0];
    }
    """
    out = np.zeros(4, np.float32)
    no_findings(src, "reduce", np.ones(500, np.float32), out, np.int32(500), device=device, grid=(4,), block=(128,))
    assert out.sum() == 500


def test_a_tiled_transpose_is_clean(device):
    src = r"""
    #define TILE 16
    __global__ void transpose(const float* in, float* out, int rows, int cols) {
        __shared__ float tile[TILE][TILE + 1];
        int x = blockIdx.x * TILE + threadIdx.x, y = blockIdx.y * TILE + threadIdx.y;
        if (x < cols && y < rows) tile[threadIdx.y][threadIdx.x] = in[y * cols + x];
        __syncthreads();
        x = blockIdx.y * TILE + threadIdx.x;
        y = blockIdx.x * TILE + threadIdx.y;
        if (x < rows && y < cols) out[y * rows + x] = tile[threadIdx.x][threadIdx.y];
    }
    """
    a = np.arange(40 * 24, dtype=np.float32).reshape(40, 24)
    out = np.zeros((24, 40), np.float32)
    no_findings(src, "transpose", a, out, np.int32(40), np.int32(24), device=device, grid=(2, 3), block=(16, 16))
    assert np.array_equal(out, a.T)


def test_stencils_reading_neighbours_are_clean(device):
    src = r"""
    __global__ void blur(const float* in, float* out, int n) {
        __shared__ float s[34];
        int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
        s[t + 1] = i < n ? in[i] : 0.0f;
        if (t == 0) s[0] = i > 0 ? in[i - 1] : 0.0f;
        if (t == blockDim.x - 1) s[t + 2] = i + 1 < n ? in[i + 1] : 0.0f;
        __syncthreads();
        if (i < n) out[i] = s[t] + s[t + 1] + s[t + 2];
        if (i > 0 && i + 1 < n) out[i] += in[i - 1] - in[i + 1];
    }
    """
    x = np.arange(96, dtype=np.float32)
    out = np.zeros_like(x)
    no_findings(src, "blur", x, out, np.int32(96), device=device, grid=(3,), block=(32,))
    assert out[10] == 9 + 10 + 11 + 9 - 11


def test_a_double_buffered_scan_is_clean(device):
    src = r"""
    __global__ void scan(const int* in, int* out) {
        __shared__ int buf[2][64];
        int t = threadIdx.x, from = 0;
        buf[0][t] = in[t];
        __syncthreads();
        for (int offset = 1; offset < 64; offset <<= 1) {
            int to = 1 - from;
            buf[to][t] = t >= offset ? buf[from][t] + buf[from][t - offset] : buf[from][t];
            __syncthreads();
            from = to;
        }
        out[t] = buf[from][t];
    }
    """
    out = np.zeros(64, np.int32)
    no_findings(src, "scan", np.ones(64, np.int32), out, device=device, grid=(1,), block=(64,))
    assert np.array_equal(out, np.arange(1, 65))


def test_threads_that_return_before_a_barrier_count_as_arrived(device):
    src = r"""
    __global__ void tail(const float* in, float* out, int n) {
        __shared__ float s[64];
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= n) return;
        s[threadIdx.x] = in[i];
        __syncthreads();
        out[i] = s[threadIdx.x] + s[0];
    }
    """
    out = np.zeros(100, np.float32)
    if device.kind != "cpu":
        no_findings(src, "tail", np.ones(100, np.float32), out, np.int32(100), device=device,
                    grid=(2,), block=(64,))
        assert np.all(out == 2)
        return
    # On the CPU the launch completes as a GPU's does, and checked mode reports the threads
    # that returned without the barrier the others wait at (barrier divergence).
    module = mc.SourceModule(src, device=device, checked=True)
    inputs = np.ones(100, np.float32)
    with pytest.raises(mc.KernelFault) as e:
        module.get_function("tail")(inputs, out, np.int32(100), grid=(2,), block=(64,))
    assert [f.kind for f in e.value.findings] == ["barrier-divergence"]
    assert "returned without it" in e.value.findings[0].message
    assert np.all(out == 2)


def test_vector_types_helpers_and_pointer_arithmetic_stay_checked_and_correct(device):
    src = r"""
    __device__ float first(const float* p) { return p[0]; }
    __global__ void k(const float4* in, float4* out, float* sums, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i >= n) return;
        float4 v = in[i];
        out[i].x = v.y;
        out[i].y = in[i].x;
        out[i].z = v.z * 2.0f;
        out[i].w = 0.0f;
        const float* row = (const float*)(in + i);
        sums[i] = first(row) + row[3];
        float* s = sums + i;
        *s += 1.0f;
    }
    """
    data = np.arange(32, dtype=np.float32).reshape(8, 4)
    out = np.zeros_like(data)
    sums = np.zeros(8, np.float32)
    no_findings(src, "k", data, out, sums, np.int32(8), device=device, grid=(1,), block=(32,))
    assert np.array_equal(out[:, 0], data[:, 1]) and np.array_equal(out[:, 2], data[:, 2] * 2)
    assert np.array_equal(sums, data[:, 0] + data[:, 3] + 1)


def test_a_vector_component_past_the_end_is_out_of_bounds(device):
    src = r"""
    __global__ void k(float4* out) {
        out[threadIdx.x].w = 1.0f;  // STORE
    }
    """
    found = findings(src, "k", np.zeros((2, 4), np.float32), device=device, grid=(1,), block=(3,))
    f = only(found, "out-of-bounds", variable="out")
    assert (f.index, f.extent, f.thread, f.line) == (2, 2, (2, 0, 0), line_of(src, "STORE"))


def test_a_race_inside_a_device_function_is_found_at_its_line():
    src = r"""
    __device__ void warp_reduce(volatile float* s, int t) {
        s[t] += s[t + 1];  // STEP
    }
    __global__ void reduce(float* out) {
        __shared__ float s[64];
        int t = threadIdx.x;
        s[t] = t;
        __syncthreads();
        if (t < 32) warp_reduce(s, t);
        __syncthreads();
        out[t] = s[t];
    }
    """
    found = findings(src, "reduce", np.zeros(64, np.float32), grid=(1,), block=(64,))
    f = only(found, "race", variable="s")
    line = line_of(src, "STEP")
    assert (f.index, f.line, f.other_line, f.thread, f.other_thread) == (1, line, line, (0, 0, 0), (1, 0, 0))
    assert (f.access, f.other_access) == ("read", "write")


def test_a_helper_that_needs_a_raw_pointer_still_compiles_with_the_kernel_checked(device):
    src = r"""
    template <class T> __device__ T first(const T* p) { return p[0]; }
    __device__ float load(const float* p, int i) { return first(p + i); }
    __global__ void k(const float* in, float* out) {
        out[threadIdx.x] = load(in, threadIdx.x) + in[threadIdx.x + 1];  // READ
    }
    """
    found = findings(src, "k", np.ones(4, np.float32), np.zeros(4, np.float32), device=device, grid=(1,), block=(4,))
    f = only(found, "out-of-bounds", variable="in")
    assert (f.index, f.line) == (4, line_of(src, "READ"))


def test_code_that_needs_a_raw_reference_says_why_it_does_not_compile_checked(device):
    src = r"""
    __global__ void k(float* p) {
        float& r = p[threadIdx.x];
        r = 1.0f;
    }"""
    mc.SourceModule(src, device=device)  # fine unchecked
    with pytest.raises(mc.CompileError, match="checked mode: pointer parameters") as info:
        checked(src, device)
    assert "kernel.cu:3" in str(info.value)


def test_common_idioms_compile_and_compute_as_unchecked(capfd, device):
    src = r"""
    struct P { float x, y; };
    __device__ float twice(const float* p, int i) { return 2.0f * p[i]; }
    __global__ void idioms(const float* in, float* out, int* counts, P* ps, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (in == NULL || out == nullptr || i >= n) return;
        float v = in[i] > 0.0f ? in[i] : -in[i];
        v = max(fmaxf(v, in[i]), in[i]) + twice(in, i);
        out[i] = v;
        out[i] += 1.0f;
        out[i]++;
        const float* row = in + i;
        float* o = &out[i];
        *o += row[0] - *row;
        atomicAdd(&counts[i % 4], 1);
        atomicAdd(counts + (i % 4), 1);
        atomicMax(&counts[4], i);
        ps[i].x = in[i];
        ps[i].y = ps[i].x + 1.0f;
        out[i] += __ldg(&in[i]) - in[i];
        if (i == 3) printf("in[3]=%g out=%p\n", in[i], (const void*)0);
    }
    """
    n = 64
    x = np.arange(n, dtype=np.float32)
    out = np.zeros(n, np.float32)
    counts = np.zeros(5, np.int32)
    ps = np.zeros(n, dtype=[("x", np.float32), ("y", np.float32)])
    no_findings(src, "idioms", x, out, counts, ps, np.int32(n), device=device, grid=(2,), block=(32,))
    assert np.array_equal(out, 3 * x + 2)
    assert counts.tolist() == [32, 32, 32, 32, 63]
    assert np.array_equal(ps["y"], x + 1)
    assert "in[3]=3 out=" in capfd.readouterr().out


# ---- Reports ------------------------------------------------------------------------------------

def test_each_distinct_finding_is_kept_once_and_the_rest_are_counted(device):
    body = "\n".join(f"    a[n + {k}] = 0;" for k in range(120))
    src = "__global__ void k(int* a, int n) {\n" + body + "\n}\n"
    f = checked(src, device).get_function("k")
    with pytest.raises(mc.KernelFault) as info:
        run(f, device, (np.zeros(4, np.int32), np.int32(4)), dict(grid=(2,), block=(64,)))
    error = info.value
    assert error.findings_total == 120
    assert len(error.findings) == 100
    assert [x.line for x in error.findings[:3]] == [2, 3, 4]
    assert "found 120 problems" in str(error) and "keeps the first 100" in str(error)


def test_findings_come_after_the_whole_launch_and_the_process_goes_on(device):
    x = np.ones(100, np.float32)
    y = np.zeros(100, np.float32)
    mod = checked(MISSING_GUARD, device)
    with pytest.raises(mc.KernelFault):
        run(mod.get_function("twice"), device, (x, y, np.int32(100)), dict(grid=(4,), block=(32,)))
    assert np.all(y == 2)  # every block ran
    y[:] = 0
    run(mod.get_function("twice"), device, (x, y, np.int32(100)), dict(grid=(1,), block=(100,)))
    assert np.all(y == 2)


def test_unchecked_modules_are_unchanged_and_separate_from_checked_ones():
    a = np.arange(128, dtype=np.int32)
    plain = mc.SourceModule(ROTATE, device="cpu")
    rotated = a.copy()
    plain.get_function("rotate")(a, rotated, np.int32(128), grid=(2,), block=(64,))
    plain.get_function("rotate")(a, a, np.int32(128), grid=(2,), block=(64,))  # no check, no raise
    assert plain.cache_path != checked(ROTATE).cache_path
    assert mc.Finding is Finding


def test_a_uint32_array_or_a_64_bit_total_for_an_int_pointer_is_still_a_type_error():
    src = "__global__ void k(int* a) { a[threadIdx.x] = 1; }"
    with pytest.raises(TypeError, match="uint32"):
        checked(src).get_function("k")(np.zeros(4, np.uint32), grid=(1,), block=(4,))
    with pytest.raises(TypeError, match="int64"):
        checked(src).get_function("k")(np.zeros(1, np.int64), grid=(1,), block=(1,))


# ---- Environment --------------------------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import numpy as np, manycore as mc
    src = '''
    __global__ void twice(const float* x, float* y, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        y[i] = 2.0f * x[i];
    }'''
    mod = mc.SourceModule(src, device=DEVICE)
    x = mc.to_device(np.ones(10, np.float32), device=DEVICE)
    y = mc.zeros(10, np.float32, device=DEVICE)
    stream = mc.Stream(mc.Device(DEVICE))
    start, end = mc.Event(mc.Device(DEVICE)), mc.Event(mc.Device(DEVICE))
    print("devices", mod.device, x.device, y.device, stream.device)
    try:
        start.record(stream)
        mod.get_function("twice")(x, y, np.int32(10), grid=(1,), block=(16,), stream=stream)
        end.record(stream)
        mc.synchronize(mc.Device(DEVICE))
        print("no fault")
    except mc.KernelFault as e:
        print("fault", e.findings_total, sorted({f.variable for f in e.findings}))
    print("y", y.get().tolist())
    """
)


def run_script(device: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MANYCORE_CHECK")}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("DEVICE", repr(device))],
        env=environment, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_manycore_check_makes_every_module_checked():
    assert "no fault" in run_script("cpu")
    out = run_script("cpu", MANYCORE_CHECK="1")
    assert "fault 2 ['x', 'y']" in out
    assert "devices cpu cpu cpu cpu" in out


def test_manycore_check_collect_appends_json_lines_and_goes_on(tmp_path):
    path = tmp_path / "findings.jsonl"
    path.write_text('{"kind": "race", "kernel": "earlier", "message": "kept"}\n')
    out = run_script("cpu", MANYCORE_CHECK="1", MANYCORE_CHECK_COLLECT=str(path))
    assert "no fault" in out and "y [2.0" in out
    # Findings, and the count of checked launches the process told (manycore check's).
    lines = [line for line in path.read_text().splitlines() if "checked_launches" not in line]
    assert len(lines) == 3  # appended, not replaced
    found = [Finding.from_dict(json.loads(line)) for line in lines[1:]]
    assert {(f.kind, f.variable, f.index, f.extent) for f in found} == {
        ("out-of-bounds", "x", 10, 10), ("out-of-bounds", "y", 10, 10)
    }
    assert all(f.kernel == "twice" and f.line == 4 and f.thread == (10, 0, 0) for f in found)


def test_manycore_check_makes_gpu_modules_bounds_checked(device):
    if device.kind == "cpu":
        pytest.skip("the GPU case")
    out = run_script(str(device), MANYCORE_CHECK="1")
    assert f"devices {device} {device} {device} {device}" in out
    assert "fault 2 ['x', 'y']" in out
    assert "y [2.0, 2.0" in out  # the threads in range did their work


def test_manycore_check_on_cpu_moves_gpu_modules_and_arrays_to_the_cpu():
    out = run_script("cuda", MANYCORE_CHECK="1", MANYCORE_CHECK_ON_CPU="1")
    assert "devices cpu cpu cpu cpu" in out
    assert "fault 2" in out


def test_manycore_check_leaves_manycores_own_generated_kernels_unchecked():
    script = textwrap.dedent(
        """
        import numpy as np, manycore as mc
        x = np.array([-1, 5, 2**62], np.int64); y = np.array([1, 2, 2**63], np.uint64)
        a, b = mc.to_device(x, "cpu"), mc.to_device(y, "cpu")
        assert np.array_equal((a < b).get(), x < y), (a < b).get()
        assert float(mc.sum(mc.to_device(np.ones(1000), "cpu"))) == 1000.0
        k = mc.ElementwiseKernel("float *z", "z[i] = i")
        z = mc.zeros(4, np.float32, device="cpu"); k(z)
        assert z.get().tolist() == [0, 1, 2, 3]
        print("ok")
        """
    )
    environment = dict(os.environ, MANYCORE_CHECK="1")
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_a_switch_that_is_not_one_is_an_error():
    environment = dict(os.environ, MANYCORE_CHECK="sometimes")
    done = subprocess.run(
        [sys.executable, "-c", "import manycore as mc; mc.SourceModule('__global__ void k() {}', device='cpu')"],
        env=environment, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode != 0 and "MANYCORE_CHECK='sometimes' is not a switch" in done.stderr

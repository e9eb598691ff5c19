# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""mc.random: Philox4x32-10 streams, equal across devices and calls, and statistically sound."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(index: np.ndarray, seed: int) -> np.ndarray:
    """An independent NumPy Philox4x32-10 of counters (index, 0) under key seed: (n, 4) uint32."""
    i = index.astype(np.uint64)
    c = [(i & MASK).astype(np.uint64), (i >> np.uint64(32)).astype(np.uint64),
         np.zeros_like(i), np.zeros_like(i)]
    k0, k1 = seed & MASK, (seed >> 32) & MASK
    for _ in range(10):
        p0 = np.uint64(M0) * c[0]
        p1 = np.uint64(M1) * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK)
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return np.stack(c, axis=1).astype(np.uint32)


def test_philox_known_answer():
    # Random123's known-answer vector: counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
    r = philox(np.array([0]), 0)[0]
    assert [hex(v) for v in r] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


def test_uniform_float64_equals_independent_philox(device):
    n = 1000
    got = mc.random.uniform(n, seed=12345, device=device).get()
    r = philox(np.arange(n), 12345).astype(np.uint64)
    want = (((r[:, 0] << np.uint64(32)) | r[:, 1]) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    np.testing.assert_array_equal(got, want)
    # Float32: four numbers from each block, counter i // 4, word i % 4.
    got32 = mc.random.uniform(n + 3, seed=7, dtype=np.float32, device=device).get()
    r = philox(np.arange((n + 6) // 4), 7).reshape(-1)[:n + 3]
    np.testing.assert_array_equal(got32, (r >> 8).astype(np.float32) * np.float32(2.0**-24))
    k = mc.ElementwiseKernel("unsigned long long seed, float *out",
                             "out[i] = mc_uniform_float(seed, (unsigned long long)i)", preamble=mc.random.HEADER)
    out = mc.empty(n + 3, np.float32, device)
    k(np.uint64(7), out)
    np.testing.assert_array_equal(out.get(), got32)


def test_streams_repeat_and_differ_by_seed(device):
    a = mc.random.uniform(513, seed=1, device=device).get()
    assert np.array_equal(a, mc.random.uniform(513, seed=1, device=device).get())
    assert not np.array_equal(a, mc.random.uniform(513, seed=2, device=device).get())
    # A prefix of a longer draw is the shorter draw: the counter is the element index.
    assert np.array_equal(a[:100], mc.random.uniform(100, seed=1, device=device).get())


def test_same_stream_on_every_device():
    draws = [mc.random.uniform(4096, seed=99, device=d).get() for d in mc.devices()]
    for d in draws[1:]:
        np.testing.assert_array_equal(d, draws[0])


def test_uniform_statistics(device):
    n = 2**20
    x = mc.random.uniform(n, low=-1, high=3, seed=2024, device=device).get()
    assert x.min() >= -1 and x.max() < 3
    assert abs(x.mean() - 1) < 5 * np.sqrt(16 / 12 / n)
    assert abs(x.var() - 16 / 12) < 0.01
    counts = np.histogram(x, bins=64, range=(-1, 3))[0]
    chi2 = ((counts - n / 64) ** 2 / (n / 64)).sum()
    assert chi2 < 120  # 63 degrees of freedom: p < 1e-5 above this


def test_normal_statistics(device):
    x = mc.random.normal(2**20, loc=3.0, scale=2.0, seed=5, device=device).get()
    assert abs(x.mean() - 3) < 0.01
    assert abs(x.std() - 2) < 0.01
    assert abs(((x - 3) / 2 > 1.959964).mean() - 0.025) < 0.002


def test_integers(device):
    x = mc.random.integers(-5, 5, size=100_000, seed=3, device=device).get()
    assert x.dtype == np.int64 and x.min() == -5 and x.max() == 4
    counts = np.bincount(x + 5)
    assert ((counts - 10_000) ** 2 / 10_000).sum() < 40
    u = mc.random.integers(256, size=1000, dtype=np.uint8, seed=3, device=device).get()
    assert u.dtype == np.uint8
    with pytest.raises(ValueError):
        mc.random.integers(5, 5)


def test_header_in_a_user_kernel(device):
    src = r"""
#include <manycore/random.h>
__global__ void draw(int n, unsigned long long seed, double* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = mc_uniform_double(seed, i);
}"""
    f = mc.SourceModule(src, device=device).get_function("draw")
    out = mc.empty(300, np.float64, device)
    f(300, 42, out, grid=2, block=256)
    np.testing.assert_array_equal(out.get(), mc.random.uniform(300, seed=42, device=device).get())


def test_kernels_including_the_random_header_run_as_loops(cpu):
    # manycore/random.h hides no barrier, so including it keeps a kernel a plain loop.
    f = mc.SourceModule("""
#include <manycore/random.h>
__global__ void draw(int n, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = mc_uniform_float(7, i);
}""", device=cpu).get_function("draw")
    assert not f.uses_fibers
    x = np.zeros(1000, np.float32)
    f(x.size, x, grid=(4,), block=(256,))
    np.testing.assert_array_equal(x, mc.random.uniform(1000, dtype=np.float32, seed=7, device=cpu).get())


def test_normal_float32_is_box_muller_of_the_documented_words(device):
    """Float32 normals: four from each Philox block, (r0, r1) and (r2, r3) each a Box-Muller
    pair (cosine, then sine), within a few ulp of the exact values of those words, and the same
    numbers as the kernel-side mc_normal_float of each index."""
    n = 4099  # a partial last group of four
    got = mc.random.normal(n, seed=77, dtype=np.float32, device=device).get()
    assert got.dtype == np.float32
    r = philox(np.arange((n + 3) // 4), 77).astype(np.float64)
    u1 = np.stack([r[:, 0], r[:, 2]], 1) * 2.0**-32 + 2.0**-33
    t = np.floor(np.stack([r[:, 1], r[:, 3]], 1) / 256) * 2.0**-24
    radius = np.sqrt(-2 * np.log(u1))
    want = np.stack([radius[:, 0] * np.cos(2 * np.pi * t[:, 0]), radius[:, 0] * np.sin(2 * np.pi * t[:, 0]),
                     radius[:, 1] * np.cos(2 * np.pi * t[:, 1]), radius[:, 1] * np.sin(2 * np.pi * t[:, 1])], 1)
    np.testing.assert_allclose(got, want.reshape(-1)[:n], rtol=2e-6, atol=2e-6)
    k = mc.ElementwiseKernel("unsigned long long seed, float *out",
                             "out[i] = mc_normal_float(seed, (unsigned long long)i)",
                             preamble=mc.random.HEADER)
    out = mc.empty(n, np.float32, device)
    k(np.uint64(77), out)
    np.testing.assert_array_equal(out.get(), got)
    big = mc.random.normal(2**20, loc=3.0, scale=2.0, seed=5, dtype=np.float32, device=device).get()
    assert abs(big.mean() - 3) < 0.01 and abs(big.std() - 2) < 0.01
    assert abs(((big - 3) / 2 > 1.959964).mean() - 0.025) < 0.002


def test_float32_generators_compile_for_sm_90():
    mc.cuda.compile(mc.random.HEADER + "__global__ void k(unsigned long long s, float* o) {"
                    " float z[4]; mc_normal_float4(s, threadIdx.x, z); mc_uniform_float4(s, threadIdx.x, z);"
                    " o[threadIdx.x] = z[0] + mc_normal_float(s, 3) + mc_uniform_float(s, 5); }",
                    arch="sm_90")


def test_normal_float32_is_the_same_on_every_device():
    draws = [mc.random.normal(5001, seed=3, dtype=np.float32, device=d).get() for d in mc.devices()]
    for d in draws[1:]:
        np.testing.assert_array_equal(d, draws[0])


def test_integers_are_the_documented_multiply_shift(device):
    """Two integers from each Philox block: element 2g + p is low + the high 64 bits of
    ((r[2p] << 32) | r[2p + 1]) * range; the kernel-side mc_random_below gives the same."""
    n, low, high = 1001, -7, 1000003
    got = mc.random.integers(low, high, size=n, dtype=np.int64, seed=11, device=device).get()
    r = philox(np.arange((n + 1) // 2), 11).astype(object)
    words = [(int(a) << 32) | int(b) for row in r for a, b in ((row[0], row[1]), (row[2], row[3]))][:n]
    want = np.array([low + ((w * (high - low)) >> 64) for w in words], np.int64)
    np.testing.assert_array_equal(got, want)
    k = mc.ElementwiseKernel("unsigned long long seed, long long *out",
                             f"out[i] = {low}LL + (long long)mc_random_below(seed, (unsigned long long)i, {high - low}ULL)",
                             preamble=mc.random.HEADER)
    out = mc.empty(n, np.int64, device)
    k(np.uint64(11), out)
    np.testing.assert_array_equal(out.get(), got)

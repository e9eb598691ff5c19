# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Arrays on several devices of one process: ``Array.to(device)``, the path each copy takes
(``mc.copy`` returns it), copies between two GPUs peer to peer or staged through host memory
(``MANYCORE_PEER_COPY=0`` forces the latter), and streams, events, memory pools and modules of
two GPUs at once. The tests that need two GPUs skip with the reason where there are fewer;
``tools/run_gpu_tests.sh multigpu`` runs them on a machine that has them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import manycore as mc

GPUS = [d for d in mc.devices() if d.kind == "cuda"]
two_gpus = pytest.mark.skipif(len(GPUS) < 2, reason=f"needs two GPUs; this machine has {len(GPUS)}")
# Bytes past two staging chunks (8 MiB each), so the staged path's double buffering turns over.
ODD = (2 * (8 << 20) + 12345) // 4


def test_to_copies_on_the_cpu(cpu):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = mc.to_device(x, cpu)
    b = a.to("cpu")
    assert b is not a and b.device == cpu
    np.testing.assert_array_equal(b.get(), x)
    b[0, 0] = 99  # a copy: the original is untouched
    assert a.get()[0, 0] == 0
    assert a.to(cpu, copy=False) is a
    np.testing.assert_array_equal(a[:, ::2].to(cpu).get(), x[:, ::2])  # a strided view
    rec = np.zeros(3, dtype=[("a", np.int32), ("b", np.float64)])
    rec["b"] = [1.5, 2.5, 3.5]
    assert mc.to_device(rec, cpu).to(cpu).get().tobytes() == rec.tobytes()  # records travel as bytes
    with pytest.raises((ValueError, mc.DeviceUnavailable)):
        a.to("tpu:0")


def test_to_between_the_cpu_and_a_gpu(device):
    x = np.random.default_rng(0).random((7, 1001)).astype(np.float32)
    a = mc.to_device(x, "cpu")
    d = a.to(device)
    assert d.device == device and d.shape == x.shape and d.dtype == x.dtype
    back = d.T.to("cpu")
    np.testing.assert_array_equal(back.get(), x.T)
    np.testing.assert_array_equal(mc.asarray(d, device="cpu").get(), x)
    np.testing.assert_array_equal(mc.to_device(d, "cpu").get(), x)


def test_copy_says_which_way_it_went(device):
    host = np.arange(1000, dtype=np.int64)
    out = np.zeros_like(host)
    assert mc.copy(out, host) == "host"
    d = mc.empty(1000, np.int64, device)
    assert mc.copy(d, host) == ("host" if device.kind == "cpu" else "host_to_device")
    assert mc.copy(out, d) == ("host" if device.kind == "cpu" else "device_to_host")
    np.testing.assert_array_equal(out, host)
    e = mc.empty_like(d)
    assert mc.copy(e, d) == ("host" if device.kind == "cpu" else "device")
    np.testing.assert_array_equal(e.get(), host)


def test_copy_path_is_for_gpus():
    with pytest.raises(ValueError, match="GPUs"):
        mc.cuda.copy_path("cpu", "cpu")


def test_peer_copy_switch_that_is_not_one_is_an_error():
    env = dict(os.environ, MANYCORE_PEER_COPY="sometimes")
    done = subprocess.run(
        [sys.executable, "-c", "import manycore as mc; mc.SourceModule('__global__ void k() {}', device='cpu')"],
        env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "MANYCORE_PEER_COPY='sometimes' is not a switch" in done.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not GPUS, reason="no GPU on this machine")
def test_a_stream_of_a_device_not_in_the_copy_is_refused():
    gpu = GPUS[0]
    d = mc.empty(16, np.float32, gpu)
    with pytest.raises(ValueError, match="a device involved"):
        mc.copy(d, np.zeros(16, np.float32), stream=mc.Stream("cpu"))


# ---- two GPUs ----------------------------------------------------------------------------------


@pytest.mark.gpu
@two_gpus
def test_arrays_and_modules_on_two_gpus_at_once():
    g0, g1 = GPUS[:2]
    src = "__global__ void twice(int n, float* x) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] *= 2; }"
    k0 = mc.SourceModule(src, device=g0).get_function("twice")
    k1 = mc.SourceModule(src, device=g1).get_function("twice")
    x = np.arange(1000, dtype=np.float32)
    a0, a1 = mc.to_device(x, g0), mc.to_device(x + 1, g1)
    assert a0.device == g0 and a1.device == g1
    k0(np.int32(1000), a0, grid=(4,), block=(256,))
    k1(np.int32(1000), a1, grid=(4,), block=(256,))
    np.testing.assert_array_equal(a0.get(), 2 * x)
    np.testing.assert_array_equal(a1.get(), 2 * (x + 1))
    np.testing.assert_array_equal((a1 + a1).get(), 4 * (x + 1))  # generated kernels on cuda:1
    assert float(a1.sum().get()) == float((2 * (x + 1)).sum())
    with pytest.raises(TypeError, match="different devices"):
        a0 + a1
    with pytest.raises(mc.ArgumentTypeError):
        k0(np.int32(1000), a1, grid=(4,), block=(256,))  # an array of another GPU


@pytest.mark.gpu
@two_gpus
@pytest.mark.parametrize("n", [1, 1000, ODD])
def test_to_between_two_gpus_takes_the_reported_path(n):
    g0, g1 = GPUS[:2]
    path = mc.cuda.copy_path(g1, g0)
    assert path in ("peer", "staged")
    assert mc.cuda.copy_path(g0, g0) == "device"
    x = np.random.default_rng(n).random(n).astype(np.float32)
    a = mc.to_device(x, g0)
    b = a.to(g1)
    assert b.device == g1
    np.testing.assert_array_equal(b.get(), x)
    c = mc.empty(n, np.float32, g0)
    assert mc.copy(c, b) == mc.cuda.copy_path(g0, g1)
    np.testing.assert_array_equal(c.get(), x)
    # Queued on a stream of either GPU (a staged copy has finished on return, a peer copy by the
    # stream's synchronize).
    for stream_device in (g0, g1):
        s = mc.Stream(stream_device)
        d = mc.zeros(n, np.float32, g1)
        assert mc.copy(d, a, stream=s) == path
        s.synchronize()
        np.testing.assert_array_equal(d.get(), x)


@pytest.mark.gpu
@two_gpus
def test_staged_path_when_peer_copies_are_switched_off():
    script = textwrap.dedent(f"""
        import numpy as np, manycore as mc
        g0, g1 = [d for d in mc.devices() if d.kind == "cuda"][:2]
        assert mc.cuda.copy_path(g1, g0) == "staged"
        x = np.random.default_rng(1).random({ODD}).astype(np.float32)
        a = mc.to_device(x, g0)
        k = mc.ElementwiseKernel("float *x", "x[i] = x[i] + 1")
        k(a)  # queued work the staged copy must come after
        b = mc.empty_like(a, device=g1)
        assert mc.copy(b, a) == "staged"
        assert np.array_equal(b.get(), x + 1)
        assert np.array_equal(b.to(g0).get(), x + 1)
        s = mc.Stream(g1)
        c = mc.empty_like(a, device=g1)
        assert mc.copy(c, a, stream=s) == "staged"
        assert np.array_equal(c.get(), x + 1)
        print("ok")
    """)
    env = dict(os.environ, MANYCORE_PEER_COPY="0")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout + done.stderr


@pytest.mark.gpu
@two_gpus
def test_streams_events_and_pools_are_per_device():
    g0, g1 = GPUS[:2]
    s0, s1 = mc.Stream(g0), mc.Stream(g1)
    assert s0.device == g0 and s1.device == g1
    e0, e1 = mc.Event(g0), mc.Event(g1)
    a = mc.zeros(1 << 20, np.float32, g1)
    e1.record(s1)
    a.fill(3.0)
    mc.ElementwiseKernel("float *x", "x[i] *= 2")(a, stream=s1)
    end1 = mc.Event(g1).record(s1)
    end1.synchronize()
    assert e1.elapsed_time(end1) >= 0
    e0.record(s0)
    s0.synchronize()
    assert float(a.max().get()) == 6.0
    p0, p1 = mc.cuda.memory_pool(g0), mc.cuda.memory_pool(g1)
    p0.free_all_blocks()
    used0 = p0.used_bytes()
    big = mc.empty(16 << 20, np.uint8, g1)
    assert p1.used_bytes() >= 16 << 20 and p0.used_bytes() == used0
    del big
    assert p1.free_blocks() >= 1 and p1.free_all_blocks() >= 16 << 20
    with pytest.raises(ValueError):
        e0.elapsed_time(end1)  # events of two devices

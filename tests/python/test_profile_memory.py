# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The memory profile: warp requests, sectors, bank-conflict passes and divergent branches,
against counts worked out by hand for each kernel (32-byte sectors, 32 banks of 4 bytes)."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc

SOURCE = r"""
__global__ void copy(int n, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i];
}
__global__ void stride2(int n, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[2 * i];
}
__global__ void gather(int n, const int* index, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[index[i]];
}
__global__ void transpose_tile(const float* in, float* out) {
    __shared__ float tile[32][32];
    int x = threadIdx.x, y = threadIdx.y;
    tile[y][x] = in[y * 32 + x];
    __syncthreads();
    out[y * 32 + x] = tile[x][y];
}
__global__ void transpose_padded(const float* in, float* out) {
    __shared__ float tile[32][33];
    int x = threadIdx.x, y = threadIdx.y;
    tile[y][x] = in[y * 32 + x];
    __syncthreads();
    out[y * 32 + x] = tile[x][y];
}
__global__ void broadcast(const float* in, float* out) {
    __shared__ float s[32];
    if (threadIdx.x < 32) s[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x] = s[0];
}
__global__ void branches(int* out) {
    int t = threadIdx.x;
    if (t % 2) out[t] = 1;
    else out[t] = 2;
    if (t / 32) out[t] += 10;
}
__global__ void triangle(const float* x, float* out) {
    float s = 0;
    for (int k = 0; k < (int)threadIdx.x; ++k)
        s += x[k * 32 + threadIdx.x];
    out[threadIdx.x] = s;
}
__global__ void wide(int n, const double* d, const float4* v, double* out_d, float4* out_v) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out_d[i] = d[i];
        out_v[i] = v[i];
    }
}
__global__ void shared_wide(double* out_d, float4* out_v) {
    __shared__ double sd[64];
    __shared__ float4 sv[64];
    int t = threadIdx.x;
    sd[t] = t;
    sv[t] = make_float4(t, t, t, t);
    __syncthreads();
    out_d[t] = sd[t];
    out_v[t] = sv[t];
}
__global__ void warp_sum(const float* x, float* out) {
    float v = x[blockIdx.x * blockDim.x + threadIdx.x];
    for (int offset = 16; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffff, v, offset);
    if (threadIdx.x % 32 == 0) out[(blockIdx.x * blockDim.x + threadIdx.x) / 32] = v;
}
__global__ void outside(const float* x, float* y) {
    y[threadIdx.x] = x[threadIdx.x + 16];
}
__global__ void pairs(const float2* f, const double2* d, float2* out_f, double2* out_d) {
    __shared__ float2 sf[64];
    __shared__ double2 sd[64];
    int t = threadIdx.x;
    sf[t] = f[t];
    sd[t] = d[t];
    __syncthreads();
    out_f[t] = sf[63 - t];
    out_d[t] = sd[63 - t];
}
"""


def line_of(text: str) -> int:
    """The line of SOURCE that holds ``text`` (as the profile numbers them, from 1)."""
    (number,) = [i for i, line in enumerate(SOURCE.splitlines(), 1) if text in line]
    return number


@pytest.fixture(scope="module")
def modules() -> dict:
    return {}


def kernel(device: mc.Device, modules: dict, name: str) -> mc.Function:
    key = str(device)
    if key not in modules:
        modules[key] = mc.SourceModule(SOURCE, device=device)
    return modules[key].get_function(name)


def on(device: mc.Device, a: np.ndarray) -> mc.Array:
    return mc.to_device(a, device)


def site(p: mc.tools.profile.Profile, kernel_name: str, variable: str, access: str):
    found = [s for s in p.sites(kernel_name) if s.variable == variable and s.access == access]
    assert len(found) == 1, p.sites(kernel_name)
    return found[0]


def test_coalesced_and_strided_float_loads(device, modules):
    n = 4096
    x = on(device, np.arange(2 * n, dtype=np.float32))
    y = mc.zeros(n, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "copy")(n, x, y, grid=n // 256, block=256)
        kernel(device, modules, "stride2")(n, x, y, grid=n // 256, block=256)
    requests = n // 32
    load = site(p, "copy", "x", "load")
    # 32 lanes x 4 bytes, consecutive: 128 bytes, 4 sectors, the fewest there can be.
    assert (load.requests, load.sectors, load.ideal_sectors) == (requests, 4 * requests, 4 * requests)
    assert load.sectors_per_request == 4.0 and load.efficiency == 1.0
    assert site(p, "copy", "y", "store").sectors == 4 * requests
    # Every other float: the warp's 32 floats spread over 256 bytes, 8 sectors.
    strided = site(p, "stride2", "x", "load")
    assert (strided.requests, strided.sectors, strided.ideal_sectors) == (requests, 8 * requests, 4 * requests)
    assert strided.efficiency == 0.5
    assert (y.get() == np.arange(0, 2 * n, 2, dtype=np.float32)).all()  # the launch ran


def test_gather_through_an_index_array(device, modules):
    n = 1024
    # Lane i reads x[8 i mod n]: every lane in a sector of its own.
    index = (8 * np.arange(n)) % n
    x = on(device, np.arange(n, dtype=np.float32))
    y = mc.zeros(n, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "gather")(n, on(device, index.astype(np.int32)), x, y,
                                          grid=n // 128, block=128)
    requests = n // 32
    assert site(p, "gather", "index", "load").sectors == 4 * requests
    gathered = site(p, "gather", "x", "load")
    assert (gathered.requests, gathered.sectors) == (requests, 32 * requests)
    assert (y.get() == index.astype(np.float32)).all()


def test_transposed_tile_read_conflicts_32_ways_and_padding_removes_them(device, modules):
    a = on(device, np.arange(1024, dtype=np.float32))
    out = mc.zeros(1024, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "transpose_tile")(a, out, grid=1, block=(32, 32))
        plain = out.get()
        kernel(device, modules, "transpose_padded")(a, out, grid=1, block=(32, 32))
    assert (plain == np.arange(1024).reshape(32, 32).T.ravel()).all()
    # The write tile[y][x]: a warp is one row y, lanes x at consecutive words: one pass.
    write = site(p, "transpose_tile", "tile", "store")
    assert (write.requests, write.wavefronts, write.max_ways) == (32, 32, 1)
    # The read tile[x][y]: lane x at word 32 x + y, all in bank y: 32 passes per request.
    read = site(p, "transpose_tile", "tile", "load")
    assert (read.requests, read.wavefronts, read.ideal_wavefronts) == (32, 32 * 32, 32)
    assert read.max_ways == 32 and read.conflicted == 32 and read.bank_conflicts == 31 * 32
    # Padded to 33 columns: lane x at word 33 x + y, bank (x + y) mod 32: all different.
    padded = site(p, "transpose_padded", "tile", "load")
    assert (padded.wavefronts, padded.max_ways, padded.conflicted) == (32, 1, 0)


def test_broadcast_read_is_one_pass(device, modules):
    out = mc.zeros(128, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "broadcast")(on(device, np.arange(32, dtype=np.float32) + 5),
                                             out, grid=1, block=128)
    read = site(p, "broadcast", "s", "load")
    assert (read.requests, read.wavefronts, read.max_ways) == (4, 4, 1)
    assert (out.get() == 5).all()


def test_branch_divergence_on_odd_lanes_and_none_on_warps(device, modules):
    out = mc.zeros(64, np.int32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "branches")(out, grid=1, block=64)
    by_line = {b.line: b for b in p.branches("branches")}
    odd, warp = by_line[line_of("if (t % 2)")], by_line[line_of("if (t / 32)")]
    # threadIdx.x % 2: in each of the 2 warps, 16 lanes go each way.
    assert (odd.warp_steps, odd.divergent, odd.evaluations, odd.taken) == (2, 2, 64, 32)
    assert odd.divergence == 1.0
    # threadIdx.x / 32: the same way for all 32 lanes of a warp.
    assert (warp.warp_steps, warp.divergent, warp.taken) == (2, 0, 32)
    assert (out.get() == np.where(np.arange(64) % 2, 1, 2) + np.where(np.arange(64) >= 32, 10, 0)).all()


def test_loop_with_a_trip_count_per_lane(device, modules):
    x = on(device, np.ones(32 * 32, np.float32))
    out = mc.zeros(32, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "triangle")(x, out, grid=1, block=32)
    assert (out.get() == np.arange(32)).all()
    # Lane l runs the loop l times; the k-th request has lanes k+1..31 reading x[32 k + l].
    load = site(p, "triangle", "x", "load")
    expected = sum(len({(32 * k + lane) * 4 // 32 for lane in range(k + 1, 32)}) for k in range(31))
    assert (load.requests, load.accesses, load.sectors) == (31, sum(range(32)), expected)
    # Its condition: step n has lanes n..31; lane n leaves (false), the rest stay, so every
    # step diverges but the last, where lane 31 alone leaves.
    (loop,) = [b for b in p.branches("triangle")]
    assert (loop.warp_steps, loop.divergent, loop.evaluations, loop.taken) == (32, 31, 32 + 496, 496)


def test_eight_and_sixteen_byte_accesses(device, modules):
    n = 256
    d = on(device, np.arange(n, dtype=np.float64))
    v = on(device, np.arange(4 * n, dtype=np.float32))
    out_d = mc.zeros(n, np.float64, device=device)
    out_v = mc.zeros(4 * n, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "wide")(n, d, v, out_d, out_v, grid=n // 64, block=64)
        kernel(device, modules, "shared_wide")(out_d, out_v, grid=1, block=64)
    requests = n // 32
    # 32 doubles: 256 bytes, 8 sectors; 32 float4: 512 bytes, 16 sectors.
    assert site(p, "wide", "d", "load").sectors == 8 * requests
    assert site(p, "wide", "v", "load").sectors == 16 * requests
    # Shared: 8-byte accesses go a half-warp a pass, 16-byte ones a quarter: 2 and 4 passes,
    # the fewest for those widths.
    sd = site(p, "shared_wide", "sd", "load")
    sv = site(p, "shared_wide", "sv", "load")
    assert (sd.requests, sd.wavefronts, sd.ideal_wavefronts) == (2, 4, 4)
    assert (sv.requests, sv.wavefronts, sv.ideal_wavefronts) == (2, 8, 8)
    assert (out_d.get()[:64] == np.arange(64)).all()


def test_float2_and_double2_follow_their_widths(device, modules):
    f = on(device, np.arange(128, dtype=np.float32))
    d = on(device, np.arange(128, dtype=np.float64))
    out_f = mc.zeros(128, np.float32, device=device)
    out_d = mc.zeros(128, np.float64, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "pairs")(f, d, out_f, out_d, grid=1, block=64)
    # 2 warps. Global: 32 float2 are 256 bytes, 8 sectors; 32 double2 are 512 bytes, 16.
    load = site(p, "pairs", "f", "load")
    assert (load.requests, load.sectors, load.ideal_sectors) == (2, 2 * 8, 2 * 8)
    assert site(p, "pairs", "d", "load").sectors == 2 * 16
    assert site(p, "pairs", "out_d", "store").ideal_sectors == 2 * 16
    # Shared: a float2 is served a half-warp a pass (2 passes), a double2 a quarter-warp (4),
    # reversed order or not: consecutive elements never share a bank within a pass.
    for variable, passes in (("sf", 2), ("sd", 4)):
        for access in ("store", "load"):
            s = site(p, "pairs", variable, access)
            assert (s.requests, s.wavefronts, s.ideal_wavefronts, s.max_ways) == (2, 2 * passes, 2 * passes, 1)
    pairs_f = np.arange(128, dtype=np.float32).reshape(64, 2)[::-1].ravel()
    assert (out_f.get() == pairs_f).all()
    assert (out_d.get() == np.arange(128, dtype=np.float64).reshape(64, 2)[::-1].ravel()).all()


def test_warp_intrinsics_and_many_blocks(device, modules):
    blocks, threads = 64, 128  # enough blocks to run as several lanes on the pool
    x = on(device, np.ones(blocks * threads, np.float32))
    out = mc.zeros(blocks * threads // 32, np.float32, device=device)
    with mc.profile(memory=True) as p:
        kernel(device, modules, "warp_sum")(x, out, grid=blocks, block=threads)
    assert (out.get() == 32).all()
    load = site(p, "warp_sum", "x", "load")
    assert (load.requests, load.sectors) == (blocks * threads // 32, 4 * blocks * threads // 32)
    # One lane a warp stores: 1 sector each; its branch diverges in every warp.
    store = site(p, "warp_sum", "out", "store")
    assert (store.requests, store.accesses, store.sectors) == (blocks * 4, blocks * 4, blocks * 4)
    by_line = {b.line: b for b in p.branches("warp_sum")}
    assert by_line[line_of("if (threadIdx.x % 32 == 0)")].divergent == blocks * 4
    loop = by_line[line_of("for (int offset = 16")]
    assert (loop.warp_steps, loop.divergent) == (blocks * 4 * 6, 0)


def test_counts_are_the_same_under_every_cpu_scheme(cpu):
    # The plain run of a barrier kernel is loop fission or fibers, of the others a loop; the
    # profile's counts and the launch's results must not depend on which.
    def profiled(scheme: str) -> tuple:
        previous = mc.cpu_scheme()
        mc.set_cpu_scheme(scheme)
        try:
            module = mc.SourceModule(SOURCE, device=cpu)
        finally:
            mc.set_cpu_scheme(previous)
        tile, copy = module.get_function("transpose_tile"), module.get_function("copy")
        a = np.arange(1024, dtype=np.float32)
        out, y = np.zeros(1024, np.float32), np.zeros(1024, np.float32)
        with mc.profile(memory=True) as p:
            for _ in range(2):  # instrumented, then plain
                out[:] = 0
                tile(a, out, grid=1, block=(32, 32))
                assert (out == a.reshape(32, 32).T.ravel()).all()
            copy(1024, a, y, grid=4, block=256)
        assert [launch.instrumented for launch in p.launches] == [True, False, True]
        assert (y == a).all()
        counts = [(s.line, s.variable, s.access, s.requests, s.sectors, s.wavefronts, s.max_ways)
                  for name in ("transpose_tile", "copy") for s in p.sites(name)]
        branches = [(b.line, b.warp_steps, b.divergent) for b in p.branches("copy")]
        return tile.execution_mode, copy.execution_mode, sorted(counts), branches

    fission = profiled("auto")
    fibers = profiled("fibers")
    assert fission[:2] == ("fission", "loop") and fibers[:2] == ("fibers", "loop")
    assert fission[2] == fibers[2] and fission[3] == fibers[3]
    # requests, wavefronts and the worst conflict of the transposed read, as worked out above
    read = [(c[3], c[5], c[6]) for c in fission[2] if c[1] == "tile" and c[2] == "load"]
    assert read == [(32, 32 * 32, 32)]


def test_accesses_outside_an_array_are_counted_not_made(cpu, modules):
    x = np.arange(32, dtype=np.float32)
    y = np.zeros(32, np.float32)
    with mc.profile(memory=True) as p:
        kernel(cpu, modules, "outside")(x, y, grid=1, block=32)
    assert p.memory_summary("outside")["out_of_bounds"] == 16
    assert (y[:16] == x[16:]).all() and (y[16:] == 0).all()
    assert site(p, "outside", "x", "load").accesses == 16


def test_later_launches_of_a_shape_are_timed_plainly_and_share_its_counts(cpu, modules):
    n = 1024
    x = np.ones(n, np.float32)
    y = np.zeros(n, np.float32)
    with mc.profile(memory=True) as p:
        for _ in range(3):
            kernel(cpu, modules, "copy")(n, x, y, grid=n // 256, block=256)
        kernel(cpu, modules, "copy")(n, x, y, grid=n // 128, block=128)
    launches = p.launches
    assert [launch.instrumented for launch in launches] == [True, False, False, True]
    assert launches[1].memory is launches[0].memory is launches[2].memory
    assert launches[3].memory is not launches[0].memory
    assert launches[1].bytes_source == "measured" and launches[1].bytes == 2 * 4 * n
    # Two shapes, added up: 32 + 32 requests.
    assert site(p, "copy", "x", "load").requests == 2 * n // 32


def test_kernel_that_does_not_build_instrumented_gets_a_note(cpu):
    # A checked pointer cannot become a reference: checked mode (and so the profile) refuses.
    src = "__global__ void k(float* x) { float& r = x[threadIdx.x]; r = 1; }"
    f = mc.SourceModule(src, device=cpu).get_function("k")
    x = np.zeros(32, np.float32)
    with mc.profile(memory=True) as p:
        f(x, grid=1, block=32)
    (launch,) = p.launches
    assert not launch.instrumented and launch.memory is None
    assert "does not build for the memory profile" in launch.note
    assert (x == 1).all()  # it ran plainly
    assert "no memory profile" in p.report()


def test_sites_need_a_memory_profile_and_a_known_kernel(cpu, modules):
    x = np.ones(256, np.float32)
    y = np.zeros(256, np.float32)
    with mc.profile() as p:
        kernel(cpu, modules, "copy")(256, x, y, grid=1, block=256)
    with pytest.raises(ValueError, match="memory=True"):
        p.sites("copy")
    with pytest.raises(KeyError, match="kernels recorded: copy"):
        p.sites("nope")


def test_report_lists_sites_and_marks_costly_lines(cpu, modules):
    a = np.arange(1024, dtype=np.float32)
    out = np.zeros(1024, np.float32)
    ways = np.zeros(64, np.int32)
    with mc.profile(memory=True) as p:
        kernel(cpu, modules, "transpose_tile")(a, out, grid=1, block=(32, 32))
        kernel(cpu, modules, "branches")(ways, grid=1, block=64)
    text = p.report()
    assert "kernel 'transpose_tile'" in text and "32-way" in text
    listing = p.listing("transpose_tile")
    marked = [line for line in listing.splitlines() if line.lstrip().startswith(">")]
    assert len(marked) == 1 and "out[y * 32 + x] = tile[x][y];" in marked[0]
    assert "32.0 passes/request" in marked[0]
    # The kernel's own lines only: not the rest of the module.
    assert "void transpose_tile" in listing and "void copy" not in listing
    branch_marks = [line for line in p.listing("branches").splitlines()
                    if line.lstrip().startswith(">")]
    # The odd lanes' stores and the even lanes' ones each fill half of 4 sectors.
    assert len(branch_marks) == 2 and "if (t % 2)" in branch_marks[0]
    assert "branch diverges in 100% of warp steps" in branch_marks[0]
    assert "4.0 sectors/request, fewest 2.0" in branch_marks[1]
    data = p.to_dict()
    summary = data["memory"]["transpose_tile"]["summary"]
    assert summary["shared_loads"]["wavefronts"] == 1024
    assert summary["global_loads"]["sectors_per_request"] == 4.0


def test_a_checked_module_runs_checked_not_instrumented(cpu):
    src = "__global__ void racy(int* x) { x[0] = threadIdx.x; }"
    f = mc.SourceModule(src, device=cpu, checked=True).get_function("racy")
    one, many = np.zeros(1, np.int32), np.zeros(32, np.int32)
    with mc.profile(memory=True) as p, pytest.raises(mc.KernelFault, match="race"):
        f(one, grid=1, block=32)
    with mc.profile(memory=True) as p:
        mc.SourceModule(src.replace("x[0]", "x[threadIdx.x]"), device=cpu,
                        checked=True).get_function("racy")(many, grid=1, block=32)
    (launch,) = p.launches
    assert not launch.instrumented and "a checked module runs checked" in launch.note

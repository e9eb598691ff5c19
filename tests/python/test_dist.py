# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore.dist under MPI: collectives, CartGrid, halo exchange, scatter/gather, heat2d.

Run by test_dist_launch.py as ``manycore run -n N -m pytest --with-mpi -m mpi`` for N = 1..4;
every test runs on both paths (the C++ room where it is compiled in, and pure mpi4py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import manycore as mc

pytestmark = pytest.mark.mpi

DTYPES = [np.int32, np.int64, np.uint8, np.float32, np.float64, np.complex128]


@pytest.fixture(params=["native", "mpi4py"])
def path(request: pytest.FixtureRequest):
    from manycore.dist import _mpi

    if request.param == "native" and not _mpi.native():
        pytest.skip("manycore was built without its MPI room (no MPI or mpi4py at build time)")
    saved = _mpi.use_native
    _mpi.use_native = request.param == "native"
    yield request.param
    _mpi.use_native = saved


@pytest.fixture
def comm(path):
    from manycore import dist

    return dist.Comm()


GPU = [d for d in mc.devices() if d.kind == "cuda"]
KINDS = ["numpy", "mc", pytest.param("cuda", marks=pytest.mark.gpu)]


def _rank_gpu() -> mc.Device:
    """This rank's GPU: its default device (with several GPUs, the one of its node-local rank)."""
    d = mc.default_device()
    return d if d.kind == "cuda" else GPU[0]


def _kind(x, kind):
    if kind == "cuda":
        if not GPU:
            pytest.skip("no GPU on this machine")
        return mc.to_device(x, _rank_gpu())
    return mc.to_device(x, "cpu") if kind == "mc" else x


def _np(x):
    return x.get() if isinstance(x, mc.Array) else x


def _data(rank: int, n: int, dtype) -> np.ndarray:
    base = (np.arange(n) % 5 + 1 + rank).astype(dtype)
    if np.dtype(dtype).kind == "c":
        base = base + 1j * rank
    return base


def test_world_is_a_private_duplicate():
    from mpi4py import MPI

    from manycore import dist

    w = dist.world()
    assert w is dist.world()
    assert (w.rank, w.size) == (MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size())
    assert MPI.Comm.Compare(w.mpi4py, MPI.COMM_WORLD) == MPI.CONGRUENT
    w.barrier()
    half = dist.Comm(MPI.COMM_WORLD.Split(w.rank % 2, w.rank))
    assert half.size == len(range(w.rank % 2, w.size, 2))
    assert isinstance(dist.cuda_aware(), bool)


def test_each_rank_knows_its_place_on_the_node():
    """All ranks of these runs share one node: the node-local rank is the world rank, and with
    GPUs the default device spreads the ranks over them."""
    from manycore import dist

    w = dist.world()
    assert mc._core.node_local_rank() == w.rank
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if gpus and not os.environ.get("MANYCORE_DEVICE"):
        assert mc.default_device() == gpus[w.rank % len(gpus)]


@pytest.mark.gpu
def test_one_rank_per_gpu():
    """With a GPU for every rank, each rank's default device is a GPU of its own: arrays made
    there say so, and a collective over them adds up what every GPU holds."""
    from manycore import dist

    w = dist.world()
    if len(GPU) < w.size or os.environ.get("MANYCORE_DEVICE"):
        pytest.skip(f"needs a GPU for each of the {w.size} ranks (this machine has {len(GPU)}) and "
                    "MANYCORE_DEVICE unset")
    dev = mc.default_device()
    assert dev == GPU[w.rank]
    a = mc.full(5, float(w.rank + 1))
    assert a.device == dev
    owners = w.allgather(np.array([dev.index], np.int64))
    assert sorted(owners[:, 0].tolist()) == list(range(w.size))
    total = w.allreduce(a, op="sum")
    assert total.device == dev
    np.testing.assert_array_equal(total.get(), np.full(5, w.size * (w.size + 1) / 2))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_allreduce_every_op(comm, kind, dtype):
    n = 7
    x = _data(comm.rank, n, dtype)
    everyone = [_data(r, n, dtype) for r in range(comm.size)]
    ops = {"sum": np.sum, "prod": np.prod, "min": np.min, "max": np.max}
    for op, f in ops.items():
        if np.dtype(dtype).kind == "c" and op in ("min", "max"):
            continue
        got = comm.allreduce(_kind(x, kind), op=op)
        assert type(got) is type(_kind(x, kind))
        want = f(np.stack(everyone), axis=0).astype(dtype)
        np.testing.assert_array_equal(_np(got), want)
    # In place, with out= the input itself.
    y = _kind(x.copy(), kind)
    assert comm.allreduce(y, op="sum", out=y) is y
    np.testing.assert_array_equal(_np(y), np.sum(np.stack(everyone), axis=0).astype(dtype))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.int16, np.float64, np.complex64])
def test_reduce_bcast_gathers_scatter_alltoall_sendrecv(comm, kind, dtype):
    r, p = comm.rank, comm.size
    root = p - 1
    x = _data(r, 5, dtype)
    got = comm.reduce(_kind(x, kind), op="sum", root=root)
    if r == root:
        np.testing.assert_array_equal(_np(got), np.sum([_data(k, 5, dtype) for k in range(p)], axis=0).astype(dtype))
    else:
        assert got is None

    b = _kind(_data(r, 3, dtype), kind)
    got = comm.bcast(b, root=0)
    np.testing.assert_array_equal(_np(got), _data(0, 3, dtype))
    comm.bcast(b, root=root, out=b)
    np.testing.assert_array_equal(_np(b), _data(root, 3, dtype))

    every = np.stack([_data(k, 5, dtype) for k in range(p)])
    np.testing.assert_array_equal(_np(comm.allgather(_kind(x, kind))), every)
    out = _kind(np.zeros((p, 5), dtype), kind)
    assert comm.allgather(_kind(x, kind), out=out) is out
    np.testing.assert_array_equal(_np(out), every)
    g = comm.gather(_kind(x, kind), root=root)
    if r == root:
        np.testing.assert_array_equal(_np(g), every)
    else:
        assert g is None

    parts = _kind(every * 2, kind) if r == 0 else None
    mine = comm.scatter(parts, root=0)
    assert isinstance(mine, mc.Array) == (kind != "numpy")
    np.testing.assert_array_equal(_np(mine), _data(r, 5, dtype) * 2)

    send = _kind(np.array([[10 * r + j] * 3 for j in range(p)], dtype), kind)
    recv = comm.alltoall(send)
    np.testing.assert_array_equal(_np(recv), np.array([[10 * k + r] * 3 for k in range(p)], dtype))

    right, left = (r + 1) % p, (r - 1) % p
    got = comm.sendrecv(_kind(_data(r, 4, dtype), kind), dest=right, source=left)
    np.testing.assert_array_equal(_np(got), _data(left, 4, dtype))


def test_records_and_bools_move_but_do_not_reduce(comm):
    rec = np.zeros(3, dtype=[("a", np.int32), ("b", np.float64)])
    rec["a"] = comm.rank
    got = comm.allgather(rec)
    assert got.shape == (comm.size, 3) and list(got["a"][:, 0]) == list(range(comm.size))
    flags = np.array([comm.rank % 2 == 0, True])
    np.testing.assert_array_equal(comm.bcast(flags, root=0), [True, True])
    with pytest.raises(mc.InvalidArgument, match="cannot reduce"):
        comm.allreduce(rec)


def test_bad_arguments_are_errors_before_any_message(comm):
    x = np.ones(4)
    with pytest.raises(ValueError, match="op='mean'"):
        comm.allreduce(x, op="mean")
    with pytest.raises(mc.InvalidArgument, match="shape"):
        comm.allreduce(x, out=np.ones(3))
    with pytest.raises(mc.InvalidArgument, match="dtype"):
        comm.allreduce(x, out=np.ones(4, np.float32))
    with pytest.raises(mc.InvalidArgument, match="root=99"):
        comm.bcast(x, root=99)
    with pytest.raises(TypeError, match="numpy.ndarray or manycore.Array"):
        comm.allreduce([1.0, 2.0])
    comm.barrier()  # every rank is still in step


def test_strided_views_in_contiguous_out(comm):
    base = mc.to_device(np.arange(10.0) + comm.rank, "cpu")
    view = base._view(8, [4], [16])  # elements 1, 3, 5, 7
    got = comm.allreduce(view, op="max")
    np.testing.assert_array_equal(_np(got), np.array([1.0, 3.0, 5.0, 7.0]) + comm.size - 1)
    with pytest.raises(mc.InvalidArgument, match="contiguous"):
        comm.allreduce(np.ones(4), out=base._view(0, [4], [16]))
    comm.barrier()


def test_mpi_failures_are_mpi_errors(comm):
    from mpi4py import MPI

    from manycore.errors import MpiError

    for x in (np.ones(3), mc.to_device(np.ones(3), "cpu")):
        with pytest.raises(MpiError, match="(?i)sendrecv.*rank") as e:
            comm.sendrecv(x, dest=comm.size + 5)  # no such rank: MPI says so, locally
        assert isinstance(e.value, RuntimeError) and isinstance(e.value, mc.Error)
        assert e.value.error_class == MPI.ERR_RANK and e.value.error_string
    comm.barrier()


# ---- decomposition and halo exchange -----------------------------------------------------------


def _expected_local(G, grid, u, corners):
    """What u.local must hold after exchange_halos(corners) when the halo started at 0."""
    nd, h = grid.ndim, u.halo
    padded = u.local.shape[:nd]
    idx = np.indices(padded)
    outside = np.zeros(padded, int)
    exists = np.ones(padded, bool)
    gidx = []
    for d in range(nd):
        gd = u.offset[d] + idx[d] - h
        outside += (idx[d] < h) | (idx[d] >= h + u.shape[d])
        if grid.periodic[d]:
            gd = gd % G.shape[d]
        else:
            exists &= (gd >= 0) & (gd < G.shape[d])
            gd = np.clip(gd, 0, G.shape[d] - 1)
        gidx.append(gd)
    filled = (outside == 0) | (exists & ((outside == 1) | corners))
    values = G[tuple(gidx)]
    mask = filled.reshape(filled.shape + (1,) * (G.ndim - nd))
    return np.where(mask, values, 0)


CASES = [
    (1, (13,), 1),
    (1, (11, 2), 2),
    (2, (7, 9), 1),
    (2, (10, 5, 3), 1),
    (3, (5, 6, 7), 1),
]


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("corners", [False, True])
@pytest.mark.parametrize("ndim,shape,halo", CASES)
def test_halo_exchange(path, ndim, shape, halo, periodic, corners):
    from manycore import dist

    grid = dist.CartGrid(dist.world(), ndim=ndim, periodic=periodic)
    G = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape)
    u = grid.scatter(G if grid.rank == 0 else None, halo=halo)
    assert u.shape == grid.local_shape(shape) and u.offset == grid.local_offset(shape)
    assert isinstance(u.interior, mc.Array) and u.interior.shape == u.shape
    np.testing.assert_array_equal(np.asarray(u.interior), G[tuple(slice(o, o + n) for o, n in zip(u.offset, u.shape))])
    assert u.exchange_halos(corners=corners) is None
    np.testing.assert_array_equal(np.asarray(u.local), _expected_local(G, grid, u, corners))


@pytest.mark.parametrize("corners", [False, True])
def test_split_exchange_overlaps_and_repeats(path, corners):
    from manycore import dist

    grid = dist.CartGrid(dist.world(), ndim=2, periodic=[True, False])
    G = np.arange(1, 11 * 6 + 1, dtype=np.int64).reshape(11, 6)
    # On the CPU, where NumPy views of the blocks write through (the halo tests of GPU arrays
    # are the `kind` cases above).
    u = grid.scatter(G if grid.rank == 0 else None, device="cpu")
    v = grid.zeros((11, 6), np.int64, device="cpu")
    np.asarray(v.interior)[...] = -np.asarray(u.interior)
    hu = u.exchange_halos(corners=corners, wait=False)
    hv = v.exchange_halos(corners=corners, wait=False)  # two arrays in flight on one grid
    with pytest.raises(mc.InvalidArgument, match="not waited"):
        u.exchange_halos(corners=corners, wait=False)
    inner = np.asarray(u.interior).sum()  # computation while the messages fly
    hv.wait()
    hu.wait()
    with pytest.raises(mc.InvalidArgument, match="without a started exchange"):
        hu.wait()
    assert inner == np.asarray(u.interior).sum()
    want = _expected_local(G, grid, u, corners)
    np.testing.assert_array_equal(np.asarray(u.local), want)
    np.testing.assert_array_equal(np.asarray(v.local), -want)
    u.exchange_halos(corners=corners)  # the plan is reused
    np.testing.assert_array_equal(np.asarray(u.local), want)


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.complex128])
def test_scatter_gather_round_trip_uneven(path, dtype):
    from manycore import dist

    w = dist.world()
    grid = dist.CartGrid(w, ndim=2, dims=[w.size, 1])
    G = (np.arange(17 * 5 * 3) % 97).astype(dtype).reshape(17, 5, 3)
    u = grid.scatter(G if w.rank == 0 else None, halo=2, root=0)
    back = grid.gather(u, root=w.size - 1)
    if w.rank == w.size - 1:
        assert back.dtype == G.dtype
        np.testing.assert_array_equal(back, G)
    else:
        assert back is None
    z = grid.zeros((9, 4), dtype, halo=1)
    assert np.asarray(z.local).shape == (z.shape[0] + 2, 4 + 2)
    total = w.allreduce(np.array([z.shape[0]]))
    assert total[0] == 9


def test_grid_arguments(path):
    from manycore import dist

    w = dist.world()
    grid = dist.CartGrid(w, ndim=3)
    assert int(np.prod(grid.dims)) == w.size and len(grid.coords) == 3
    with pytest.raises(ValueError, match="ndim=4"):
        dist.CartGrid(w, ndim=4)
    with pytest.raises(ValueError, match="cannot arrange"):
        dist.CartGrid(w, ndim=2, dims=[w.size + 1, 1])
    small = dist.CartGrid(w, ndim=1, dims=[w.size])
    if w.size > 1:
        with pytest.raises(ValueError, match="fewer than halo=3"):
            small.zeros((w.size * 2,), halo=3)
    assert small.neighbour([-1]) == (None if w.rank == 0 else w.rank - 1)


# ---- the worked example -------------------------------------------------------------------------


@pytest.mark.parametrize("overlap", [False, True])
def test_heat2d_is_bitwise_serial(path, overlap):
    from manycore import dist
    from manycore.dist.examples import heat2d

    w = dist.world()
    grid = dist.CartGrid(w, ndim=2)
    u0 = heat2d.initial(23, 17)
    solver = heat2d.Heat2D(grid, u0 if w.rank == 0 else None)
    residuals = solver.run(15, overlap=overlap)
    u = solver.gather(root=0)
    ref, ref_res = heat2d.serial(u0, 15)
    assert residuals == ref_res  # every rank holds the global residual
    if w.rank == 0:
        assert np.array_equal(u.view(np.uint64), ref.view(np.uint64))


@pytest.mark.gpu
@pytest.mark.parametrize("corners", [False, True])
def test_halo_exchange_and_heat2d_on_a_gpu(path, corners):
    if not GPU:
        pytest.skip("no GPU on this machine")
    from manycore import dist
    from manycore.dist.examples import heat2d

    grid = dist.CartGrid(dist.world(), ndim=2, periodic=True)
    G = np.arange(1, 9 * 10 + 1, dtype=np.float64).reshape(9, 10)
    u = grid.scatter(G if grid.rank == 0 else None, device=_rank_gpu())
    assert u.local.device.kind == "cuda"
    h = u.exchange_halos(corners=corners, wait=False)
    h.wait()
    np.testing.assert_array_equal(u.local.get(), _expected_local(G, grid, u, corners))
    back = grid.gather(u)
    if grid.rank == 0:
        np.testing.assert_array_equal(back, G)
    u0 = heat2d.initial(21, 18)
    solver = heat2d.Heat2D(dist.CartGrid(dist.world(), ndim=2), u0 if grid.rank == 0 else None, device=_rank_gpu())
    residuals = solver.run(5, overlap=corners)
    ref, ref_res = heat2d.serial(u0, 5)
    assert residuals == ref_res
    out = solver.gather()
    if grid.rank == 0:
        assert np.array_equal(out.view(np.uint64), ref.view(np.uint64))

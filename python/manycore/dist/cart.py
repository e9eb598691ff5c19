# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Domain decomposition: a Cartesian grid of ranks, distributed arrays with halos, and the halo
exchange (one nonblocking message per neighbour, so computation can overlap it).

Blocks are split as evenly as possible: along a dimension of ``n`` cells over ``p`` ranks the
first ``n % p`` ranks get one cell more. Dimensions of an array beyond the grid's are kept
whole on every rank and have no halo.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import _core
from .._arrays import zeros
from .._core import Array
from ..errors import InvalidArgument
from . import _mpi
from .comm import Comm

__all__ = ["CartGrid", "DistArray", "HaloExchange"]

# Tags: a direction's code (< 27) plus a multiple of 27 per distributed array, so exchanges of
# several arrays on one grid in flight together never match each other's messages.
_DIRECTIONS = 27
_TAG_SLOTS = 1000


def block_extent(n: int, parts: int, coord: int) -> int:
    """Cells of the block ``coord`` of a dimension of ``n`` cells split over ``parts`` ranks."""
    return n // parts + (1 if coord < n % parts else 0)


def block_start(n: int, parts: int, coord: int) -> int:
    """Global index of the first cell of block ``coord``."""
    return coord * (n // parts) + min(coord, n % parts)


class CartGrid:
    """The ranks of ``comm`` (a manycore.dist.Comm, an mpi4py communicator, or None for the
    world) arranged in an ``ndim``-dimensional grid (1 to 3). ``dims`` defaults to
    MPI_Dims_create's choice; ``periodic`` is one flag or one per dimension. Ranks keep their
    numbers (no reordering). Creating a grid is collective."""

    def __init__(self, comm: Any = None, ndim: int = 2, dims: Any = None, periodic: Any = False) -> None:
        mpi = _mpi.MPI()
        # No duplicate needed: the grid's communicator is a new one (MPI_Cart_create).
        base = comm if isinstance(comm, Comm) else Comm(comm, duplicate=False)
        if ndim not in (1, 2, 3):
            raise InvalidArgument(f"CartGrid: ndim={ndim}; 1, 2 or 3 dimensions")
        requested = [0] * ndim if dims is None else [int(d) for d in dims]
        if len(requested) != ndim:
            raise InvalidArgument(f"CartGrid: dims={tuple(requested)} has {len(requested)} entries for ndim={ndim}")
        fixed = int(np.prod([d for d in requested if d > 0])) if any(requested) else 1
        if any(d < 0 for d in requested) or (
            base.size % fixed != 0 if 0 in requested else fixed != base.size
        ):
            raise InvalidArgument(
                f"CartGrid: dims={tuple(requested)} cannot arrange {base.size} ranks; their "
                f"product must be {base.size} (0 entries are chosen for you)"
            )
        self.dims: tuple[int, ...] = tuple(mpi.Compute_dims(base.size, requested))
        flags = [bool(periodic)] * ndim if np.ndim(periodic) == 0 else [bool(p) for p in periodic]
        if len(flags) != ndim:
            raise InvalidArgument(f"CartGrid: periodic needs one flag or {ndim}, got {len(flags)}")
        self.periodic: tuple[bool, ...] = tuple(flags)
        self.ndim = ndim
        with _mpi.operation(f"CartGrid(dims={self.dims}) creation"):
            cart = base.mpi4py.Create_cart(list(self.dims), periods=flags, reorder=False)
        self.comm = Comm(cart, duplicate=False)
        self.rank = self.comm.rank
        self.size = self.comm.size
        self.coords: tuple[int, ...] = tuple(cart.Get_coords(self.rank))
        self._all_coords = [tuple(cart.Get_coords(r)) for r in range(self.size)]
        self._native: Any = None
        if _mpi.native():
            self._native = _core.MpiCartGrid(base.mpi4py, ndim, list(self.dims), flags)
        self._serial = 0

    def __repr__(self) -> str:
        return f"<manycore.dist.CartGrid dims={self.dims} periodic={self.periodic} rank {self.rank} at {self.coords}>"

    def neighbour(self, offset: Any) -> int | None:
        """The rank at ``offset`` (each entry -1, 0 or 1) from this one; None past a
        non-periodic edge."""
        c = []
        for d, (x, o) in enumerate(zip(self.coords, offset)):
            y = x + int(o)
            if not 0 <= y < self.dims[d]:
                if not self.periodic[d]:
                    return None
                y %= self.dims[d]
            c.append(y)
        return int(self.comm.mpi4py.Get_cart_rank(c))

    def _check_shape(self, global_shape: Any) -> tuple[int, ...]:
        shape = (int(global_shape),) if np.ndim(global_shape) == 0 else tuple(int(s) for s in global_shape)
        if len(shape) < self.ndim:
            raise InvalidArgument(f"CartGrid: a {len(shape)}-d array cannot be split over a {self.ndim}-d grid")
        return shape

    def local_shape(self, global_shape: Any, coords: Any = None) -> tuple[int, ...]:
        """The interior shape of the block of ``coords`` (default: this rank's)."""
        shape = self._check_shape(global_shape)
        coords = self.coords if coords is None else coords
        head = tuple(block_extent(shape[d], self.dims[d], coords[d]) for d in range(self.ndim))
        return head + shape[self.ndim:]

    def local_offset(self, global_shape: Any, coords: Any = None) -> tuple[int, ...]:
        """The global index of the first interior cell of the block of ``coords``."""
        shape = self._check_shape(global_shape)
        coords = self.coords if coords is None else coords
        head = tuple(block_start(shape[d], self.dims[d], coords[d]) for d in range(self.ndim))
        return head + (0,) * (len(shape) - self.ndim)

    def _block_slices(self, global_shape: tuple[int, ...], rank: int) -> tuple[slice, ...]:
        c = self._all_coords[rank]
        o = self.local_offset(global_shape, c)
        n = self.local_shape(global_shape, c)
        return tuple(slice(a, a + b) for a, b in zip(o, n))

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def zeros(self, global_shape: Any, dtype: Any = np.float64, halo: int = 1, device: Any = None) -> DistArray:
        """A zero-filled distributed array of ``global_shape`` with ``halo`` cells on each side
        of each grid dimension, on ``device`` (default device if None). Collective."""
        shape = self._check_shape(global_shape)
        return DistArray(self, shape, np.dtype(dtype), int(halo), device)

    def scatter(self, global_array: Any, halo: int = 1, root: int = 0, device: Any = None) -> DistArray:
        """A distributed array holding ``global_array`` (read on ``root`` only: other ranks
        may pass None). Collective; halos start at zero (call exchange_halos())."""
        self.comm._root(root, "CartGrid.scatter")
        mpi = _mpi.MPI()
        is_root = self.rank == root
        host = None
        meta = None
        if is_root:
            if global_array is None:
                raise InvalidArgument("CartGrid.scatter: the root must pass the global array")
            host = global_array.get() if isinstance(global_array, Array) else np.ascontiguousarray(global_array)
            meta = (host.shape, host.dtype.str)
        with _mpi.operation("CartGrid.scatter (shape)"):
            shape, dtype = self.comm.mpi4py.bcast(meta, root=root)
        dtype = np.dtype(dtype)
        u = DistArray(self, self._check_shape(shape), dtype, int(halo), device)
        counts = [int(np.prod(self.local_shape(shape, c))) * dtype.itemsize for c in self._all_coords]
        displs = [int(x) for x in np.cumsum([0] + counts[:-1])]
        send = None
        if is_root:
            assert host is not None
            packed = np.empty(sum(counts), np.uint8)
            for r in range(self.size):
                block = np.ascontiguousarray(host[self._block_slices(shape, r)])
                packed[displs[r]:displs[r] + counts[r]] = block.reshape(-1).view(np.uint8)
            send = [packed, counts, displs, mpi.BYTE]
        mine = np.empty(counts[self.rank], np.uint8)
        with _mpi.operation(f"CartGrid.scatter(root={root})"):
            self.comm.mpi4py.Scatterv(send, [mine, mpi.BYTE], root=root)
        u._set_interior(mine.view(dtype).reshape(u.shape))
        return u

    def gather(self, u: DistArray, root: int = 0) -> np.ndarray | None:
        """The global NumPy array on ``root`` (None elsewhere) from every rank's interior."""
        self.comm._root(root, "CartGrid.gather")
        if u.grid is not self:
            raise InvalidArgument("CartGrid.gather: the array belongs to another grid")
        mpi = _mpi.MPI()
        shape, dtype = u.global_shape, u.dtype
        counts = [int(np.prod(self.local_shape(shape, c))) * dtype.itemsize for c in self._all_coords]
        displs = [int(x) for x in np.cumsum([0] + counts[:-1])]
        mine = np.ascontiguousarray(u._host_interior())
        is_root = self.rank == root
        packed = np.empty(sum(counts), np.uint8) if is_root else None
        with _mpi.operation(f"CartGrid.gather(root={root})"):
            self.comm.mpi4py.Gatherv(
                [mine.reshape(-1).view(np.uint8), mpi.BYTE],
                [packed, counts, displs, mpi.BYTE] if is_root else None,
                root=root,
            )
        if packed is None:  # not the root
            return None
        out = np.empty(shape, dtype)
        for r in range(self.size):
            n = self.local_shape(shape, self._all_coords[r])
            out[self._block_slices(shape, r)] = packed[displs[r]:displs[r] + counts[r]].view(dtype).reshape(n)
        return out


class DistArray:
    """One rank's block of a distributed array. ``local`` is an mc.Array with the halo,
    ``interior`` a view of it without the halo (an mc.Array on the block's device),
    ``offset`` the global index of the interior's origin, ``shape`` the interior's shape."""

    def __init__(self, grid: CartGrid, global_shape: tuple[int, ...], dtype: np.dtype, halo: int, device: Any) -> None:
        if halo < 0:
            raise InvalidArgument(f"halo={halo}; it must be >= 0")
        self.grid = grid
        self.global_shape = global_shape
        self.dtype = dtype
        self.halo = halo
        self.shape = grid.local_shape(global_shape)
        self.offset = grid.local_offset(global_shape)
        small = [d for d in range(grid.ndim) if self.shape[d] < halo]
        if small and halo > 0:
            d = small[0]
            raise InvalidArgument(
                f"CartGrid: dimension {d} of {global_shape[d]} cells over {grid.dims[d]} ranks "
                f"leaves rank {grid.rank} {self.shape[d]} cells, fewer than halo={halo}; use fewer "
                "ranks along it (dims=...) or a larger array"
            )
        padded = tuple(n + 2 * halo if d < grid.ndim else n for d, n in enumerate(self.shape))
        self.local: Array = zeros(padded, dtype, device)
        self._interior = tuple(
            slice(halo, halo + n) if d < grid.ndim else slice(None) for d, n in enumerate(self.shape)
        )
        # Same number on every rank, since arrays are created collectively in the same order.
        self._tag_base = _DIRECTIONS * (grid._next_serial() % _TAG_SLOTS)
        self._exchanges: dict[bool, HaloExchange] = {}

    def __repr__(self) -> str:
        return (f"<manycore.dist.DistArray global {self.global_shape} {self.dtype}, rank {self.grid.rank}: "
                f"interior {self.shape} at {self.offset}, halo {self.halo}, {self.local.device}>")

    @property
    def device(self) -> Any:
        return self.local.device

    @property
    def interior(self) -> Array:
        """The block without its halo: a view sharing ``local``'s memory, as an mc.Array on
        the block's device (``numpy.asarray(u.interior)`` is a zero-copy NumPy view on the
        CPU)."""
        local = self.local
        strides = list(local.strides)
        offset = sum(self.halo * strides[d] for d in range(self.grid.ndim))
        return local._view(offset, list(self.shape), strides)

    def _host_interior(self) -> np.ndarray:
        """The interior as NumPy: a view on the CPU, a copy from a GPU."""
        if self.local.device.kind == "cpu":
            return np.asarray(self.local)[self._interior]
        return self.local.get()[self._interior]

    def _set_interior(self, block: np.ndarray) -> None:
        if self.local.device.kind == "cpu":
            np.asarray(self.local)[self._interior] = block
            return
        from .._arrays import to_device

        # Uploaded first: operators never mix a GPU array with host memory; the strided
        # interior is then set by a kernel on the device.
        self.interior[...] = to_device(np.ascontiguousarray(block), self.local.device)

    def exchange_halos(self, corners: bool = False, wait: bool = True) -> HaloExchange | None:
        """Fills the halo from the neighbours' interiors (faces; edges and corners too with
        ``corners=True``; wrapping where the grid is periodic; halos past a non-periodic edge
        are left alone). With ``wait=False`` it returns once the messages are posted: compute
        on the interior away from its outer ``halo`` layers, then call ``.wait()``."""
        ex = self._exchanges.get(corners)
        if ex is None:
            ex = self._exchanges[corners] = HaloExchange(self, corners)
        ex.start()
        if wait:
            ex.wait()
            return None
        return ex


class HaloExchange:
    """The messages of one DistArray's halo exchange, planned once and reused every step."""

    def __init__(self, u: DistArray, corners: bool) -> None:
        self._u = u
        self._corners = corners
        self._active = False
        self._native: Any = None
        grid = u.grid
        if grid._native is not None:
            self._native = _core.MpiHaloExchange(grid._native, u.local, u.halo, corners, u._tag_base)
            return
        h, nd = u.halo, grid.ndim
        self._messages: list[tuple[int, int, int, tuple[slice, ...], tuple[slice, ...]]] = []
        if h == 0:
            return
        for dirs in itertools.product((-1, 0, 1), repeat=nd):
            nonzero = sum(1 for d in dirs if d)
            if nonzero == 0 or (not corners and nonzero > 1):
                continue
            peer = grid.neighbour(dirs)
            if peer is None:
                continue
            code = sum((d + 1) * 3**k for k, d in enumerate(dirs))
            opposite = sum((1 - d) * 3**k for k, d in enumerate(dirs))
            send, recv = [], []
            for k, d in enumerate(dirs):
                n = u.shape[k]
                if d < 0:
                    send.append(slice(h, 2 * h)); recv.append(slice(0, h))  # noqa: E702
                elif d > 0:
                    send.append(slice(n, n + h)); recv.append(slice(n + h, n + 2 * h))  # noqa: E702
                else:
                    send.append(slice(h, h + n)); recv.append(slice(h, h + n))  # noqa: E702
            trail = (slice(None),) * (len(u.shape) - nd)
            self._messages.append((peer, u._tag_base + code, u._tag_base + opposite,
                                   tuple(send) + trail, tuple(recv) + trail))
        self._requests: list[Any] = []
        self._recv_buffers: list[np.ndarray] = []
        self._host: np.ndarray | None = None

    def start(self) -> None:
        """Posts the receives, packs the faces and posts the sends."""
        if self._active:
            raise InvalidArgument("exchange_halos: the previous exchange was not waited for")
        self._active = True
        what = f"exchange_halos(corners={self._corners}) start"
        with _mpi.operation(what):
            if self._native is not None:
                self._native.start()
                return
            if not self._messages:
                return
            u = self._u
            local = u.local
            if local.device.kind != "cpu":
                # Pure-mpi4py path for a GPU block: staged whole through the host.
                self._host = local.get()
                arr = self._host
            else:
                arr = np.asarray(local)
            comm = u.grid.comm.mpi4py
            self._recv_buffers = [np.empty(arr[recv].shape, arr.dtype) for _, _, _, _, recv in self._messages]
            self._requests = [
                comm.Irecv(buf.reshape(-1).view(np.uint8), source=peer, tag=rtag)
                for buf, (peer, _, rtag, _, _) in zip(self._recv_buffers, self._messages)
            ]
            self._send_buffers = [np.ascontiguousarray(arr[send]) for _, _, _, send, _ in self._messages]
            self._requests += [
                comm.Isend(buf.reshape(-1).view(np.uint8), dest=peer, tag=stag)
                for buf, (peer, stag, _, _, _) in zip(self._send_buffers, self._messages)
            ]

    def wait(self) -> None:
        """Completes the messages and writes the halo."""
        if not self._active:
            raise InvalidArgument("exchange_halos: wait() without a started exchange")
        self._active = False
        with _mpi.operation(f"exchange_halos(corners={self._corners}) wait"):
            if self._native is not None:
                self._native.wait()
                return
            if not self._messages:
                return
            _mpi.MPI().Request.Waitall(self._requests)
            local = self._u.local
            arr = np.asarray(local) if local.device.kind == "cpu" else local.get()
            for buf, (_, _, _, _, recv) in zip(self._recv_buffers, self._messages):
                arr[recv] = buf
            if local.device.kind != "cpu":
                from .._core import copy

                copy(local, arr)
            self._requests, self._send_buffers = [], []


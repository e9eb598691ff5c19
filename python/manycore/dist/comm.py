# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Communicators and collectives on mc.Array (any device) and NumPy arrays.

NumPy arrays and CPU mc.Arrays go to MPI without copies through mpi4py's buffer methods (or the
C++ backend, where compiled in). GPU arrays go directly when the MPI library is CUDA-aware and are
staged through host copies otherwise. Every call returns an array of the kind it was given, or
fills ``out=`` in place and returns it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._core import Array
from ..errors import InvalidArgument
from . import _mpi

__all__ = ["Comm", "world", "cuda_aware", "OPS"]

OPS = ("sum", "prod", "min", "max")


def cuda_aware() -> bool:
    """True when the MPI library reads and writes GPU memory directly (checked at run time with
    Open MPI's MPIX_Query_cuda_support); otherwise GPU arrays are staged through the host."""
    mpi = _mpi.MPI()
    if _mpi.native():
        return bool(_core.mpi_cuda_aware())
    query = getattr(mpi, "Query_cuda_support", None)  # mpi4py >= 4 exposes MPIX's query
    if query is not None:
        try:
            return bool(query())
        except (NotImplementedError, mpi.Exception):
            return False
    return False


def _is_gpu(x: Any) -> bool:
    return isinstance(x, Array) and x.device.kind != "cpu"


def _check_array(x: Any, what: str) -> None:
    if isinstance(x, Array):
        return
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what}: expected a numpy.ndarray or manycore.Array, got {type(x).__name__}")


def _host_in(x: Any) -> Any:
    """What mpi4py reads for input ``x``: the array itself, a zero-copy view, or a host copy."""
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(x)
    if x.device.kind == "cpu":
        return np.ascontiguousarray(np.asarray(x))  # a copy only for a strided view
    return x if cuda_aware() and getattr(x, "is_contiguous", True) else x.get()


def _writable_host(out: Any, what: str) -> tuple[Any, bool]:
    """(buffer mpi4py writes into, whether it must be copied back to the GPU array ``out``)."""
    if isinstance(out, np.ndarray):
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise InvalidArgument(f"{what}: out= must be a writable C-contiguous array")
        return out, False
    if not getattr(out, "is_contiguous", True):
        raise InvalidArgument(f"{what}: out= must be C-contiguous (not a strided view)")
    if out.device.kind == "cpu":
        return np.asarray(out), False
    if cuda_aware():
        return out, False
    return np.empty(out.shape, out.dtype), True


def _stage_input(host: Any, x: Any, staged: bool) -> None:
    """An in-place operation on a GPU array staged through ``host`` reads ``host`` as its
    input: fill it from ``x`` first (nothing to do when MPI works on ``x`` itself)."""
    if staged:
        np.copyto(host, _as_host(x))


def _store(out: Any, host: np.ndarray, what: str) -> None:
    """Copies the host result into the GPU array ``out`` (an explicit copy: operators never
    mix a GPU array with host memory)."""
    from .._core import copy

    copy(out, np.ascontiguousarray(host))


def _like(x: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
    """A new uninitialised array of the kind and device of ``x``."""
    dtype = x.dtype if dtype is None else dtype
    if isinstance(x, Array):
        from .._arrays import empty

        return empty(shape, dtype, x.device)
    return np.empty(shape, dtype)


def _bytes(buf: Any) -> Any:
    """``buf`` for MPI when its bytes are only moved: as it is where mpi4py knows the dtype,
    else as raw bytes (records, float16)."""
    mpi = _mpi.MPI()
    if isinstance(buf, np.ndarray):
        if buf.dtype.char in mpi._typedict:
            return buf
        return [buf.reshape(-1).view(np.uint8), mpi.BYTE]
    return [buf, buf.nbytes, mpi.BYTE]  # a GPU buffer, for a CUDA-aware MPI


def _typed(buf: Any, what: str) -> Any:
    dt = np.dtype(buf.dtype)
    if dt.kind not in "biufc" or dt == np.float16:
        raise InvalidArgument(f"{what}: cannot reduce {dt} elements; use a numeric dtype")
    if isinstance(buf, np.ndarray):
        return buf
    mpi = _mpi.MPI()
    return [buf, buf.size, mpi._typedict[dt.char]]


class Comm:
    """A communicator for manycore's traffic: a duplicate of an mpi4py communicator, so its
    messages never match the user's. Collectives must be called by every rank, in the same
    order (MPI's rule). ``.mpi4py`` is the duplicate, for anything manycore does not wrap."""

    mpi4py: Any  # the mpi4py communicator (a duplicate unless told otherwise)

    def __init__(self, comm: Any = None, *, duplicate: bool = True) -> None:
        mpi = _mpi.MPI()
        if comm is None:
            comm = mpi.COMM_WORLD
        if isinstance(comm, Comm):
            comm = comm.mpi4py
        if not isinstance(comm, mpi.Comm):
            raise TypeError(f"Comm() takes an mpi4py communicator, got {type(comm).__name__}")
        self.mpi4py = comm.Dup() if duplicate else comm
        self.rank: int = self.mpi4py.Get_rank()
        self.size: int = self.mpi4py.Get_size()
        # Decided once: whether mc.Arrays go through the C++ backend (see _mpi.use_native).
        self._native = _mpi.native()

    def __repr__(self) -> str:
        return f"<manycore.dist.Comm rank {self.rank} of {self.size}>"

    def _describe(self, name: str, x: Any = None, extra: str = "") -> _mpi.operation:
        return _mpi.operation(name, self, x, extra)

    def _native_ok(self, *arrays: Any) -> bool:
        # The C++ backend takes contiguous mc.Arrays; anything else goes through mpi4py, which
        # copies strided inputs (outputs must be contiguous either way).
        if not self._native:
            return False
        for a in arrays:
            if a is not None and (type(a) is not Array or not a.is_contiguous):
                return False
        return True

    def _root(self, root: int, what: str) -> int:
        if not 0 <= root < self.size:
            raise InvalidArgument(f"{what}: root={root} is not a rank of this {self.size}-rank communicator")
        return root

    def barrier(self) -> None:
        """Waits until every rank has called barrier()."""
        with self._describe("barrier"):
            self.mpi4py.Barrier()

    # -- reductions ---------------------------------------------------------------------------

    def allreduce(self, x: Any, op: str = "sum", out: Any = None) -> Any:
        """Element-wise ``op`` ("sum", "prod", "min", "max") over every rank's ``x``, on every
        rank. ``out=x`` reduces in place."""
        what = "allreduce"
        self._op(op, what)
        _check_array(x, what)
        out = self._out(x, out, x.shape, what)
        with self._describe(what, x, f"op={op!r}"):
            if self._native_ok(x, out):
                _core.mpi_allreduce(self.mpi4py, x, out, op)
                return out
            o, copy_back = _writable_host(out, what)
            if _same(x, out):
                _stage_input(o, x, copy_back)
                self.mpi4py.Allreduce(_mpi.MPI().IN_PLACE, _typed(o, what), op=self._mpi_op(op))
            else:
                self.mpi4py.Allreduce(_typed(_host_in(x), what), _typed(o, what), op=self._mpi_op(op))
            return self._finish(out, o, copy_back, what)

    def reduce(self, x: Any, op: str = "sum", root: int = 0, out: Any = None) -> Any:
        """Like allreduce, with the result on ``root`` only (None elsewhere)."""
        what = "reduce"
        self._op(op, what)
        self._root(root, what)
        _check_array(x, what)
        is_root = self.rank == root
        if is_root:
            out = self._out(x, out, x.shape, what)
        with self._describe(what, x, f"op={op!r}, root={root}"):
            if self._native_ok(x, out):
                _core.mpi_reduce(self.mpi4py, x, out if is_root else None, op, root)
                return out if is_root else None
            if not is_root:
                self.mpi4py.Reduce(_typed(_host_in(x), what), None, op=self._mpi_op(op), root=root)
                return None
            o, copy_back = _writable_host(out, what)
            if _same(x, out):
                _stage_input(o, x, copy_back)
                self.mpi4py.Reduce(_mpi.MPI().IN_PLACE, _typed(o, what), op=self._mpi_op(op), root=root)
            else:
                self.mpi4py.Reduce(_typed(_host_in(x), what), _typed(o, what), op=self._mpi_op(op), root=root)
            return self._finish(out, o, copy_back, what)

    # -- data movement ------------------------------------------------------------------------

    def bcast(self, x: Any, root: int = 0, out: Any = None) -> Any:
        """``root``'s ``x`` on every rank. Every rank passes an array of the same shape and
        dtype (its content is ignored off the root); ``out=x`` fills it in place."""
        what = "bcast"
        self._root(root, what)
        _check_array(x, what)
        out = self._out(x, out, x.shape, what)
        with self._describe(what, x, f"root={root}"):
            if self._native_ok(x, out):
                if not _same(x, out) and self.rank == root:
                    _copy(out, x)
                _core.mpi_bcast(self.mpi4py, out, root)
                return out
            o, copy_back = _writable_host(out, what)
            if self.rank == root and _same(x, out):
                _stage_input(o, x, copy_back)
            elif self.rank == root:
                if isinstance(o, np.ndarray):
                    np.copyto(o, _as_host(x))
                else:
                    _copy(o, x)
            self.mpi4py.Bcast(_bytes(o), root=root)
            return self._finish(out, o, copy_back, what)

    def allgather(self, x: Any, out: Any = None) -> Any:
        """Every rank's ``x``, stacked in rank order: shape ``(size, *x.shape)``."""
        what = "allgather"
        _check_array(x, what)
        out = self._out(x, out, (self.size, *x.shape), what)
        with self._describe(what, x):
            if self._native_ok(x, out):
                _core.mpi_allgather(self.mpi4py, x, out)
                return out
            o, copy_back = _writable_host(out, what)
            self.mpi4py.Allgather(_bytes(_host_in(x)), _bytes(o))
            return self._finish(out, o, copy_back, what)

    def gather(self, x: Any, root: int = 0, out: Any = None) -> Any:
        """Like allgather, on ``root`` only (None elsewhere)."""
        what = "gather"
        self._root(root, what)
        _check_array(x, what)
        is_root = self.rank == root
        if is_root:
            out = self._out(x, out, (self.size, *x.shape), what)
        with self._describe(what, x, f"root={root}"):
            if self._native_ok(x, out):
                _core.mpi_gather(self.mpi4py, x, out if is_root else None, root)
                return out if is_root else None
            if not is_root:
                self.mpi4py.Gather(_bytes(_host_in(x)), None, root=root)
                return None
            o, copy_back = _writable_host(out, what)
            self.mpi4py.Gather(_bytes(_host_in(x)), _bytes(o), root=root)
            return self._finish(out, o, copy_back, what)

    def scatter(self, x: Any, root: int = 0, out: Any = None) -> Any:
        """Part ``rank`` of ``root``'s ``x`` (shape ``(size, *part_shape)``; ignored and may be
        None off the root). Without ``out=`` the part's shape, dtype and kind are sent along."""
        what = "scatter"
        self._root(root, what)
        is_root = self.rank == root
        if is_root:
            _check_array(x, what)
            if len(x.shape) == 0 or x.shape[0] != self.size:
                raise InvalidArgument(
                    f"{what}: the root's array needs a first dimension of {self.size} (one part "
                    f"per rank), got shape {tuple(x.shape)}"
                )
        if out is None:
            with self._describe(what + " (shape)", None, f"root={root}"):
                meta = self.mpi4py.bcast(
                    (tuple(x.shape[1:]), np.dtype(x.dtype).str, _kind(x)) if is_root else None, root=root
                )
            shape, dtype, kind = meta
            out = _new_of_kind(kind, shape, np.dtype(dtype))
        elif is_root:
            self._check_out(out, tuple(x.shape[1:]), x.dtype, what)
        with self._describe(what, out, f"root={root}"):
            if self._native_ok(x if is_root else None, out):
                _core.mpi_scatter(self.mpi4py, x if is_root else None, out, root)
                return out
            o, copy_back = _writable_host(out, what)
            self.mpi4py.Scatter(_bytes(_host_in(x)) if is_root else None, _bytes(o), root=root)
            return self._finish(out, o, copy_back, what)

    def alltoall(self, x: Any, out: Any = None) -> Any:
        """Part ``j`` of ``x`` (shape ``(size, ...)``) goes to rank ``j``; part ``i`` of the
        result came from rank ``i``."""
        what = "alltoall"
        _check_array(x, what)
        if len(x.shape) == 0 or x.shape[0] != self.size:
            raise InvalidArgument(f"{what}: x needs a first dimension of {self.size}, got {tuple(x.shape)}")
        out = self._out(x, out, x.shape, what)
        with self._describe(what, x):
            if self._native_ok(x, out):
                _core.mpi_alltoall(self.mpi4py, x, out)
                return out
            o, copy_back = _writable_host(out, what)
            self.mpi4py.Alltoall(_bytes(_host_in(x)), _bytes(o))
            return self._finish(out, o, copy_back, what)

    def sendrecv(self, x: Any, dest: int, source: int | None = None, tag: int = 0, out: Any = None) -> Any:
        """Sends ``x`` to ``dest`` while receiving an array of the same shape and dtype (or
        ``out``'s) from ``source`` (default: ``dest``). Deadlock-free in rings and pairs."""
        what = "sendrecv"
        _check_array(x, what)
        source = dest if source is None else source
        out = self._like_out(x, out)
        with self._describe(what, x, f"dest={dest}, source={source}"):
            if self._native_ok(x, out):
                _core.mpi_sendrecv(self.mpi4py, x, dest, out, source, tag)
                return out
            o, copy_back = _writable_host(out, what)
            self.mpi4py.Sendrecv(_bytes(_host_in(x)), dest, tag, _bytes(o), source, tag)
            return self._finish(out, o, copy_back, what)

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _op(op: str, what: str) -> None:
        if op not in OPS:
            raise InvalidArgument(f"{what}: op={op!r} is not one of {', '.join(map(repr, OPS))}")

    @staticmethod
    def _mpi_op(op: str) -> Any:
        return getattr(_mpi.MPI(), op.upper())  # SUM, PROD, MIN, MAX

    def _like_out(self, x: Any, out: Any) -> Any:
        return _like(x, tuple(x.shape)) if out is None else out

    def _out(self, x: Any, out: Any, shape: tuple[int, ...], what: str) -> Any:
        if out is None:
            return _like(x, tuple(shape))
        self._check_out(out, tuple(shape), x.dtype, what)
        return out

    @staticmethod
    def _check_out(out: Any, shape: tuple[int, ...], dtype: Any, what: str) -> None:
        _check_array(out, what + " out=")
        if tuple(out.shape) != tuple(shape) or out.dtype != dtype:
            raise InvalidArgument(
                f"{what}: out= has shape {tuple(out.shape)} and dtype {np.dtype(out.dtype)}; "
                f"shape {tuple(shape)} and dtype {np.dtype(dtype)} are needed"
            )

    @staticmethod
    def _finish(out: Any, host: Any, copy_back: bool, what: str) -> Any:
        if copy_back:
            _store(out, host, what)
        return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Array) and isinstance(b, Array):
        return a.ptr == b.ptr and a.nbytes == b.nbytes
    return a is b


def _as_host(x: Any) -> np.ndarray:
    return np.asarray(x) if not _is_gpu(x) else x.get()


def _copy(dst: Any, src: Any) -> None:
    """dst[...] = src for CPU arrays and NumPy; GPU destinations go through _store."""
    if _is_gpu(dst):
        _store(dst, _as_host(src), "copy")
    else:
        np.copyto(np.asarray(dst), _as_host(src))


def _kind(x: Any) -> str:
    return str(x.device) if isinstance(x, Array) else "numpy"


def _new_of_kind(kind: str, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    if kind == "numpy":
        return np.empty(shape, dtype)
    from .._arrays import empty

    return empty(shape, dtype, kind)


def world() -> Comm:
    """mpi4py's COMM_WORLD, duplicated for manycore's own traffic (the same object each call).

    The first call is collective when the launcher did not say which rank of its node this
    process is (Open MPI, MPICH, MVAPICH and SLURM do): the ranks then split the world by shared
    memory, so that the default device gives each rank of a node its own GPU."""
    global _world
    if _world is None:
        MPI = _mpi.MPI()
        _world = Comm(MPI.COMM_WORLD)
        if _core.node_local_rank() < 0:
            node = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED)
            _core.set_node_local_rank(node.Get_rank())
            node.Free()
    return _world


_world: Comm | None = None

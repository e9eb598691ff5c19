# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Lazy access to mpi4py and to the optional native binding of manycore's MPI backend.

Importing mpi4py.MPI initialises MPI, so it happens on the first call that needs MPI, never at
``import manycore`` or ``import manycore.dist``.
"""

from __future__ import annotations

from typing import Any

from .. import _core
from ..errors import DeviceUnavailable, MpiError
from . import _state

#: When False, manycore.dist uses pure mpi4py even where the native binding is compiled in
#: (the tests run both paths; users have no reason to change it).
use_native: bool = True

_MPI: Any = None


def MPI() -> Any:  # noqa: N802  (mpi4py's name)
    """The mpi4py.MPI module, imported (and MPI initialised) on first use."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI as mpi  # noqa: N811
        except ImportError as e:
            raise DeviceUnavailable(
                f"manycore.dist needs mpi4py ({e}); install it with `pip install mpi4py` (it "
                "builds against the MPI library on the machine: on Debian/Ubuntu "
                "`apt-get install libopenmpi-dev openmpi-bin` first), or "
                "`pip install manycore[mpi]`"
            ) from e
        _MPI = mpi
    return _MPI


def native() -> bool:
    """True when the C++ MPI backend is compiled into manycore._core and enabled."""
    return use_native and bool(getattr(_core, "mpi_native", False))


class operation:  # noqa: N801  (used as a context manager, like contextlib's)
    """Records the current blocking operation for the launcher's --timeout report and turns
    mpi4py's errors into MpiError naming it. The text is built only when needed (a report or
    an error), since it sits on the path of every small message."""

    __slots__ = ("_comm", "_name", "_x", "_detail", "_previous")

    def __init__(self, name: str, comm: Any = None, x: Any = None, detail: str = "") -> None:
        self._name, self._comm, self._x, self._detail = name, comm, x, detail

    def __str__(self) -> str:
        parts = [self._detail] if self._detail else []
        x = self._x
        if x is not None:
            parts.append(f"{getattr(x, 'size', '?')} x {getattr(x, 'dtype', '?')}")
        text = f"{self._name}({', '.join(parts)})"
        if self._comm is not None:
            text += f" on a communicator of {self._comm.size} ranks (this is rank {self._comm.rank})"
        return text

    def __enter__(self) -> None:
        self._previous = _state.current_operation
        _state.current_operation = self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        _state.current_operation = self._previous
        mpi = _MPI
        if error is not None and mpi is not None and isinstance(error, mpi.Exception):
            wrapped = MpiError(f"{self} failed: {error.Get_error_string()}")
            wrapped.error_class = error.Get_error_class()
            wrapped.error_string = error.Get_error_string()
            raise wrapped from error

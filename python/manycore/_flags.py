# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``Array.flags``: the memory layout flags NumPy's arrays have, for code written against
NumPy (``a.flags.c_contiguous``, ``a.flags["WRITEABLE"]``)."""

from __future__ import annotations

from dataclasses import dataclass

from . import _core

__all__ = ["ArrayFlags"]

# NumPy's names of the flags (and their one-letter forms), to the attributes.
_NAMES = {"C_CONTIGUOUS": "c_contiguous", "C": "c_contiguous", "CONTIGUOUS": "c_contiguous",
          "F_CONTIGUOUS": "f_contiguous", "F": "f_contiguous", "FORTRAN": "f_contiguous",
          "WRITEABLE": "writeable", "W": "writeable"}


@dataclass(frozen=True)
class ArrayFlags:
    """An array's layout when asked: ``c_contiguous`` (C order, no gaps), ``f_contiguous``
    (Fortran order, no gaps) and ``writeable`` (kernels and operators may write it). Read by
    attribute or, as NumPy's flags, by name (``"C_CONTIGUOUS"`` or ``"C"``, ``"F_CONTIGUOUS"``
    or ``"F"``, ``"WRITEABLE"`` or ``"W"``). A snapshot: it does not follow the array."""

    c_contiguous: bool
    f_contiguous: bool
    writeable: bool

    def __getitem__(self, name: str) -> bool:
        try:
            return bool(getattr(self, _NAMES[name.upper()]))
        except KeyError:
            raise KeyError(f"Array.flags has no flag {name!r}; it has C_CONTIGUOUS, F_CONTIGUOUS "
                           "and WRITEABLE") from None

    def __repr__(self) -> str:
        return "\n".join(f"  {key} : {self[key]}" for key in ("C_CONTIGUOUS", "F_CONTIGUOUS",
                                                                "WRITEABLE"))


def _f_contiguous(a: _core.Array) -> bool:
    expected = a.itemsize
    for extent, stride in zip(a.shape, a.strides):
        if extent == 0:
            return True
        if extent != 1 and stride != expected:
            return False
        expected *= extent
    return True


def _flags(self: _core.Array) -> ArrayFlags:
    """The array's layout flags, as NumPy's arrays have them (an ``ArrayFlags``)."""
    return ArrayFlags(c_contiguous=self.is_contiguous, f_contiguous=_f_contiguous(self),
                      writeable=self.writable)


def install() -> None:
    """Makes ``flags`` a property of ``manycore.Array`` (a nanobind class), once."""
    setattr(_core.Array, "flags", property(_flags, doc=_flags.__doc__))

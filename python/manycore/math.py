# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Elementwise math on manycore arrays (PyCUDA's cumath set, plus minimum, maximum, where, clip).

Each function is a generated kernel on the array's device; integer inputs compute in float64,
as NumPy's do. Results follow the device's math library: within a few ulp of NumPy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._array_ops import BINARY, apply
from ._core import Array

_UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "exp": np.exp,
    "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "floor": np.floor, "ceil": np.ceil,
    "fabs": np.fabs, "exp2": np.exp2, "log2": np.log2, "expm1": np.expm1, "log1p": np.log1p,
    "trunc": np.trunc, "cbrt": np.cbrt,
}

__all__ = sorted(_UNARY) + ["minimum", "maximum", "where", "clip", "fmod", "ldexp"]


def _unary(name: str, ufunc: np.ufunc):
    def f(a: Any) -> Array:
        if type(a) is Array and a.dtype.kind == "c":
            raise TypeError(f"manycore.math.{name}: complex arrays are not supported")
        if type(a) is not Array:
            from .reduction import _as_array

            a = _as_array(a)
        from ._array_ops import resolve

        loop = resolve(ufunc, (a.dtype,))[0]
        if loop.kind != "f":
            raise TypeError(f"manycore.math.{name}: not defined for {a.dtype}")
        # float: the f-suffixed C function; double: the plain one (both devices have both).
        template = f"{name}f({{0}})" if loop == np.float32 else f"{name}({{0}})"
        return apply(name, template, ufunc, (a,), first=a)

    f.__name__ = name
    f.__doc__ = f"Elementwise {name} (like numpy.{ufunc.__name__})."
    return f


for _n, _u in _UNARY.items():
    globals()[_n] = _unary(_n, _u)


def _first(*args: Any) -> Array:
    for a in args:
        if type(a) is Array:
            return a
    from .reduction import _as_array

    return _as_array(args[0])


def minimum(a: Any, b: Any) -> Array:
    """Elementwise minimum; NaN propagates."""
    ufunc, t = BINARY["minimum"]
    return apply("minimum", t, ufunc, (a, b), first=_first(a, b))


def maximum(a: Any, b: Any) -> Array:
    """Elementwise maximum; NaN propagates."""
    ufunc, t = BINARY["maximum"]
    return apply("maximum", t, ufunc, (a, b), first=_first(a, b))


def fmod(a: Any, b: Any) -> Array:
    """C's fmod (the sign of a), like numpy.fmod, for floats."""
    return apply("fmod", "mc_fmod({0}, {1})", np.fmod, (a, b), first=_first(a, b))


def ldexp(a: Any, e: Any) -> Array:
    """a * 2**e."""
    return apply("ldexp", "ldexp((double){0}, (int){1})", np.ldexp, (a, e), first=_first(a, e))


def where(cond: Any, x: Any, y: Any) -> Array:
    """``x`` where ``cond`` is true, else ``y`` (result dtype as numpy.where)."""
    first = _first(cond, x, y)
    # Resolution of where's dtype as NumPy does it; the condition is read as bool.
    return apply("where", "({0} ? {1} : {2})", _WhereUfunc, (cond, x, y), first=first)


class _WhereUfunc:
    """Type resolution of numpy.where in the shape apply() expects of a ufunc."""

    __name__ = "where"
    nout = 1

    @staticmethod
    def resolve_dtypes(types: tuple) -> tuple:
        c, x, y = types[:3]
        r = np.result_type(*(t if isinstance(t, np.dtype) else t(0) for t in (x, y)))
        return (np.dtype(bool), r, r, r)


def clip(a: Any, a_min: Any, a_max: Any) -> Array:
    """min(max(a, a_min), a_max) elementwise, as numpy.clip."""
    return minimum(maximum(a, a_min), a_max)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.cumath``: elementwise math on GPUArrays, as manycore's ``manycore.math``
(real types; integer arrays compute in float64, as NumPy's functions do). Each takes ``out=``
(a GPUArray to write into, returned) and ``stream=``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import math as mc_math
from ..elementwise import ElementwiseKernel as _McElementwiseKernel
from ._errors import translated
from .gpuarray import GPUArray, empty_like

_NAMES = ["fabs", "ceil", "floor", "exp", "log", "log10", "sqrt", "sin", "cos", "tan", "asin",
          "acos", "atan", "sinh", "cosh", "tanh", "exp2", "log2", "expm1", "log1p", "trunc"]

__all__ = _NAMES + ["fmod", "ldexp", "modf", "frexp"]

_kernels: dict[Any, Any] = {}


def _deliver(result: Any, out: GPUArray | None) -> GPUArray:
    if out is None:
        return GPUArray._wrap(result)
    out.mc_array[...] = result
    return out


# Complex arguments: z = f(a + bi) from the real and imaginary parts (a, b), in the element's
# real type T.
_COMPLEX = {
    "exp": "T e = exp(a); zr = e * cos(b); zi = e * sin(b);",
    "log": "zr = log(hypot(a, b)); zi = atan2(b, a);",
    "log10": "zr = log(hypot(a, b)) / log((T)10); zi = atan2(b, a) / log((T)10);",
    "sqrt": "T m = hypot(a, b); zr = sqrt((m + a) / 2); zi = copysign(sqrt((m - a) / 2), b);",
    "sin": "zr = sin(a) * cosh(b); zi = cos(a) * sinh(b);",
    "cos": "zr = cos(a) * cosh(b); zi = -sin(a) * sinh(b);",
    "tan": "T d = cos(2 * a) + cosh(2 * b); zr = sin(2 * a) / d; zi = sinh(2 * b) / d;",
    "sinh": "zr = sinh(a) * cos(b); zi = cosh(a) * sin(b);",
    "cosh": "zr = cosh(a) * cos(b); zi = sinh(a) * sin(b);",
    "tanh": "T d = cosh(2 * a) + cos(2 * b); zr = sinh(2 * a) / d; zi = sin(2 * b) / d;",
}


def _complex(name: str, array: GPUArray) -> Any:
    if name not in _COMPLEX:
        raise TypeError(f"cumath.{name}: not defined for complex arrays")
    t = "float" if array.dtype == np.complex64 else "double"
    key = (name, t)
    k = _kernels.get(key)
    if k is None:
        k = _kernels[key] = _McElementwiseKernel(
            f"{t} *z, const {t} *x",
            "const T a = x[2 * i], b = x[2 * i + 1]; T zr, zi; " + _COMPLEX[name]
            + " z[2 * i] = zr; z[2 * i + 1] = zi;", f"mc_c{name}_{t}", preamble=f"typedef {t} T;")
    src = array if array.flags.c_contiguous else array.copy()
    out = empty_like(src, order="C")
    real = np.float32 if t == "float" else np.float64
    k(out.view(real).mc_array, src.view(real).mc_array, range=range(array.size))
    return out.mc_array


def _unary(name: str):
    f = getattr(mc_math, name)

    def func(array: GPUArray, *args: Any, **kwargs: Any) -> GPUArray:
        out = kwargs.pop("out", None)
        kwargs.pop("stream", None)
        if kwargs:
            raise TypeError(f"cumath.{name}: unexpected keyword argument {next(iter(kwargs))!r}")
        for a in args:  # PyCUDA takes out and stream by position too
            if isinstance(a, GPUArray):
                out = a
        with translated():
            if array.dtype.kind == "c":
                return _deliver(_complex(name, array), out)
            return _deliver(f(array.mc_array), out)

    func.__name__ = name
    func.__doc__ = f"Elementwise {name}; ``out=`` writes into a given GPUArray."
    return func


for _name in _NAMES:
    globals()[_name] = _unary(_name)


def fmod(arg: GPUArray, mod: GPUArray, stream: Any = None) -> GPUArray:
    return GPUArray._wrap(mc_math.fmod(arg.mc_array, mod.mc_array))


def ldexp(significand: GPUArray, exponent: GPUArray, stream: Any = None) -> GPUArray:
    """significand * 2**exponent, the exponent converted to int (as C does)."""
    t = "float" if significand.dtype == np.float32 else "double"
    e = _c_type(exponent.dtype)
    key = ("ldexp", t, e)
    k = _kernels.get(key)
    if k is None:
        k = _kernels[key] = _McElementwiseKernel(f"{t} *z, const {t} *x, const {e} *e",
                                                 "z[i] = ldexp(x[i], (int)e[i])", "mc_ldexp")
    out = empty_like(significand, order="C")
    with translated():
        k(out.mc_array, significand.mc_array, exponent.mc_array)
    return out


def _c_type(dtype: np.dtype) -> str:
    from .._codegen import c_type

    return c_type(dtype)




def _two_outputs(kind: str, arg: GPUArray, second: np.dtype) -> tuple[GPUArray, GPUArray]:
    if arg.dtype.kind != "f":
        raise TypeError(f"cumath.{kind}: takes float32 or float64 arrays, not {arg.dtype}")
    t = "float" if arg.dtype == np.float32 else "double"
    s = "int" if second == np.int32 else t
    key = (kind, t)
    k = _kernels.get(key)
    if k is None:
        if kind == "modf":
            op = "first[i] = modf(x[i], &second[i])"  # fractional part, integral part
        else:
            op = "int e; first[i] = frexp(x[i], &e); second[i] = e"  # significand, exponent
        k = _kernels[key] = _McElementwiseKernel(f"const {t} *x, {t} *first, {s} *second", op,
                                                 "mc_" + kind)
    first = empty_like(arg)
    out2 = empty_like(arg, dtype=second)
    with translated():
        k(arg.mc_array, first.mc_array, out2.mc_array)
    return first, out2


def modf(arg: GPUArray, stream: Any = None) -> tuple[GPUArray, GPUArray]:
    """(fractional part, integral part)."""
    return _two_outputs("modf", arg, arg.dtype)


def frexp(arg: GPUArray, stream: Any = None) -> tuple[GPUArray, GPUArray]:
    """(significand in [0.5, 1), exponent as int32)."""
    return _two_outputs("frexp", arg, np.dtype(np.int32))

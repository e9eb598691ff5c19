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


def _deliver(result: Any, out: GPUArray | None) -> GPUArray:
    if out is None:
        return GPUArray._wrap(result)
    out.mc_array[...] = result
    return out


def _unary(name: str):
    f = getattr(mc_math, name)

    def func(array: GPUArray, **kwargs: Any) -> GPUArray:
        out = kwargs.pop("out", None)
        kwargs.pop("stream", None)
        if kwargs:
            raise TypeError(f"cumath.{name}: unexpected keyword argument {next(iter(kwargs))!r}")
        with translated():
            return _deliver(f(array.mc_array), out)

    func.__name__ = name
    func.__doc__ = f"Elementwise {name}; ``out=`` writes into a given GPUArray."
    return func


for _name in _NAMES:
    globals()[_name] = _unary(_name)


def fmod(arg: GPUArray, mod: GPUArray, stream: Any = None) -> GPUArray:
    return GPUArray._wrap(mc_math.fmod(arg.mc_array, mod.mc_array))


def ldexp(significand: GPUArray, exponent: GPUArray, stream: Any = None) -> GPUArray:
    return GPUArray._wrap(mc_math.ldexp(significand.mc_array, exponent.mc_array))


_kernels: dict[Any, Any] = {}


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

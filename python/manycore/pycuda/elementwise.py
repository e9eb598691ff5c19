# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.elementwise.ElementwiseKernel`` on manycore's generator: ``operation``
runs for every ``i`` below ``n`` (the first array's size), on the device of the arrays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..elementwise import ElementwiseKernel as _McElementwiseKernel
from ._context import current_device
from ._errors import translated
from ._wrap import declarations, unwrap_args

__all__ = ["ElementwiseKernel"]


class ElementwiseKernel:
    """``ElementwiseKernel("float a, float *x, float *z", "z[i] = a*x[i]")``; call it with
    GPUArrays and scalars, and optionally ``range=``/``slice=`` (from 0, step 1) and ``stream=``."""

    def __init__(self, arguments: Any, operation: str, name: str = "kernel", keep: bool = False,
                 options: Iterable[str] | None = None, preamble: str = "", loop_prep: str = "",
                 after_loop: str = "") -> None:
        self._kernel = _McElementwiseKernel(declarations(arguments), operation, name=name,
                                            preamble=preamble, loop_prep=loop_prep,
                                            after_loop=after_loop)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("device", current_device())
        with translated():
            self._kernel(*unwrap_args(args), **kwargs)

    def get_function(self) -> Any:
        return self._kernel.get_function(current_device())

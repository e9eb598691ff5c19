# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.reduction.ReductionKernel`` on manycore's reductions: ``reduce_expr``
(over ``a`` and ``b``) of ``map_expr`` (over ``i``), from ``neutral``; a 0-d GPUArray."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..reduction import ReductionKernel as _McReductionKernel
from ._context import current_device
from ._errors import translated
from ._wrap import declarations, unwrap_args

__all__ = ["ReductionKernel"]


class ReductionKernel:
    def __init__(self, dtype_out: Any, neutral: str, reduce_expr: str, map_expr: str | None = None,
                 arguments: Any = None, name: str = "reduce_kernel", keep: bool = False,
                 options: Iterable[str] | None = None, preamble: str = "",
                 allocator: Any = None) -> None:
        self._kernel = _McReductionKernel(dtype_out, neutral, reduce_expr, map_expr,
                                          declarations(arguments), name=name, preamble=preamble)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .gpuarray import GPUArray

        out = kwargs.pop("out", None)
        stream = kwargs.pop("stream", None)
        kwargs.pop("allocator", None)
        if kwargs:
            raise TypeError(f"ReductionKernel: unexpected keyword argument {next(iter(kwargs))!r}")
        with translated():
            result = self._kernel(*unwrap_args(args), stream=stream, device=current_device())
        if out is not None:
            out.mc_array[...] = result
            return out
        return GPUArray._wrap(result)

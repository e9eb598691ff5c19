# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.scan`` kernels on manycore's scans (in place unless ``output_ary`` is given)."""

from __future__ import annotations

from typing import Any

from ..scan import ExclusiveScanKernel as _McExclusive
from ..scan import InclusiveScanKernel as _McInclusive
from ._errors import translated

__all__ = ["InclusiveScanKernel", "ExclusiveScanKernel"]


class _Scan:
    _kernel: Any

    def __call__(self, input_ary: Any, output_ary: Any = None, allocator: Any = None,
                 stream: Any = None) -> Any:
        out = input_ary if output_ary is None else output_ary
        with translated():
            self._kernel(input_ary.mc_array, out.mc_array, stream=stream)
        return out


class InclusiveScanKernel(_Scan):
    def __init__(self, dtype: Any, scan_expr: str, neutral: str | None = None,
                 name_prefix: str = "scan", options: Any = None, preamble: str = "",
                 devices: Any = None) -> None:
        self._kernel = _McInclusive(dtype, scan_expr, neutral, name=name_prefix, preamble=preamble)


class ExclusiveScanKernel(_Scan):
    def __init__(self, dtype: Any, scan_expr: str, neutral: str, name_prefix: str = "scan",
                 options: Any = None, preamble: str = "", devices: Any = None) -> None:
        self._kernel = _McExclusive(dtype, scan_expr, neutral, name=name_prefix, preamble=preamble)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.elementwise.ElementwiseKernel`` on manycore's generator: ``operation``
runs for every ``i`` below ``n`` (the first array's size), on the device of the arrays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import _codegen as cg
from .._module import SourceModule
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
        self._ranged_functions: dict[Any, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        device = kwargs.setdefault("device", current_device())
        span = kwargs.get("range")
        if span is None and kwargs.get("slice") is not None:
            first = next(a for a in args if hasattr(a, "shape"))
            span = range(*kwargs["slice"].indices(first.size))
        with translated():
            if span is not None and (span.start != 0 or span.step != 1):
                self._ranged(span, unwrap_args(args), device, kwargs.get("stream"))
            else:
                self._kernel(*unwrap_args(args), **kwargs)

    def _ranged(self, span: range, args: list, device: Any, stream: Any) -> None:
        """A launch over ``i`` in ``range(start, stop, step)``, as PyCUDA's ranged kernels loop."""
        f = self._ranged_functions.get(device)
        if f is None:
            k = self._kernel
            params = ", ".join(f"{t} {n}" if not t.endswith("*") else f"{t}{n}"
                               for t, n, _ in k.arguments)
            source = (cg.PREAMBLE + (k.preamble or "")
                      + f"\n__global__ void {k.name}_range(long long mc_start, long long mc_stop, "
                      f"long long mc_step, {params}) {{\n  const long long n = mc_stop;\n"
                      + (k.loop_prep or "")
                      + "\n  for (long long i = mc_start + ((long long)blockIdx.x * blockDim.x + "
                      "threadIdx.x) * mc_step; mc_step > 0 ? i < mc_stop : i > mc_stop; "
                      "i += (long long)gridDim.x * blockDim.x * mc_step) {\n"
                      + k.operation.rstrip().rstrip(";") + ";\n  }\n" + (k.after_loop or "") + "\n}\n")
            f = self._ranged_functions[device] = SourceModule(
                source, device=device, _follow_environment=False).get_function(f"{k.name}_range")
        count = len(span)
        if count:
            f(span.start, span.stop, span.step, *args, grid=(min(-(-count // 256), 4096),),
              block=(256,), stream=stream)

    def get_function(self) -> Any:
        return self._kernel.get_function(current_device())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Scans (prefix sums) and ``cumsum``: PyCUDA-style ``InclusiveScanKernel``/``ExclusiveScanKernel``.

Three phases, block-parallel on every device: (1) each block reduces its contiguous chunk to a
total, (2) one thread scans the block totals, (3) each block scans its chunk again starting from
its prefix and writes the result. A block is one thread over its chunk, so the CPU runs the
chunks as vectorisable loops with no fibers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array

__all__ = ["InclusiveScanKernel", "ExclusiveScanKernel", "cumsum"]


def _launch(facts: cg.DeviceFacts, n: int) -> tuple[int, int]:
    """(blocks, chunk): a few blocks per compute unit, capped so phase 2 stays short."""
    blocks = facts.units * (256 if facts.gpu else 8)
    chunk = max(1024, -(-n // blocks))
    return max(1, -(-n // chunk)), chunk


class _ScanKernel:
    def __init__(self, dtype: Any, scan_expr: str, neutral: str | None, exclusive: bool,
                 name: str, options: Any, preamble: str) -> None:
        self.dtype = np.dtype(dtype)
        self.ctype = cg.c_type(self.dtype)
        self.scan_expr = scan_expr
        self.neutral = neutral
        self.exclusive = exclusive
        self.name = name
        self.options = tuple(options)
        self.preamble = preamble
        self._fns: dict[str, tuple] = {}

    def _functions(self, facts: cg.DeviceFacts):
        fns = self._fns.get(facts.key)
        if fns is not None:
            return fns
        from ._module import SourceModule

        t, nm = self.ctype, self.name
        neutral = cg.user_text("neutral", self.neutral) if self.neutral is not None else "0"
        src = (cg.PREAMBLE + (cg.user_text("preamble", self.preamble) if self.preamble else "")
               + f"__device__ inline {t} mc_scan_op({t} a, {t} b) {{ return ("
               + cg.user_text("scan_expr", self.scan_expr) + "); }\n"
               + f"__device__ inline {t} mc_scan_neutral() {{ return ({t})({neutral}); }}\n" + f"""
__global__ void {nm}_totals(long long n, long long mc_chunk, {t}* __restrict__ totals, const {t}* __restrict__ in) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    {t} acc = in[b];
    for (long long i = b + 1; i < e; ++i) acc = mc_scan_op(acc, in[i]);
    totals[blockIdx.x] = acc;
}}
__global__ void {nm}_prefix(long long g, {t}* totals) {{
    if (blockIdx.x != 0 || threadIdx.x != 0 || g == 0) return;
    {t} acc = totals[0];
    for (long long k = 1; k < g; ++k) {{ const {t} x = totals[k]; totals[k] = acc; acc = mc_scan_op(acc, x); }}
}}
__global__ void {nm}_apply(long long n, long long mc_chunk, {t}* __restrict__ out, const {t}* __restrict__ in,
                           const {t}* __restrict__ prefix, bool exclusive) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    bool have = blockIdx.x > 0;
    {t} acc = have ? prefix[blockIdx.x] : mc_scan_neutral();
    if (exclusive) {{
        for (long long i = b; i < e; ++i) {{ const {t} x = in[i]; out[i] = have ? acc : mc_scan_neutral(); acc = have ? mc_scan_op(acc, x) : x; have = true; }}
    }} else if (have) {{
        for (long long i = b; i < e; ++i) {{ acc = mc_scan_op(acc, in[i]); out[i] = acc; }}
    }} else {{
        acc = in[b]; out[b] = acc;
        for (long long i = b + 1; i < e; ++i) {{ acc = mc_scan_op(acc, in[i]); out[i] = acc; }}
    }}
}}
""")
        mod = SourceModule(src, device=facts.device, options=self.options,
                           _follow_environment=False)
        fns = tuple(mod.get_function(f"{nm}_{k}") for k in ("totals", "prefix", "apply"))
        self._fns[facts.key] = fns
        return fns

    def __call__(self, input_ary: Array, output_ary: Array | None = None, stream: Any = None) -> Array:
        if type(input_ary) is not Array:
            from .reduction import _as_array

            input_ary = _as_array(input_ary)
        if output_ary is None:
            output_ary = input_ary
        n = input_ary.size
        facts = cg.facts(input_ary.device)
        totals_fn, prefix_fn, apply_fn = self._functions(facts)
        if n == 0:
            return output_ary
        g, chunk = _launch(facts, n)
        totals = _core.empty((g,), self.dtype.name, self.dtype.itemsize, input_ary.device)
        totals_fn(n, chunk, totals, input_ary, grid=g, block=1, stream=stream)
        prefix_fn(g, totals, grid=1, block=1, stream=stream)
        apply_fn(n, chunk, output_ary, input_ary, totals, self.exclusive, grid=g, block=1, stream=stream)
        return output_ary


class InclusiveScanKernel(_ScanKernel):
    """``out[i] = in[0] op ... op in[i]`` with ``op`` given as ``scan_expr`` over ``a`` and ``b``
    (associative); in place unless ``output_ary`` is given."""

    def __init__(self, dtype: Any, scan_expr: str, neutral: str | None = None, name: str = "scan",
                 options: Any = (), preamble: str = "") -> None:
        super().__init__(dtype, scan_expr, neutral, False, name, options, preamble)


class ExclusiveScanKernel(_ScanKernel):
    """``out[i] = neutral op in[0] op ... op in[i-1]``; ``neutral`` is required."""

    def __init__(self, dtype: Any, scan_expr: str, neutral: str, name: str = "scan",
                 options: Any = (), preamble: str = "") -> None:
        super().__init__(dtype, scan_expr, neutral, True, name, options, preamble)


_cumsum: dict[np.dtype, InclusiveScanKernel] = {}


def cumsum(a: Any, axis: int | None = None, dtype: Any = None) -> Array:
    """Cumulative sum of the flattened array, or along ``axis`` (NumPy's accumulator dtype)."""
    from ._array_ops import astype, ravel
    from .reduction import _as_array

    a = _as_array(a)
    acc = np.cumsum(np.zeros(1, a.dtype)).dtype if dtype is None else np.dtype(dtype)
    if axis is not None and not (a.ndim == 1 and axis in (0, -1)):
        return _cumsum_axis(a, int(axis), acc)
    k = _cumsum.get(acc)
    if k is None:
        ct = cg.c_type(acc)
        k = _cumsum[acc] = InclusiveScanKernel(acc, f"mc_add<{ct} >(a, b)", f"mc_cast<{ct} >(0)", name="mc_cumsum")
    work = astype(ravel(a), acc)
    return k(work)


def _cumsum_axis(a: Array, axis: int, acc: np.dtype) -> Array:
    """cumsum along one axis: the axis is moved last (a copy), then each row is scanned by one
    thread (rows are independent, so there are as many parallel tasks as rows)."""
    from ._array_ops import astype

    nd = a.ndim
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {nd}")
    axis %= nd
    order = [d for d in range(nd) if d != axis] + [axis]
    moved = astype(a._view(0, [a.shape[d] for d in order], [a.strides[d] for d in order]), acc)
    length = a.shape[axis]
    rows = moved.size // length if length else 0
    facts = cg.facts(a.device)
    ct = cg.c_type(acc)

    def build():
        loop = cg.loop_header(facts)
        src = (cg.PREAMBLE + f"__global__ void mc_cumsum_rows(long long n, long long mc_chunk, long long len, "
               f"{ct}* __restrict__ x) {{\n    {loop} {{\n"
               f"        {ct} s = mc_cast<{ct} >(0);\n"
               f"        for (long long j = 0; j < len; ++j) {{ s = mc_add<{ct} >(s, x[i * len + j]); x[i * len + j] = s; }}\n"
               "    }\n}\n")
        return src, "mc_cumsum_rows"

    fn = cg.cached_function(("cumsum_rows", acc, facts.key), build, a.device)
    if rows:
        grid, block, chunk = cg.launch_1d(facts, rows)
        if not facts.gpu:
            chunk = max(1, -(-rows // (facts.units * 16)))
            grid = -(-rows // chunk)
        fn(rows, chunk, length, moved, grid=grid, block=block)
    # Back to the original axis order: a view with the axis put back in place.
    inverse = [order.index(d) for d in range(nd)]
    return moved._view(0, [moved.shape[d] for d in inverse], [moved.strides[d] for d in inverse])

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reductions along one axis, without moving the axis: the array is seen as (outer, length,
inner) and reduced over ``length``.

Two kernels cover every axis, each on both devices:

- ``rows`` (inner == 1, the axis is the last): each row's elements are contiguous. On a GPU a
  warp reduces a row (its lanes read consecutive elements, then combine by shuffles); on the
  CPU a thread reduces whole rows with vectorised lanes.
- ``cols`` (inner > 1): output ``j`` reads elements ``inner`` apart, and neighbouring outputs
  read neighbouring elements. On a GPU a thread reduces one output (a warp reads 32 consecutive
  elements per step); on the CPU a thread reduces a strip of outputs at once, row after row, so
  each step is a contiguous, vectorised pass over the strip.

Where the outputs are too few to fill the device, the axis is cut into segments, each reduced
into a partial, and a second launch of the same kernel reduces the partials (laid out so that
pass is again ``rows`` or ``cols``). NumPy's rule holds for ``argmin``/``argmax`` along an axis:
the index along that axis, the first of equal values, NaN first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array

__all__ = ["reduce_axis"]

# Outputs a CPU thread reduces together in `cols`: whole rows of up to this many elements, read
# contiguously (the prefetcher follows them), their accumulators in L1 or L2.
CPU_STRIP = 4096
GPU_WARPS_PER_BLOCK = 8

# Tests set this to run the GPU kernels and launch shapes on the CPU device (in fiber mode).
gpu_kernels_on_cpu = False


def _gpu(facts: cg.DeviceFacts) -> bool:
    return facts.gpu or gpu_kernels_on_cpu


_SHUFFLE = r"""
// A warp shuffle of any trivially copyable type, 32 bits at a time.
template <class T> __device__ inline T mc_shfl_down_any(T v, int off) {
    unsigned w[(sizeof(T) + 3) / 4] = {};
    memcpy(w, &v, sizeof(T));
    for (unsigned k = 0; k < (sizeof(T) + 3) / 4; ++k) w[k] = __shfl_down_sync(0xffffffffu, w[k], off);
    T r;
    memcpy(&r, w, sizeof(T));
    return r;
}
"""


def _gpu_kernels(stage: int, act: str, out_param: str, neutral: str, in_ct: str, param: str, map_expr: str) -> str:
    """The GPU's rows and cols kernels of one stage; ``map_expr`` reads element ``mc_x[mc_at]``."""
    at_rows = map_expr.replace("mc_at", "mc_row + i")
    at_cols = map_expr.replace("mc_at", "mc_base + i * inner")
    return f"""
__global__ void mc_rows{stage}(long long tasks, long long len, long long segs, long long seglen,
                               {param} x, {out_param} __restrict__ mc_out) {{
    const {in_ct}* __restrict__ mc_x = (const {in_ct}*)x;
    {act}* __restrict__ out = ({act}*)mc_out;
    const int lane = threadIdx.x & 31;
    const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
    for (long long t = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); t < tasks; t += warps) {{
        const long long row = t / segs, lo = (t - row * segs) * seglen;
        const long long hi = lo + seglen < len ? lo + seglen : len;
        const long long mc_row = row * len;
        {act} a0 = {neutral}, a1 = a0, a2 = a0, a3 = a0;
        long long k = lo + lane;
        for (; k + 96 < hi; k += 128) {{
            {{ const long long i = k; a0 = mc_reduce(a0, {at_rows}); }}
            {{ const long long i = k + 32; a1 = mc_reduce(a1, {at_rows}); }}
            {{ const long long i = k + 64; a2 = mc_reduce(a2, {at_rows}); }}
            {{ const long long i = k + 96; a3 = mc_reduce(a3, {at_rows}); }}
        }}
        for (; k < hi; k += 32) {{ const long long i = k; a0 = mc_reduce(a0, {at_rows}); }}
        a0 = mc_reduce(mc_reduce(a0, a1), mc_reduce(a2, a3));
        for (int off = 16; off > 0; off >>= 1) a0 = mc_reduce(a0, mc_shfl_down_any(a0, off));
        if (lane == 0) out[t] = a0;
    }}
}}
__global__ void mc_cols{stage}(long long tasks, long long len, long long segs, long long seglen,
                               long long outer, long long inner, {param} x, {out_param} __restrict__ mc_out) {{
    const {in_ct}* __restrict__ mc_x = (const {in_ct}*)x;
    {act}* __restrict__ out = ({act}*)mc_out;
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < tasks;
         t += (long long)blockDim.x * gridDim.x) {{
        const long long j = t % inner, so = t / inner, o = so % outer, s = so / outer;
        const long long lo = s * seglen, hi = lo + seglen < len ? lo + seglen : len;
        const long long mc_base = o * len * inner + j;
        {act} a0 = {neutral}, a1 = a0, a2 = a0, a3 = a0;
        long long k = lo;
        for (; k + 3 < hi; k += 4) {{
            {{ const long long i = k; a0 = mc_reduce(a0, {at_cols}); }}
            {{ const long long i = k + 1; a1 = mc_reduce(a1, {at_cols}); }}
            {{ const long long i = k + 2; a2 = mc_reduce(a2, {at_cols}); }}
            {{ const long long i = k + 3; a3 = mc_reduce(a3, {at_cols}); }}
        }}
        for (; k < hi; ++k) {{ const long long i = k; a0 = mc_reduce(a0, {at_cols}); }}
        out[t] = mc_reduce(mc_reduce(a0, a1), mc_reduce(a2, a3));
    }}
}}
"""


def _cpu_kernels(stage: int, act: str, out_param: str, neutral: str, in_ct: str, param: str, map_expr: str,
                 extreme: str | None = None) -> str:
    """The CPU's rows and cols kernels of one stage: a block (one thread) takes ``mc_chunk`` tasks.
    ``extreme`` (min, max, argmin, argmax) makes a row's reduction the two-pass scan of
    ``reduction.cpu_extreme``."""
    from .reduction import _cpu_lanes, cpu_extreme

    if extreme:
        value = f"{act}{{mc_m, mc_at - mc_row}}" if extreme.startswith("arg") else "mc_m"
        lanes = cpu_extreme(in_ct, extreme, "mc_x", "mc_row + lo", "mc_row + hi") + f"\n        {act} acc[1] = {{{value}}};"
    else:
        lanes = _cpu_lanes(act, neutral, map_expr.replace("mc_at", "mc_row + i"), "lo", "hi", "acc")
    at_cols = map_expr.replace("mc_at", "mc_row + jj")
    at_cols2 = map_expr.replace("mc_at", "mc_row2 + jj")
    # Two rows a pass halve the loads and stores of the accumulators per element read (adding
    # in the rows' order, as one row a pass would); GCC keeps that loop scalar for the
    # select-based extremes, which take one row a pass.
    pairs = "false" if extreme else "true"
    return f"""
__global__ void mc_rows{stage}(long long tasks, long long mc_chunk, long long len, long long segs,
                               long long seglen, {param} __restrict__ x, {out_param} __restrict__ mc_out) {{
    const {in_ct}* __restrict__ mc_x = (const {in_ct}*)x;
    {act}* __restrict__ out = ({act}*)mc_out;
    const long long t0 = (long long)blockIdx.x * mc_chunk, t1 = t0 + mc_chunk < tasks ? t0 + mc_chunk : tasks;
    for (long long t = t0; t < t1; ++t) {{
        const long long row = t / segs, lo = (t - row * segs) * seglen;
        const long long hi = lo + seglen < len ? lo + seglen : len;
        const long long mc_row = row * len;
    {lanes}
        out[t] = acc[0];
    }}
}}
__global__ void mc_cols{stage}(long long tasks, long long mc_chunk, long long len, long long segs,
                               long long seglen, long long outer, long long inner,
                               {param} __restrict__ x, {out_param} __restrict__ mc_out) {{
    const {in_ct}* __restrict__ mc_x = (const {in_ct}*)x;
    {act}* __restrict__ out = ({act}*)mc_out;
    const long long strips = (inner + {CPU_STRIP} - 1) / {CPU_STRIP};
    const long long t0 = (long long)blockIdx.x * mc_chunk, t1 = t0 + mc_chunk < tasks ? t0 + mc_chunk : tasks;
    for (long long t = t0; t < t1; ++t) {{
        const long long strip = t % strips, so = t / strips, o = so % outer, s = so / outer;
        const long long j0 = strip * {CPU_STRIP}, jn = inner - j0 < {CPU_STRIP} ? inner - j0 : {CPU_STRIP};
        const long long lo = s * seglen, hi = lo + seglen < len ? lo + seglen : len;
        {act} acc[{CPU_STRIP}];
        for (long long jj = 0; jj < jn; ++jj) acc[jj] = {neutral};
        long long mc_i = lo;
        for (; {pairs} && mc_i + 1 < hi; mc_i += 2) {{
            const long long mc_row = (o * len + mc_i) * inner + j0, mc_row2 = mc_row + inner;
            for (long long jj = 0; jj < jn; ++jj) {{
                {act} first, second;
                {{ const long long i = mc_i; first = {at_cols}; }}
                {{ const long long i = mc_i + 1; second = {at_cols2}; }}
                acc[jj] = mc_reduce(mc_reduce(acc[jj], first), second);  // the rows' order
            }}
        }}
        for (long long i = mc_i; i < hi; ++i) {{
            const long long mc_row = (o * len + i) * inner + j0;
            for (long long jj = 0; jj < jn; ++jj) acc[jj] = mc_reduce(acc[jj], {at_cols});
        }}
        {act}* mc_to = out + (s * outer + o) * inner + j0;
        for (long long jj = 0; jj < jn; ++jj) mc_to[jj] = acc[jj];
    }}
}}
"""


def _source(op: str, dt: np.dtype, gpu: bool) -> str:
    from .reduction import EXTREMES, _spec

    acc, act, neutral, red, mp, _ = _spec(op, dt)
    in_ct = cg.c_type(dt)
    kernels = _gpu_kernels if gpu else _cpu_kernels
    # Complex arrays travel as untyped pointers; (value, index) pairs as pointers to the pair.
    acc_out = f"{act}*" if acc.kind == "V" else cg.param_type(acc, False)
    acc_in = f"const {act}*" if acc.kind == "V" else cg.param_type(acc, True)
    # Stage 1 maps the input's elements; stage 2 reduces partials, which are already mapped
    # (an argmin/argmax partial carries its index along the axis).
    return (cg.PREAMBLE + (_SHUFFLE if gpu else "")
            + f"__device__ inline {act} mc_reduce({act} a, {act} b) {{ return ({red}); }}\n"
            + kernels(1, act, acc_out, neutral, in_ct, cg.param_type(dt, True), mp.replace("X", "mc_x[mc_at]"),
                      *([op] if not gpu and op in EXTREMES and dt.kind != "c" else []))
            + kernels(2, act, acc_out, neutral, act, acc_in, "mc_x[mc_at]"))


def _segments(gpu: bool, units: int, outer: int, length: int, inner: int) -> int:
    """How many pieces to cut the axis into so that the device has enough tasks."""
    if inner == 1:
        tasks, want, least = outer, units * (64 if gpu else 8), (1024 if gpu else 4096)
    else:
        tasks = outer * inner if gpu else outer * -(-inner // CPU_STRIP)
        want, least = (units * 2048, 32) if gpu else (units * 8, 64)
    # A CPU segment stays under 2**30 elements (the extremes' positions are 32-bit).
    floor = 1 if gpu else -(-length // 2**30)
    if tasks >= want or length < 2 * least:
        return floor
    return max(floor, min(-(-want // tasks), length // least))


def _launch(fn: Any, gpu: bool, units: int, kind: str, segs: int, outer: int, inner: int, args: list) -> None:
    """Launches ``kind`` over its tasks: (row, segment) pairs for rows; for cols, (segment,
    outer, output) triples on a GPU and (segment, outer, strip of outputs) on the CPU."""
    if kind == "rows":
        tasks = outer * segs
    else:
        tasks = segs * outer * (inner if gpu else -(-inner // CPU_STRIP))
    if gpu:
        per_block = GPU_WARPS_PER_BLOCK if kind == "rows" else 32 * GPU_WARPS_PER_BLOCK
        grid = min(-(-tasks // per_block), units * 32)
        fn(tasks, *args, grid=grid, block=32 * GPU_WARPS_PER_BLOCK)
        return
    blocks = min(tasks, units * 16)
    chunk = -(-tasks // blocks)
    fn(tasks, chunk, *args, grid=-(-tasks // chunk), block=1)


def reduce_axis(op: str, a: Array, axis: int) -> Array:
    """``op`` of ``a`` along ``axis`` (already checked to be in range and >= 0)."""
    from ._array_ops import copy
    from .reduction import _finish, _spec

    if not a.is_contiguous:
        a = copy(a)
    dt = a.dtype
    acc, _, _, _, _, res = _spec(op, dt)
    shape = a.shape
    length = shape[axis]
    if length == 0 and op in ("min", "max", "argmin", "argmax"):
        raise ValueError(f"zero-size array to reduction operation {op} which has no identity")
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    facts = cg.facts(a.device)
    gpu = _gpu(facts)
    device = a.device
    acc_name = "void" if acc.kind == "V" else acc.name
    out = _core.empty(shape[:axis] + shape[axis + 1:], acc_name, acc.itemsize, device)
    if outer * inner:
        key = ("axis", op, dt, gpu, facts.key)
        # One source holds the four kernels; the in-process module registry compiles it once.
        fns = {name: cg.cached_function(key + (name,), lambda name=name: (_source(op, dt, gpu), "mc_" + name),
                                        device)
               for name in ("rows1", "rows2", "cols1", "cols2")}
        kind = "rows" if inner == 1 else "cols"
        segs = _segments(gpu, facts.units, outer, length, inner)
        seglen = -(-length // segs) if length else 0
        segs = -(-length // seglen) if length else 1
        target = out if segs == 1 else _core.empty((segs * outer * inner,), acc_name, acc.itemsize, device)
        extra = [outer, inner] if kind == "cols" else []
        _launch(fns[kind + "1"], gpu, facts.units, kind, segs, outer, inner, [length, segs, seglen, *extra, a, target])
        if segs > 1:
            # Rows' partials lie [row][segment]: rows again. Columns' lie [segment][outer][inner]:
            # columns of (1, segs, outer * inner).
            if kind == "rows":
                _launch(fns["rows2"], gpu, facts.units, "rows", 1, outer, 1, [segs, 1, segs, target, out])
            else:
                _launch(fns["cols2"], gpu, facts.units, "cols", 1, 1, outer * inner,
                        [segs, 1, segs, 1, outer * inner, target, out])
    return _finish(op, out, length, res)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Scans (prefix sums) and ``cumsum``: PyCUDA-style ``InclusiveScanKernel``/``ExclusiveScanKernel``.

Reduce, then scan, in three phases: (1) each block reduces its contiguous chunk to one total,
(2) the totals are scanned, (3) each block scans its chunk again starting from the totals
before it and writes the result. Only associativity is assumed: every combination keeps the
elements' order, so ``scan_expr`` need not commute.

The CPU runs a block as one thread over its chunk (vectorisable loops, no fibers), phase 2 on
one thread. A GPU runs blocks of 256 threads over tiles of ``256 * items`` elements: a tile is
loaded coalesced into shared memory, each thread combines its ``items`` consecutive elements,
the threads' values are scanned with warp shuffles and one shared value per warp, and results
go back through shared memory so the stores are coalesced too. Phase 2 is phase 3 run by one
block over the totals. Memory traffic is three passes (read, read, write).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array

__all__ = ["InclusiveScanKernel", "ExclusiveScanKernel", "cumsum"]

# Block-parallel variant (GPUs): threads per block, and blocks per compute unit (enough waves
# that the last one's imbalance costs little, few enough that phase 2 is one short block).
THREADS = 256
BLOCKS_PER_UNIT = 64


def _items(itemsize: int) -> int:
    """Elements each thread owns in a tile: 16 bytes of them, 1 to 16 elements (on an H100,
    4 int32 a thread scanned 2**28 elements at 1540 GB/s, 8 at 1417, 16 at 1301:
    bench/arrays/scan_tiles.py)."""
    return max(1, min(16, 16 // itemsize))


def _cpu_launch(facts: cg.DeviceFacts, n: int) -> tuple[int, int]:
    """(blocks, chunk): a few blocks per compute unit, capped so phase 2 stays short."""
    blocks = facts.units * 8
    chunk = max(1024, -(-n // blocks))
    return max(1, -(-n // chunk)), chunk


def _block_parallel_launch(facts: cg.DeviceFacts, n: int, tile: int) -> tuple[int, int]:
    """(blocks, chunk) with chunks a whole number of tiles."""
    tiles = -(-n // tile)
    per_block = max(1, -(-tiles // (facts.units * BLOCKS_PER_UNIT)))
    chunk = per_block * tile
    return max(1, -(-n // chunk)), chunk


def _cpu_source(nm: str, t: str) -> str:
    return f"""
__global__ void {nm}_totals(long long n, long long mc_chunk, {t}* __restrict__ totals, const {t}* __restrict__ in) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    {t} acc = in[b];
    for (long long i = b + 1; i < e; ++i) acc = mc_scan_op(acc, in[i]);
    totals[blockIdx.x] = acc;
}}
__global__ void {nm}_prefix(long long g, {t}* totals) {{
    if (blockIdx.x != 0 || threadIdx.x != 0 || g == 0) return;
    for (long long k = 1; k < g; ++k) totals[k] = mc_scan_op(totals[k - 1], totals[k]);
}}
__global__ void {nm}_scan(long long n, long long mc_chunk, {t}* out, const {t}* in,
                          const {t}* __restrict__ prefix, bool exclusive) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    bool have = blockIdx.x > 0;
    {t} acc = have ? prefix[blockIdx.x - 1] : mc_scan_neutral();
    if (exclusive) {{
        for (long long i = b; i < e; ++i) {{ const {t} x = in[i]; out[i] = have ? acc : mc_scan_neutral(); acc = have ? mc_scan_op(acc, x) : x; have = true; }}
    }} else if (have) {{
        for (long long i = b; i < e; ++i) {{ acc = mc_scan_op(acc, in[i]); out[i] = acc; }}
    }} else {{
        acc = in[b]; out[b] = acc;
        for (long long i = b + 1; i < e; ++i) {{ acc = mc_scan_op(acc, in[i]); out[i] = acc; }}
    }}
}}
"""


def _block_parallel_source(nm: str, t: str, items: int) -> str:
    return f"""
typedef {t} mc_scan_t;
#define MC_THREADS {THREADS}
#define MC_ITEMS {items}
#define MC_TILE (MC_THREADS * MC_ITEMS)
#define MC_WARPS (MC_THREADS / 32)
// Shared memory index with one pad element every 32: thread t reading its consecutive items
// (stride MC_ITEMS) then meets no bank conflicts.
__device__ inline int mc_pad(int j) {{ return j + (j >> 5); }}

// A warp shuffle of any element type, 32 bits at a time.
__device__ inline mc_scan_t mc_shfl_up(mc_scan_t v, unsigned d) {{
    unsigned w[(sizeof(mc_scan_t) + 3) / 4] = {{}};
    memcpy(w, &v, sizeof(mc_scan_t));
    for (unsigned k = 0; k < (sizeof(mc_scan_t) + 3) / 4; ++k) w[k] = __shfl_up_sync(0xffffffffu, w[k], d);
    mc_scan_t r;
    memcpy(&r, w, sizeof(mc_scan_t));
    return r;
}}

// The tile at `base` (`valid` elements) into registers: thread t gets elements
// [t * MC_ITEMS, t * MC_ITEMS + mine), loaded coalesced through shared memory.
__device__ inline int mc_load_tile(const mc_scan_t* in, long long base, int valid, mc_scan_t* sh, mc_scan_t (&v)[MC_ITEMS]) {{
    const int t = threadIdx.x;
    for (int k = 0; k < MC_ITEMS; ++k) {{
        const int j = k * MC_THREADS + t;
        if (j < valid) sh[mc_pad(j)] = in[base + j];
    }}
    __syncthreads();
    const int first = t * MC_ITEMS, left = valid - first;
    const int mine = left < 0 ? 0 : (left < MC_ITEMS ? left : MC_ITEMS);
    for (int k = 0; k < mine; ++k) v[k] = sh[mc_pad(first + k)];
    __syncthreads();
    return mine;
}}

// Scans the threads' values `x` in thread order; threads [0, last] have one. Gives each thread
// the combination of the values before its own (`has_prefix` false for thread 0) and returns
// the tile's total.
__device__ inline mc_scan_t mc_block_scan(mc_scan_t x, int last, mc_scan_t* warp_sh, mc_scan_t& prefix, bool& has_prefix) {{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, last_warp = last >> 5;
    mc_scan_t incl = x;
    for (unsigned d = 1; d < 32; d <<= 1) {{
        const mc_scan_t y = mc_shfl_up(incl, d);
        if (lane >= (int)d) incl = mc_scan_op(y, incl);
    }}
    const mc_scan_t before = mc_shfl_up(incl, 1);
    if ((lane == 31 && (int)threadIdx.x < last) || (int)threadIdx.x == last) warp_sh[warp] = incl;
    __syncthreads();
    if (warp == 0) {{
        mc_scan_t w = warp_sh[lane <= last_warp ? lane : 0];
        for (unsigned d = 1; d < 32; d <<= 1) {{
            const mc_scan_t y = mc_shfl_up(w, d);
            if (lane >= (int)d) w = mc_scan_op(y, w);
        }}
        if (lane <= last_warp) warp_sh[lane] = w;
    }}
    __syncthreads();
    has_prefix = warp > 0 || lane > 0;
    if (warp > 0 && lane > 0) prefix = mc_scan_op(warp_sh[warp - 1], before);
    else if (warp > 0) prefix = warp_sh[warp - 1];
    else if (lane > 0) prefix = before;
    const mc_scan_t total = warp_sh[last_warp];
    __syncthreads();
    return total;
}}

__device__ inline mc_scan_t mc_fold(const mc_scan_t (&v)[MC_ITEMS], int mine) {{
    mc_scan_t x = mine > 0 ? v[0] : mc_scan_t();
    for (int k = 1; k < mine; ++k) x = mc_scan_op(x, v[k]);
    return x;
}}

__global__ void {nm}_totals(long long n, long long mc_chunk, mc_scan_t* totals, const mc_scan_t* in) {{
    __shared__ mc_scan_t sh[MC_TILE + MC_TILE / 32];
    __shared__ mc_scan_t warp_sh[MC_WARPS];
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    mc_scan_t carry = mc_scan_t();
    for (long long base = b; base < e; base += MC_TILE) {{
        const int valid = e - base < MC_TILE ? (int)(e - base) : MC_TILE;
        mc_scan_t v[MC_ITEMS];
        const int mine = mc_load_tile(in, base, valid, sh, v);
        mc_scan_t prefix = mc_scan_t();
        bool has_prefix;
        const mc_scan_t total = mc_block_scan(mc_fold(v, mine), (valid - 1) / MC_ITEMS, warp_sh, prefix, has_prefix);
        carry = base == b ? total : mc_scan_op(carry, total);
    }}
    if (threadIdx.x == 0) totals[blockIdx.x] = carry;
}}

// Block b starts from the inclusive scan of the totals before it, `prefix[b - 1]`.
__global__ void {nm}_scan(long long n, long long mc_chunk, mc_scan_t* out, const mc_scan_t* in,
                          const mc_scan_t* prefix, bool exclusive) {{
    __shared__ mc_scan_t sh[MC_TILE + MC_TILE / 32];
    __shared__ mc_scan_t warp_sh[MC_WARPS];
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    bool has_carry = blockIdx.x > 0;
    mc_scan_t carry = has_carry ? prefix[blockIdx.x - 1] : mc_scan_t();
    for (long long base = b; base < e; base += MC_TILE) {{
        const int valid = e - base < MC_TILE ? (int)(e - base) : MC_TILE;
        mc_scan_t v[MC_ITEMS];
        const int mine = mc_load_tile(in, base, valid, sh, v);
        mc_scan_t prefix_t = mc_scan_t();
        bool has_prefix;
        const mc_scan_t total = mc_block_scan(mc_fold(v, mine), (valid - 1) / MC_ITEMS, warp_sh, prefix_t, has_prefix);
        bool have = has_carry;
        mc_scan_t acc = carry;
        if (has_prefix) {{ acc = have ? mc_scan_op(acc, prefix_t) : prefix_t; have = true; }}
        for (int k = 0; k < mine; ++k) {{
            const mc_scan_t x = v[k];
            if (exclusive) v[k] = have ? acc : mc_scan_neutral();
            acc = have ? mc_scan_op(acc, x) : x;
            have = true;
            if (!exclusive) v[k] = acc;
        }}
        for (int k = 0; k < mine; ++k) sh[mc_pad(threadIdx.x * MC_ITEMS + k)] = v[k];
        __syncthreads();
        for (int k = 0; k < MC_ITEMS; ++k) {{
            const int j = k * MC_THREADS + threadIdx.x;
            if (j < valid) out[base + j] = sh[mc_pad(j)];
        }}
        __syncthreads();
        carry = has_carry ? mc_scan_op(carry, total) : total;
        has_carry = true;
    }}
}}
"""


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
        # None: by device (block-parallel on GPUs). Tests set it to run the GPU variant on a CPU.
        self._block_parallel: bool | None = None
        self._fns: dict[tuple, tuple] = {}

    def _uses_block_parallel(self, facts: cg.DeviceFacts) -> bool:
        return facts.gpu if self._block_parallel is None else self._block_parallel

    def _functions(self, facts: cg.DeviceFacts, block_parallel: bool):
        fns = self._fns.get((facts.key, block_parallel))
        if fns is not None:
            return fns
        from ._module import SourceModule

        t, nm = self.ctype, self.name
        neutral = cg.user_text("neutral", self.neutral) if self.neutral is not None else "0"
        body = (_block_parallel_source(nm, t, _items(self.dtype.itemsize)) if block_parallel
                else _cpu_source(nm, t))
        src = (cg.PREAMBLE + (cg.user_text("preamble", self.preamble) if self.preamble else "")
               + f"__device__ inline {t} mc_scan_op({t} a, {t} b) {{ return ("
               + cg.user_text("scan_expr", self.scan_expr) + "); }\n"
               + f"__device__ inline {t} mc_scan_neutral() {{ return ({t})({neutral}); }}\n" + body)
        mod = SourceModule(src, device=facts.device, options=self.options,
                           _follow_environment=False)
        kinds = ("totals", "scan") if block_parallel else ("totals", "prefix", "scan")
        fns = tuple(mod.get_function(f"{nm}_{k}") for k in kinds)
        self._fns[(facts.key, block_parallel)] = fns
        return fns

    def __call__(self, input_ary: Array, output_ary: Array | None = None, stream: Any = None) -> Array:
        if type(input_ary) is not Array:
            from .reduction import _as_array

            input_ary = _as_array(input_ary)
        if output_ary is None:
            output_ary = input_ary
        n = input_ary.size
        facts = cg.facts(input_ary.device)
        block_parallel = self._uses_block_parallel(facts)
        fns = self._functions(facts, block_parallel)
        if n == 0:
            return output_ary
        if block_parallel:
            totals_fn, scan_fn = fns
            g, chunk = _block_parallel_launch(facts, n, THREADS * _items(self.dtype.itemsize))
            block = THREADS
        else:
            totals_fn, prefix_fn, scan_fn = fns
            g, chunk = _cpu_launch(facts, n)
            block = 1
        totals = _core.empty((g,), self.dtype.name, self.dtype.itemsize, input_ary.device)
        if g > 1:
            totals_fn(n, chunk, totals, input_ary, grid=g, block=block, stream=stream)
            if block_parallel:  # phase 3's kernel, one block over the totals
                scan_fn(g, g, totals, totals, totals, False, grid=1, block=block, stream=stream)
            else:
                prefix_fn(g, totals, grid=1, block=1, stream=stream)
        scan_fn(n, chunk, output_ary, input_ary, totals, self.exclusive, grid=g, block=block,
                stream=stream)
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

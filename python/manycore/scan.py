# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Scans (prefix sums) and ``cumsum``: PyCUDA-style ``InclusiveScanKernel``/``ExclusiveScanKernel``.

Only associativity is assumed: every combination keeps the elements' order, so ``scan_expr``
need not commute.

The CPU reduces, then scans, in three phases: (1) each block (one thread) reduces its
contiguous chunk to one total, (2) one thread scans the totals, (3) each block scans its chunk
again starting from the totals before it. The loops are plain and vectorise; no fibers.

A GPU scans in one pass with a decoupled look-back (Merrill and Garland, 2016): each block takes
the next tile, holds it in registers, publishes the tile's total, then combines the totals and
prefixes the tiles before it have published, reading back only until it meets a prefix. A warp
owns contiguous steps of 32 lanes x 16 bytes (one coalesced vector load a lane, a lane's items
consecutive) and scans them with shuffles. Memory traffic is two passes (read, write).
``cumsum`` reads its input's type and writes the wider accumulator type (int32 -> int64) in
that same pass: a lane holds the narrow elements it loaded and converts them as it scans.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array

__all__ = ["InclusiveScanKernel", "ExclusiveScanKernel", "cumsum"]

# Block-parallel variant (GPUs): warps per block and steps (32 lanes x 16 bytes) per warp make
# a tile, held in registers; OCCUPANCY threads a multiprocessor leaves 64 registers a thread
# for them. Large tiles make few look-backs: on an H100, 2**28 int32 in 32x8 tiles scanned at
# 2434 GB/s, in 16x4 tiles at 1882 and at 2048 threads/SM with 8 steps at 1271 (registers
# spilled): bench/arrays/scan_tiles.py.
WARPS = 32
STEPS = 8
OCCUPANCY = 1024


def _items(in_size: int, out_size: int | None = None) -> int:
    """Elements each lane owns in a step: 16 bytes of input (one vector load), 1 to 16, and at
    most 32 bytes of output (a wider output type costs registers and stores)."""
    return max(1, min(16, 16 // in_size, 32 // (out_size or in_size)))


def _cpu_launch(facts: cg.DeviceFacts, n: int) -> tuple[int, int]:
    """(blocks, chunk): a few blocks per compute unit, capped so phase 2 stays short."""
    blocks = facts.units * 8
    chunk = max(1024, -(-n // blocks))
    return max(1, -(-n // chunk)), chunk


def _cpu_source(nm: str, t: str, tin: str) -> str:
    """The CPU's three phases; the input (of C type ``tin``) is converted to ``t`` as it is read."""
    def rd(i: str) -> str:
        return f"in[{i}]" if tin == t else f"mc_cast<{t} >(in[{i}])"

    return f"""
__global__ void {nm}_totals(long long n, long long mc_chunk, {t}* __restrict__ totals, const {tin}* __restrict__ in) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    {t} acc = {rd("b")};
    for (long long i = b + 1; i < e; ++i) acc = mc_scan_op(acc, {rd("i")});
    totals[blockIdx.x] = acc;
}}
__global__ void {nm}_prefix(long long g, {t}* totals) {{
    if (blockIdx.x != 0 || threadIdx.x != 0 || g == 0) return;
    for (long long k = 1; k < g; ++k) totals[k] = mc_scan_op(totals[k - 1], totals[k]);
}}
__global__ void {nm}_scan(long long n, long long mc_chunk, {t}* out, const {tin}* in,
                          const {t}* __restrict__ prefix, bool exclusive) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
    if (b >= e) return;
    bool have = blockIdx.x > 0;
    {t} acc = have ? prefix[blockIdx.x - 1] : mc_scan_neutral();
    if (exclusive) {{
        for (long long i = b; i < e; ++i) {{ const {t} x = {rd("i")}; out[i] = have ? acc : mc_scan_neutral(); acc = have ? mc_scan_op(acc, x) : x; have = true; }}
    }} else if (have) {{
        for (long long i = b; i < e; ++i) {{ acc = mc_scan_op(acc, {rd("i")}); out[i] = acc; }}
    }} else {{
        acc = {rd("b")}; out[b] = acc;
        for (long long i = b + 1; i < e; ++i) {{ acc = mc_scan_op(acc, {rd("i")}); out[i] = acc; }}
    }}
}}
"""


def _block_parallel_source(nm: str, t: str, tin: str, items: int) -> str:
    return f"""
typedef {t} mc_scan_t;
// The input's element type: read narrow, held narrow in registers, converted as it is scanned.
typedef {tin} mc_in_t;
#define MC_ITEMS {items}
#define MC_STEP (32 * MC_ITEMS)
#define MC_WARPS {WARPS}
#define MC_STEPS {STEPS}
#define MC_TILE (MC_WARPS * MC_STEPS * MC_STEP)
// OCCUPANCY threads a multiprocessor: the more tiles in flight, the more loads, but the fewer
// registers each thread may hold its items in.
#define MC_BOUNDS __launch_bounds__(MC_WARPS * 32, {OCCUPANCY} / (MC_WARPS * 32))
// Loops over a lane's items and a warp's steps unroll, so the items stay in registers.
#ifdef __CUDACC_RTC__
#define MC_UNROLL _Pragma("unroll")
#else
#define MC_UNROLL
#endif
// A lane's items are loaded as one vector of 4, 8 or 16 bytes, and stored as one or two such
// vectors (up to 32 bytes), where the arrays are aligned.
#define MC_IN_BYTES (sizeof(mc_in_t) * MC_ITEMS)
#define MC_OUT_BYTES (sizeof(mc_scan_t) * MC_ITEMS)
#define MC_OUT_CHUNK (MC_OUT_BYTES < 16 ? MC_OUT_BYTES : 16)
#define MC_VECTOR_IN (MC_IN_BYTES == 4 || MC_IN_BYTES == 8 || MC_IN_BYTES == 16)
#define MC_VECTOR_OUT (MC_OUT_BYTES == 4 || MC_OUT_BYTES == 8 || MC_OUT_BYTES == 16 || MC_OUT_BYTES == 32)
template <int B> struct mc_vec;
template <> struct mc_vec<4> {{ typedef unsigned type; }};
template <> struct mc_vec<8> {{ typedef uint2 type; }};
template <> struct mc_vec<16> {{ typedef uint4 type; }};
template <int B> struct mc_vec_or_byte {{ typedef typename mc_vec<B>::type type; }};
template <> struct mc_vec_or_byte<1> {{ typedef unsigned char type; }};
template <> struct mc_vec_or_byte<2> {{ typedef unsigned short type; }};

// Warp shuffles of any element type, 32 bits at a time.
#define MC_SHUFFLE(name, intrinsic)                                                               \\
    __device__ inline mc_scan_t name(mc_scan_t v, int arg) {{                                      \\
        unsigned w[(sizeof(mc_scan_t) + 3) / 4] = {{}};                                           \\
        memcpy(w, &v, sizeof(mc_scan_t));                                                         \\
        for (unsigned k = 0; k < (sizeof(mc_scan_t) + 3) / 4; ++k) w[k] = intrinsic(0xffffffffu, w[k], arg); \\
        mc_scan_t r;                                                                              \\
        memcpy(&r, w, sizeof(mc_scan_t));                                                         \\
        return r;                                                                                 \\
    }}
MC_SHUFFLE(mc_shfl_up, __shfl_up_sync)
MC_SHUFFLE(mc_shfl_down, __shfl_down_sync)
MC_SHUFFLE(mc_shfl, __shfl_sync)

// The lane's items of the step at `base` (`valid` elements from there on): lane l owns
// [l * MC_ITEMS, l * MC_ITEMS + mine), so the warp reads 32 * 16 contiguous bytes at once.
__device__ inline int mc_load_step(const mc_in_t* in, long long base, long long valid, bool vec,
                                   mc_in_t (&v)[MC_ITEMS]) {{
    const long long first = (long long)(threadIdx.x & 31) * MC_ITEMS, left = valid - first;
    const int mine = left <= 0 ? 0 : (left < MC_ITEMS ? (int)left : MC_ITEMS);
    if (MC_VECTOR_IN && vec && mine == MC_ITEMS) {{
        typedef typename mc_vec_or_byte<(MC_VECTOR_IN ? MC_IN_BYTES : 1)>::type raw_t;
        const raw_t raw = *reinterpret_cast<const raw_t*>(in + base + first);
        memcpy(v, &raw, sizeof(raw));
    }} else {{
        MC_UNROLL for (int k = 0; k < MC_ITEMS; ++k) if (k < mine) v[k] = in[base + first + k];
    }}
    return mine;
}}

// Scans the lanes' values in lane order (lane l gets lanes 0..l combined).
__device__ inline mc_scan_t mc_warp_scan(mc_scan_t x) {{
    const int lane = threadIdx.x & 31;
    for (unsigned d = 1; d < 32; d <<= 1) {{
        const mc_scan_t y = mc_shfl_up(x, d);
        if (lane >= (int)d) x = mc_scan_op(y, x);
    }}
    return x;
}}

__device__ inline mc_scan_t mc_fold(const mc_in_t (&v)[MC_ITEMS], int mine) {{
    mc_scan_t x = mine > 0 ? mc_cast<mc_scan_t>(v[0]) : mc_scan_t();
    MC_UNROLL for (int k = 1; k < MC_ITEMS; ++k) if (k < mine) x = mc_scan_op(x, mc_cast<mc_scan_t>(v[k]));
    return x;
}}

// The last lane holding items in a step of `valid` elements.
__device__ inline int mc_last_lane(long long valid) {{
    return valid >= MC_STEP ? 31 : (int)((valid - 1) / MC_ITEMS);
}}

// One step: scans the lane's items `v` into `out` after `carry` (when `have`), and adds the
// step's total to the carry.
__device__ inline void mc_scan_step(mc_scan_t* out, long long base, long long valid, bool vec,
                                    const mc_in_t (&v)[MC_ITEMS], int mine, bool exclusive,
                                    mc_scan_t& carry, bool& have) {{
    const int lane = threadIdx.x & 31;
    const mc_scan_t incl = mc_warp_scan(mc_fold(v, mine));
    const mc_scan_t before = mc_shfl_up(incl, 1);
    const mc_scan_t total = mc_shfl(incl, mc_last_lane(valid));
    bool h = have;
    mc_scan_t acc = carry;
    if (lane > 0) {{ acc = h ? mc_scan_op(acc, before) : before; h = true; }}
    mc_scan_t o[MC_ITEMS];
    MC_UNROLL for (int k = 0; k < MC_ITEMS; ++k) {{
        if (k >= mine) break;
        const mc_scan_t x = mc_cast<mc_scan_t>(v[k]);
        if (exclusive) o[k] = h ? acc : mc_scan_neutral();
        acc = h ? mc_scan_op(acc, x) : x;
        h = true;
        if (!exclusive) o[k] = acc;
    }}
    const long long first = (long long)lane * MC_ITEMS;
    if (MC_VECTOR_OUT && vec && mine == MC_ITEMS) {{
        typedef typename mc_vec_or_byte<(MC_VECTOR_OUT ? MC_OUT_CHUNK : 1)>::type raw_t;
        MC_UNROLL for (int c = 0; c < (int)(MC_OUT_BYTES / MC_OUT_CHUNK); ++c) {{
            raw_t raw;
            memcpy(&raw, (const char*)o + c * MC_OUT_CHUNK, sizeof(raw));
            reinterpret_cast<raw_t*>(out + base + first)[c] = raw;
        }}
    }} else {{
        MC_UNROLL for (int k = 0; k < MC_ITEMS; ++k) if (k < mine) out[base + first + k] = o[k];
    }}
    carry = have ? mc_scan_op(carry, total) : total;
    have = true;
}}

// Tile status for the look-back: a 64-bit word a tile, its flag in the high half (0 nothing
// yet, 1 the tile's own total, its aggregate, is published, 2 its inclusive prefix is).
// Values of 4 bytes or less travel in the low half, so one store publishes flag and value
// together and one load reads them. Larger values live in two slots a tile (aggregate,
// prefix) as 32-bit words, published before the flag behind a fence. Both are written and read
// through volatile: never a stale copy from L1.
typedef unsigned long long mc_status_t;
#define MC_PACKED (sizeof(mc_scan_t) <= 4)
#define MC_WORDS ((sizeof(mc_scan_t) + 3) / 4)
#ifndef MC_SCAN_SPARSE_PREFIX
// Tests define it as k > 1: only every k-th tile then publishes its prefix, and look-backs go
// further back than one window.
#define MC_SCAN_SPARSE_PREFIX 1
#endif
__device__ inline void mc_publish(mc_status_t* status, unsigned* words, long long tile, int flag, mc_scan_t v) {{
    unsigned w[MC_WORDS] = {{}};
    memcpy(w, &v, sizeof(mc_scan_t));
    if (MC_PACKED) {{
        ((volatile mc_status_t*)status)[tile] = ((mc_status_t)flag << 32) | w[0];
        return;
    }}
    volatile unsigned* slot = words + (tile * 2 + flag - 1) * MC_WORDS;
    for (unsigned k = 0; k < MC_WORDS; ++k) slot[k] = w[k];
    __threadfence();
    ((volatile mc_status_t*)status)[tile] = (mc_status_t)flag << 32;
}}
// The value a status word `s` of tile `t` announces (after its flag was seen non-zero).
__device__ inline mc_scan_t mc_published(const unsigned* words, long long t, mc_status_t s) {{
    unsigned w[MC_WORDS];
    if (MC_PACKED) {{
        w[0] = (unsigned)s;
    }} else {{
        __threadfence();
        const volatile unsigned* slot = words + (t * 2 + (int)(s >> 32) - 1) * MC_WORDS;
        for (unsigned k = 0; k < MC_WORDS; ++k) w[k] = slot[k];
    }}
    mc_scan_t r;
    memcpy(&r, w, sizeof(mc_scan_t));
    return r;
}}

// Warp 0's decoupled look-back: the combination of every tile before `tile`, read 32 tiles at a
// time from the nearest back, stopping at the first inclusive prefix found. Every tile before
// one that has published its inclusive prefix has published at least its aggregate, so the
// wait for all 32 flags ends.
__device__ inline mc_scan_t mc_look_back(const mc_status_t* status, const unsigned* words, long long tile) {{
    const int lane = threadIdx.x & 31;
    const volatile mc_status_t* vstatus = status;
    mc_scan_t prefix = mc_scan_t();
    bool have = false;
    for (long long end = tile - 1;; end -= 32) {{
        const long long t = end - lane;
        mc_status_t s = t >= 0 ? vstatus[t] : (mc_status_t)2 << 32;  // before tile 0: past the stop anyway
        while (__any_sync(0xffffffffu, (s >> 32) == 0)) {{
            if ((s >> 32) == 0) s = vstatus[t];
        }}
        mc_scan_t v = t >= 0 ? mc_published(words, t, s) : mc_scan_t();
        const unsigned inclusive = __ballot_sync(0xffffffffu, (s >> 32) == 2);
        const int stop = inclusive ? __ffs((int)inclusive) - 1 : 31;
        // Lane 0 gets v[stop] op ... op v[0]: the window's tiles in order, the farthest first.
        for (unsigned d = 1; d < 32; d <<= 1) {{
            const mc_scan_t y = mc_shfl_down(v, d);
            if (lane + (int)d <= stop) v = mc_scan_op(y, v);
        }}
        const mc_scan_t window = mc_shfl(v, 0);
        prefix = have ? mc_scan_op(window, prefix) : window;
        have = true;
        if (inclusive) return prefix;
    }}
}}

__global__ void {nm}_clear(long long count, mc_status_t* state) {{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count;
         i += (long long)blockDim.x * gridDim.x) state[i] = 0;
}}

// The single pass. A block takes the next tile (state[0] counts them out, so every tile before
// it belongs to a block that has started), its warps load their steps into registers and total
// them, warp 0 publishes the tile's total and looks back for the prefix before the tile, and
// every warp scans its steps from that prefix and the totals of the warps before it. Loads all
// come before stores, so the scan may run in place.
__global__ void MC_BOUNDS {nm}_scan(long long n, mc_scan_t* out, const mc_in_t* in,
                                    mc_status_t* state, unsigned* words, bool exclusive) {{
    __shared__ mc_scan_t warp_totals[MC_WARPS];
    __shared__ mc_scan_t tile_prefix;
    __shared__ long long tile_shared;
    if (threadIdx.x == 0) tile_shared = (long long)atomicAdd(state, 1ull);
    __syncthreads();
    const long long tile = tile_shared;
    mc_status_t* status = state + 1;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const long long tile_begin = tile * MC_TILE;
    const long long b = tile_begin + (long long)warp * MC_STEPS * MC_STEP;
    const long long e = b + MC_STEPS * MC_STEP < n ? b + MC_STEPS * MC_STEP : n;
    // Vector accesses where both arrays are aligned to their vectors.
    const bool vec = ((unsigned long long)in % (MC_VECTOR_IN ? MC_IN_BYTES : 1)) == 0 &&
                     ((unsigned long long)out % (MC_VECTOR_OUT ? MC_OUT_CHUNK : 1)) == 0;
    mc_in_t v[MC_STEPS][MC_ITEMS];
    int mine[MC_STEPS];
    MC_UNROLL for (int s = 0; s < MC_STEPS; ++s) mine[s] = mc_load_step(in, b + s * MC_STEP, e - b - s * MC_STEP, vec, v[s]);
    mc_scan_t total = mc_scan_t();
    MC_UNROLL for (int s = 0; s < MC_STEPS; ++s) {{
        if (b + s * MC_STEP >= e) break;
        const mc_scan_t t = mc_shfl(mc_warp_scan(mc_fold(v[s], mine[s])), mc_last_lane(e - b - s * MC_STEP));
        total = s == 0 ? t : mc_scan_op(total, t);
    }}
    if (lane == 0) warp_totals[warp] = total;
    __syncthreads();
    const long long tile_end = tile_begin + MC_TILE < n ? tile_begin + MC_TILE : n;
    const int warps = (int)((tile_end - tile_begin + MC_STEPS * MC_STEP - 1) / (MC_STEPS * MC_STEP));
    if (warp == 0) {{
        mc_scan_t aggregate = warp_totals[0];
        for (int w = 1; w < warps; ++w) aggregate = mc_scan_op(aggregate, warp_totals[w]);
        if (tile == 0) {{
            if (lane == 0) mc_publish(status, words, 0, 2, aggregate);
        }} else {{
            if (lane == 0) mc_publish(status, words, tile, 1, aggregate);
            const mc_scan_t before = mc_look_back(status, words, tile);
            if (lane == 0) {{
                if (tile % MC_SCAN_SPARSE_PREFIX == 0) mc_publish(status, words, tile, 2, mc_scan_op(before, aggregate));
                tile_prefix = before;
            }}
        }}
    }}
    __syncthreads();
    if (b >= e) return;
    bool have = tile > 0;
    mc_scan_t carry = have ? tile_prefix : mc_scan_t();
    for (int w = 0; w < warp; ++w) {{
        carry = have ? mc_scan_op(carry, warp_totals[w]) : warp_totals[w];
        have = true;
    }}
    MC_UNROLL for (int s = 0; s < MC_STEPS; ++s)
        if (b + s * MC_STEP < e) mc_scan_step(out, b + s * MC_STEP, e - b - s * MC_STEP, vec, v[s], mine[s], exclusive, carry, have);
}}
"""


class _ScanKernel:
    def __init__(self, dtype: Any, scan_expr: str, neutral: str | None, exclusive: bool,
                 name: str, options: Any, preamble: str, in_dtype: Any = None) -> None:
        self.dtype = np.dtype(dtype)
        self.ctype = cg.c_type(self.dtype)
        # The input's dtype when it differs (cumsum of int32 into int64): read and converted in
        # the same pass that writes the output, which must then be given.
        self.in_dtype = self.dtype if in_dtype is None else np.dtype(in_dtype)
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
        tin = cg.c_type(self.in_dtype)
        body = (_block_parallel_source(nm, t, tin, _items(self.in_dtype.itemsize, self.dtype.itemsize))
                if block_parallel else _cpu_source(nm, t, tin))
        src = (cg.PREAMBLE + (cg.user_text("preamble", self.preamble) if self.preamble else "")
               + f"__device__ inline {t} mc_scan_op({t} a, {t} b) {{ return ("
               + cg.user_text("scan_expr", self.scan_expr) + "); }\n"
               + f"__device__ inline {t} mc_scan_neutral() {{ return ({t})({neutral}); }}\n" + body)
        mod = SourceModule(src, device=facts.device, options=self.options,
                           _follow_environment=False)
        kinds = ("clear", "scan") if block_parallel else ("totals", "prefix", "scan")
        fns = tuple(mod.get_function(f"{nm}_{k}") for k in kinds)
        self._fns[(facts.key, block_parallel)] = fns
        return fns

    def __call__(self, input_ary: Array, output_ary: Array | None = None, stream: Any = None) -> Array:
        if type(input_ary) is not Array:
            from .reduction import _as_array

            input_ary = _as_array(input_ary)
        if output_ary is None:
            if self.in_dtype != self.dtype:
                raise TypeError(f"scan {self.name!r} reads {self.in_dtype} and writes {self.dtype}: "
                                "give the output array")
            output_ary = input_ary
        n = input_ary.size
        facts = cg.facts(input_ary.device)
        block_parallel = self._uses_block_parallel(facts)
        fns = self._functions(facts, block_parallel)
        if n == 0:
            return output_ary
        if block_parallel:
            clear_fn, scan_fn = fns
            tile = WARPS * STEPS * 32 * _items(self.in_dtype.itemsize, self.dtype.itemsize)
            tiles = -(-n // tile)
            dev = input_ary.device
            state = _core.empty((tiles + 1,), "uint64", 8, dev)  # the tile counter, the tiles' status
            packed = self.dtype.itemsize <= 4  # MC_PACKED: values travel in the status words
            words = _core.empty((1 if packed else tiles * 2 * -(-self.dtype.itemsize // 4),), "uint32", 4, dev)
            clear_fn(tiles + 1, state, grid=min(-(-(tiles + 1) // 256), 1024), block=256, stream=stream)
            scan_fn(n, output_ary, input_ary, state, words, self.exclusive, grid=tiles,
                    block=32 * WARPS, stream=stream)
            return output_ary
        totals_fn, prefix_fn, scan_fn = fns
        g, chunk = _cpu_launch(facts, n)
        totals = _core.empty((g,), self.dtype.name, self.dtype.itemsize, input_ary.device)
        if g > 1:
            totals_fn(n, chunk, totals, input_ary, grid=g, block=1, stream=stream)
            prefix_fn(g, totals, grid=1, block=1, stream=stream)
        scan_fn(n, chunk, output_ary, input_ary, totals, self.exclusive, grid=g, block=1, stream=stream)
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


_cumsum: dict[tuple, _ScanKernel] = {}


def cumsum(a: Any, axis: int | None = None, dtype: Any = None) -> Array:
    """Cumulative sum of the flattened array, or along ``axis`` (NumPy's accumulator dtype:
    int64 for smaller integers). The flattened scan reads ``a`` and writes the wider result
    in one pass."""
    from ._array_ops import ravel
    from .reduction import _as_array

    a = _as_array(a)
    acc = np.cumsum(np.zeros(1, a.dtype)).dtype if dtype is None else np.dtype(dtype)
    if axis is not None and not (a.ndim == 1 and axis in (0, -1)):
        return _cumsum_axis(a, int(axis), acc)
    key = (a.dtype, acc)
    k = _cumsum.get(key)
    if k is None:
        ct = cg.c_type(acc)
        k = _cumsum[key] = _ScanKernel(acc, f"mc_add<{ct} >(a, b)", f"mc_cast<{ct} >(0)", False, "mc_cumsum", (),
                                       "", in_dtype=a.dtype)
    flat = ravel(a)
    return k(flat, _core.empty((flat.size,), acc.name, acc.itemsize, a.device))


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

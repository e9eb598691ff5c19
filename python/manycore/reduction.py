# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Reductions: the PyCUDA-style ``ReductionKernel`` and ``sum prod min max mean dot argmin
argmax any all`` over all elements or along one axis.

Two stages on every device: the first writes one partial per block, the next passes reduce
the partials until one value is left. On a GPU a block is 256 threads that stride over the
input, then combine through shared memory and warp shuffles. On the CPU a block is one thread
over a contiguous run of ``CPU_CHUNK`` elements with ``CPU_LANES`` accumulators (vectorised, no
fibers); ``min``/``max``/``argmin``/``argmax`` find their extreme lane by lane with one
comparison and one select (``cpu_extreme``). Reductions along an axis are ``_reduce_axis``.

Accuracy of float sums: each accumulator adds at most ``CPU_CHUNK / CPU_LANES`` (CPU) or
``n / (threads)`` (GPU) terms in order, and the partials are combined in further passes of
the same kind, so the error is at most about ``(CPU_CHUNK/64 + 64 * passes) * eps * sum(|x|)``
(about 250 eps on the CPU) -- NumPy's pairwise sum is within about 20 eps; the tests compare
with that tolerance.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array
from .elementwise import device_of_args, parse_arguments

__all__ = ["ReductionKernel", "sum", "prod", "min", "max", "mean", "dot", "argmin", "argmax", "any", "all"]

CPU_CHUNK = 4096
GPU_ITEMS = 8  # elements a GPU thread reduces at least (see _launch)
_SHUFFLE_TYPES = {"int", "unsigned int", "long long", "unsigned long long", "float", "double"}


def _stage_source(name: str, ctype: str, neutral: str, map_body: str, params: str,
                  facts: cg.DeviceFacts) -> str:
    """A kernel writing one partial per block of ``map`` reduced by ``mc_reduce``."""
    if not facts.gpu:
        return f"""
__global__ void {name}(long long n, long long mc_chunk, {ctype}* __restrict__ mc_part{params}) {{
    const long long mc_b = (long long)blockIdx.x * mc_chunk;
    const long long mc_e = mc_b + mc_chunk < n ? mc_b + mc_chunk : n;
{_cpu_lanes(ctype, neutral, map_body, "mc_b", "mc_e", "acc")}
    mc_part[blockIdx.x] = acc[0];
}}
"""
    shuffle = ctype in _SHUFFLE_TYPES
    warp_part = (
        """    if (threadIdx.x < 32) {
        acc = mc_sh[threadIdx.x];
        for (int off = 16; off > 0; off >>= 1) acc = mc_reduce(acc, __shfl_down_sync(0xffffffffu, acc, off));
        if (threadIdx.x == 0) mc_part[blockIdx.x] = acc;
    }"""
        if shuffle
        else """    for (unsigned s = 16; s > 0; s >>= 1) {
        if (threadIdx.x < s) mc_sh[threadIdx.x] = mc_reduce(mc_sh[threadIdx.x], mc_sh[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) mc_part[blockIdx.x] = mc_sh[0];"""
    )
    return f"""
__global__ void {name}(long long n, long long mc_chunk, {ctype}* __restrict__ mc_part{params}) {{
    __shared__ {ctype} mc_sh[{cg.GPU_BLOCK}];
    // Four accumulators keep four loads in flight per thread: one leaves an H100 short of
    // its memory bandwidth, waiting on each load before the next.
    const long long mc_stride = (long long)blockDim.x * gridDim.x;
    {ctype} acc = ({ctype})({neutral}), acc1 = acc, acc2 = acc, acc3 = acc;
    long long mc_i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    for (; mc_i + 3 * mc_stride < n; mc_i += 4 * mc_stride) {{
        {{ const long long i = mc_i; acc = mc_reduce(acc, {map_body}); }}
        {{ const long long i = mc_i + mc_stride; acc1 = mc_reduce(acc1, {map_body}); }}
        {{ const long long i = mc_i + 2 * mc_stride; acc2 = mc_reduce(acc2, {map_body}); }}
        {{ const long long i = mc_i + 3 * mc_stride; acc3 = mc_reduce(acc3, {map_body}); }}
    }}
    for (long long i = mc_i; i < n; i += mc_stride) acc = mc_reduce(acc, {map_body});
    acc = mc_reduce(mc_reduce(acc, acc1), mc_reduce(acc2, acc3));
    mc_sh[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s >= 32; s >>= 1) {{
        if (threadIdx.x < s) mc_sh[threadIdx.x] = mc_reduce(mc_sh[threadIdx.x], mc_sh[threadIdx.x + s]);
        __syncthreads();
    }}
{warp_part}
}}
"""


# Accumulators of a CPU loop: a rolled loop over this many lanes is what GCC's loop vectoriser
# takes (select-based reductions such as NaN-propagating max included, which its SLP
# vectoriser leaves scalar when the lanes are written out).
CPU_LANES = 64


def _cpu_lanes(ctype: str, neutral: str, map_body: str, begin: str, end: str, acc: str) -> str:
    """C++ that reduces ``map_body`` over ``i`` in [begin, end) into ``acc[0]``, lane by lane."""
    w = CPU_LANES
    return f"""    {ctype} {acc}[{w}];
    for (int k = 0; k < {w}; ++k) {acc}[k] = ({ctype})({neutral});
    long long mc_i = {begin};
    for (; mc_i + {w} <= {end}; mc_i += {w}) {{
        MC_ROLLED for (int k = 0; k < {w}; ++k) {{ const long long i = mc_i + k; {acc}[k] = mc_reduce({acc}[k], {map_body}); }}
    }}
    for (long long i = mc_i; i < {end}; ++i) {acc}[0] = mc_reduce({acc}[0], {map_body});
    // Combined as a tree in place: GCC 12 miscompiles (vectorises wrongly) other forms of this
    // step after a widening integer loop (int8 -> int64 sums came out wrong).
    for (int s = {w // 2}; s > 0; s >>= 1) for (int k = 0; k < s; ++k) {acc}[k] = mc_reduce({acc}[k], {acc}[k + s]);"""


def _launch(facts: cg.DeviceFacts, n: int) -> tuple[int, int, int]:
    if facts.gpu:
        # At least GPU_ITEMS elements a thread: the partials of a full grid (8 blocks a
        # multiprocessor) then take one block, and a sum two launches, not three.
        per_block = cg.GPU_BLOCK * GPU_ITEMS
        return builtins.min(builtins.max(1, -(-n // per_block)), facts.units * 8), cg.GPU_BLOCK, 0
    chunk = builtins.max(CPU_CHUNK, -(-n // 65536))
    return builtins.max(1, -(-n // chunk)), 1, chunk


class _Reducer:
    """A compiled pair of kernels: the user's map into partials, and partials into partials."""

    def __init__(self, ctype: str, np_dtype: np.dtype, neutral: str, reduce_expr: str,
                 map_expr: str, params: list[tuple[str, str, bool]], preamble: str, name: str,
                 facts: cg.DeviceFacts, options: tuple, user: bool, stage1: str | None = None) -> None:
        from ._module import SourceModule

        self.ctype, self.dtype, self.facts = ctype, np_dtype, facts
        lab = cg.user_text if user else (lambda _l, t: t)
        p = "".join(f", {t} {n}" if not t.endswith("*") else f", {t}{n}" for t, n, _ in params)
        src = (
            cg.PREAMBLE
            + (lab("preamble", preamble) if preamble else "")
            + f"__device__ inline {ctype} mc_reduce({ctype} a, {ctype} b) {{ return ("
            + lab("reduce_expr", reduce_expr)
            + "); }\n"
            + f"__device__ inline {ctype} mc_neutral() {{ return ({ctype})("
            + lab("neutral", neutral) + "); }\n"
            + (stage1 or _stage_source(name + "_stage1", ctype, "mc_neutral()",
                                       "(" + lab("map_expr", map_expr) + ")", p, facts))
            + _stage_source(name + "_stage2", ctype, "mc_neutral()", "mc_in[i]", f", const {ctype}* __restrict__ mc_in", facts)
        )
        mod = SourceModule(src, device=facts.device, options=options, _follow_environment=False)
        self.stage1 = mod.get_function(name + "_stage1")
        self.stage2 = mod.get_function(name + "_stage2")
        # The partials' dtype as _core.empty takes it, worked out once (dtype.name is slow).
        self._partials = ("void" if np_dtype.kind == "V" else np_dtype.name, np_dtype.itemsize)

    def __call__(self, n: int, args: list, stream: Any = None) -> Array:
        dev = self.facts.device
        name, size = self._partials
        grid, block, chunk = _launch(self.facts, n)
        part = _core.empty((grid,), name, size, dev)
        self.stage1(n, chunk, part, *args, grid=grid, block=block, stream=stream)
        while grid > 1:
            m = grid
            grid, block, chunk = _launch(self.facts, m)
            nxt = _core.empty((grid,), name, size, dev)
            self.stage2(m, chunk, nxt, part, grid=grid, block=block, stream=stream)
            part = nxt
        return part._view(0, [], [])


class ReductionKernel:
    """PyCUDA's ReductionKernel: ``reduce_expr`` (over ``a`` and ``b``) of ``map_expr`` (over
    ``i`` and ``arguments``), starting from ``neutral``; returns a 0-d Array of ``dtype_out``.

    >>> dot = ReductionKernel(np.float64, "0", "a+b", "x[i]*y[i]", "const double *x, const double *y")
    """

    def __init__(self, dtype_out: Any, neutral: str, reduce_expr: str, map_expr: str | None = None,
                 arguments: str | Iterable[str] | None = None, name: str = "reduce_kernel",
                 keep: bool = False, options: Iterable[str] = (), preamble: str = "",
                 allocator: Any = None) -> None:
        self.dtype_out = np.dtype(dtype_out)
        self.ctype = cg.c_type(self.dtype_out)
        self.neutral = str(neutral)
        self.reduce_expr = reduce_expr
        self.map_expr = map_expr if map_expr is not None else "in[i]"
        self.arguments = parse_arguments(arguments if arguments is not None else f"const {self.ctype} *in",
                                         f"ReductionKernel {name!r}")
        self.name = name
        self.preamble = preamble
        self.options = tuple(options)
        self._reducers: dict[str, _Reducer] = {}

    def _reducer(self, facts: cg.DeviceFacts) -> _Reducer:
        r = self._reducers.get(facts.key)
        if r is None:
            r = self._reducers[facts.key] = _Reducer(
                self.ctype, self.dtype_out, self.neutral, self.reduce_expr, self.map_expr,
                self.arguments, self.preamble, self.name, facts, self.options, True)
        return r

    def __call__(self, *args: Any, stream: Any = None, device: Any = None, out: Any = None) -> Array:
        if len(args) != len(self.arguments):
            raise TypeError(f"ReductionKernel {self.name!r} takes {len(self.arguments)} arguments, got {len(args)}")
        n = None
        for (_, nm, ptr), a in zip(self.arguments, args):
            if ptr and hasattr(a, "shape"):
                size = int(np.prod(a.shape))
                if n is None:
                    n = size
                elif size != n:
                    raise ValueError(f"ReductionKernel {self.name!r}: argument {nm!r} has {size} elements, "
                                     f"the first array {n}; every array must be as long as the first")
        if n is None:
            raise ValueError(f"ReductionKernel {self.name!r}: no array argument, so no length")
        result = self._reducer(cg.facts(device_of_args(args, device)))(n, list(args), stream)
        if out is not None:
            out[...] = result
            return out
        return result


# ---- Built-in reductions ----------------------------------------------------------------------

_builtin: dict[Any, _Reducer] = {}


def _builtin_reducer(key: tuple, facts: cg.DeviceFacts, ctype: str, dt: np.dtype, neutral: str,
                     reduce_expr: str, map_expr: str, params: list) -> _Reducer:
    k = key + (facts.key,)
    r = _builtin.get(k)
    if r is None:
        stage1 = None
        if key[0] in EXTREMES and not facts.gpu:
            stage1 = _cpu_extreme_stage("mc_r_" + key[0] + "_stage1", key[1], key[0])
        r = _builtin[k] = _Reducer(ctype, dt, neutral, reduce_expr, map_expr, params, "", "mc_r_" + key[0],
                                   facts, (), False, stage1)
    return r


EXTREMES = ("min", "max", "argmin", "argmax")


def cpu_extreme(ct: str, op: str, x: str, begin: str, end: str) -> str:
    """C++ that finds ``op`` (min, max, argmin, argmax) of ``x[begin..end)`` (non-empty) as
    NumPy does (the first NaN wins; else the first of equal extremes): ``mc_m`` the value,
    ``mc_at`` its position. Lane ``k`` keeps the extreme of the elements ``begin + k + W*j`` by
    one comparison and one select (a vector instruction each for all lanes), and whether it
    met a NaN. The position is then looked for only in the columns of the lanes that hold the
    extreme, ``end - begin`` / W elements each, still in cache; a NaN, rare, costs a scan of the
    range. (The generic reduction compares (value, index) pairs and checks NaN in both
    operands: several times the instructions per element, and no vectors.)"""
    w = CPU_LANES
    better = "<" if op in ("min", "argmin") else ">"
    find = op.startswith("arg")
    return f"""    {ct} mc_best[{w}];
    int mc_nan[{w}];
    for (int k = 0; k < {w}; ++k) {{ mc_best[k] = {x}[{begin}]; mc_nan[k] = 0; }}
    long long mc_i = {begin};
    for (; mc_i + {w} <= {end}; mc_i += {w}) {{
        MC_ROLLED for (int k = 0; k < {w}; ++k) {{
            const {ct} v = {x}[mc_i + k];
            mc_best[k] = v {better} mc_best[k] ? v : mc_best[k];
            mc_nan[k] |= (int)mc_isnan(v);
        }}
    }}
    for (int k = 0; mc_i + k < {end}; ++k) {{
        const {ct} v = {x}[mc_i + k];
        mc_best[k] = v {better} mc_best[k] ? v : mc_best[k];
        mc_nan[k] |= (int)mc_isnan(v);
    }}
    {ct} mc_m = mc_best[0];
    bool mc_any_nan = mc_nan[0] != 0;
    for (int k = 1; k < {w}; ++k) {{ mc_m = mc_best[k] {better} mc_m ? mc_best[k] : mc_m; mc_any_nan |= mc_nan[k] != 0; }}
    long long mc_at = {end};
    if (mc_any_nan) {{
        mc_at = {begin};
        while (!mc_isnan({x}[mc_at])) ++mc_at;
        mc_m = {x}[mc_at];
    }} else if ({'true' if find else 'false'}) {{
        for (int k = 0; k < {w}; ++k) {{
            if (!(mc_best[k] == mc_m)) continue;
            for (long long j = ({begin}) + k; j < mc_at; j += {w}) {{
                if ({x}[j] == mc_m) {{ mc_at = j; break; }}
            }}
        }}
    }}"""


def _cpu_extreme_stage(name: str, dt: np.dtype, op: str) -> str:
    """The CPU's first stage of min/max/argmin/argmax: one partial per block by cpu_extreme."""
    ct = cg.c_type(dt)
    arg = op.startswith("arg")
    part = f"mc_argpair<{ct} >" if arg else ct
    value = f"{part}{{mc_m, mc_at}}" if arg else "mc_m"
    return f"""
__global__ void {name}(long long n, long long mc_chunk, {part}* __restrict__ mc_part, const {ct}* __restrict__ x) {{
    const long long b = (long long)blockIdx.x * mc_chunk, e = b + mc_chunk < n ? b + mc_chunk : n;
{cpu_extreme(ct, op, "x", "b", "e")}
    mc_part[blockIdx.x] = {value};
}}
"""


def _pair_dtype(dt: np.dtype) -> np.dtype:
    return np.dtype([("v", dt), ("i", np.int64)], align=True)


@functools.lru_cache(maxsize=None)  # asks NumPy for the accumulator: a cost worth paying once
def _spec(op: str, dt: np.dtype):
    """(accumulator dtype, C type, neutral, reduce, map of element ``x``, result dtype)."""
    ct = cg.c_type(dt)
    if op in ("sum", "prod", "mean"):
        ref = np.zeros(1, dt)
        acc = {"sum": np.sum, "prod": np.prod, "mean": np.mean}[op](ref).dtype
        if op == "mean" and dt.kind in "iub":
            acc = np.dtype(np.float64)
        act = cg.c_type(acc)
        fn = "mc_mul" if op == "prod" else "mc_add"
        neutral = f"mc_cast<{act} >({1 if op == 'prod' else 0})"
        return acc, act, neutral, f"{fn}<{act} >(a, b)", f"mc_cast<{act} >(X)", acc
    if op in ("min", "max"):
        if dt.kind == "c":
            raise TypeError(f"manycore: {op} of complex arrays is not supported")
        if dt.kind == "f":
            neutral = f"({ct})(" + ("" if op == "min" else "-") + "mc_inf())"
        elif dt.kind == "b":
            neutral = "true" if op == "min" else "false"
        else:
            info = np.iinfo(dt)
            v = info.max if op == "min" else info.min
            if dt.kind == "u":
                neutral = f"({ct}){v}ULL"
            else:
                neutral = f"({ct})({v + 1}LL - 1)" if v < 0 else f"({ct}){v}LL"
        return dt, ct, neutral, f"mc_{op}<{ct} >(a, b)", "X", dt
    if op in ("any", "all"):
        b = np.dtype(bool)
        test = "(X.re != 0 || X.im != 0)" if dt.kind == "c" else "(X != 0)"
        return b, "bool", "false" if op == "any" else "true", "a || b" if op == "any" else "a && b", test, b
    if op in ("argmin", "argmax"):
        if dt.kind == "c":
            raise TypeError(f"manycore: {op} of complex arrays is not supported")
        pt = f"mc_argpair<{ct} >"
        return (_pair_dtype(dt), pt, f"{pt}{{({ct})0, -1}}",
                f"mc_argbest<{ct} >(a, b, {'true' if op == 'argmin' else 'false'})", f"{pt}{{X, i}}",
                np.dtype(np.int64))
    raise ValueError(op)


def _as_array(a: Any) -> Array:
    if type(a) is Array:
        return a
    from ._array_ops import asarray

    if isinstance(a, np.ndarray):
        from ._array_ops import wrap_numpy

        return wrap_numpy(a)
    return asarray(a)


@functools.lru_cache(maxsize=None)
def _whole_array_kernel(op: str, dt: np.dtype) -> tuple:
    """_builtin_reducer's arguments after its key and device for ``op`` over every element."""
    acc, act, neutral, red, mp, _ = _spec(op, dt)
    read = f"((const {cg.c_type(dt)}*)x)[i]" if dt.kind == "c" else "x[i]"
    return act, acc, neutral, red, mp.replace("X", read), [(cg.param_type(dt, True), "x", True)]


def _reduce_all(op: str, a: Array) -> Array:
    from ._array_ops import copy

    if not a.is_contiguous:
        a = copy(a)
    dt = a.dtype
    res = _spec(op, dt)[-1]  # raises for what op cannot take, before anything runs
    if a.size == 0 and op in ("min", "max", "argmin", "argmax"):
        raise ValueError(f"zero-size array to reduction operation {op} which has no identity")
    r = _builtin_reducer((op, dt), cg.facts(a.device), *_whole_array_kernel(op, dt))
    out = r(a.size, [a])
    return _finish(op, out, a.size, res)


def _finish(op: str, out: Array, count: Any, res: np.dtype) -> Array:
    from ._array_ops import BINARY, apply, astype

    if op in ("argmin", "argmax"):
        # The index field of each (value, index) pair, read through a strided int64 view.
        offset = out.itemsize - 8
        shape = list(out.shape)
        idx = _core.wrap_device_pointer(out.ptr + offset, tuple(shape), tuple(out.strides), "int64", 8,
                                        out.device, out, False)
        return astype(idx, np.int64)
    if op == "mean":
        ufunc, template = BINARY["true_divide"]
        return apply("true_divide", template, ufunc, (out, float(count) if out.dtype.kind == "f" else count),
                     out_dtype=res)
    return out


def _reduce_axis(op: str, a: Array, axis: int) -> Array:
    from ._reduce_axis import reduce_axis

    nd = a.ndim
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {nd}")
    return reduce_axis(op, a, axis % nd)


def _reduction(op: str):
    def f(a: Any, axis: Any = None) -> Array:
        a = _as_array(a)
        if axis is None or (a.ndim == 1 and axis in (0, -1)):
            return _reduce_all(op, a)
        if isinstance(axis, tuple):
            if len(axis) != 1:
                raise NotImplementedError("manycore reductions take one axis (or None for all)")
            axis = axis[0]
        return _reduce_axis(op, a, int(axis))

    f.__name__ = op
    f.__doc__ = (f"{op} of the elements of ``a`` (all, or along ``axis``); a 0-d Array for all "
                 "elements, with NumPy's result dtype.")
    return f


sum = _reduction("sum")
prod = _reduction("prod")
min = _reduction("min")
max = _reduction("max")
mean = _reduction("mean")
any = _reduction("any")
all = _reduction("all")
argmin = _reduction("argmin")
argmax = _reduction("argmax")


def dot(a: Any, b: Any) -> Array:
    """The dot product of two 1-d arrays of equal length (a 0-d Array, NumPy's result dtype)."""
    from ._array_ops import copy

    a, b = _as_array(a), _as_array(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("manycore.dot takes two 1-d arrays")
    if a.size != b.size:
        raise ValueError(f"shapes ({a.size},) and ({b.size},) not aligned")
    if a.device != b.device:
        raise TypeError(f"dot: operands are on {a.device} and {b.device}; move one with manycore.to_device")
    a = a if a.is_contiguous else copy(a)
    b = b if b.is_contiguous else copy(b)
    dt = np.result_type(a.dtype, b.dtype)
    ct = cg.c_type(dt)
    if dt == np.bool_:
        red, neutral = "a || b", "false"
    else:
        red, neutral = f"mc_add<{ct} >(a, b)", f"mc_cast<{ct} >(0)"

    def rd(name, t):
        return f"mc_cast<{ct} >(((const {cg.c_type(t)}*){name})[i])"

    mp = f"mc_mul<{ct} >({rd('x', a.dtype)}, {rd('y', b.dtype)})" if dt != np.bool_ else f"({rd('x', a.dtype)} && {rd('y', b.dtype)})"
    r = _builtin_reducer(("dot", a.dtype, b.dtype), cg.facts(a.device), ct, dt, neutral, red, mp,
                         [("const void*", "x", True), ("const void*", "y", True)])
    return r(a.size, [a, b])


def install() -> None:
    for name, fn in [("sum", sum), ("prod", prod), ("min", min), ("max", max), ("mean", mean),
                     ("any", any), ("all", all), ("argmin", argmin), ("argmax", argmax)]:
        setattr(Array, name, fn)
    Array.dot = dot

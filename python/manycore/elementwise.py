# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Elementwise kernels: the engine behind array operators, and the PyCUDA-style generator.

>>> import numpy as np, manycore as mc
>>> axpy = mc.ElementwiseKernel("double a, double *x, double *y, double *z", "z[i] = a*x[i] + y[i]")
>>> x = mc.to_device(np.arange(5.0), "cpu"); z = mc.empty_like(x)
>>> axpy(2.0, x, x, z); z.get().tolist()
[0.0, 3.0, 6.0, 9.0, 12.0]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import _codegen as cg
from . import errors
from ._core import Array, Device, default_device

__all__ = ["ElementwiseKernel", "run"]

# Operand kinds: 'c' contiguous over the whole index space, 'b' one element broadcast,
# 's' strided (the kernel unravels i over the collapsed shape), 'v' a scalar value.


def _collapse(shape: Sequence[int], strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Drops extents of 1 and merges dimensions every operand walks as one, as NumPy's iterator does."""
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    out_shape: list[int] = []
    out_strides: list[list[int]] = [[] for _ in strides]
    for d in dims:
        if out_shape and all(st[-1] == s[d] * shape[d] for st, s in zip(out_strides, strides)):
            out_shape[-1] *= shape[d]
            for st, s in zip(out_strides, strides):
                st[-1] = s[d]
            continue
        out_shape.append(shape[d])
        for st, s in zip(out_strides, strides):
            st.append(s[d])
    return out_shape, out_strides


def broadcast_strides(a: Array, shape: tuple[int, ...]) -> list[int]:
    """``a``'s byte strides seen under ``shape`` (0 along broadcast dimensions)."""
    extra = len(shape) - len(a.shape)
    out = [0] * extra
    for ext, st in zip(a.shape, a.strides):
        out.append(0 if ext == 1 else st)
    return out


def _read(kind: str, name: str, ctype: str, dtype: np.dtype) -> str:
    if kind == "v":
        if cg.is_complex(dtype):
            return f"{ctype}{{{name}_re, {name}_im}}"
        return name
    if kind == "s":
        return f"(*(const {ctype}*)((const char*){name} + {name}_off))"
    idx = "0" if kind == "b" else "i"
    if cg.is_complex(dtype):
        return f"((const {ctype}*){name})[{idx}]"
    return f"{name}[{idx}]"


def _row_access(name: str, ctype: str, inner: str, last: int, const: bool) -> str:
    """Element ``mc_j`` of a strided operand's current row (CPU rows loop): its row pointer
    indexed where the row is contiguous ('c'), its first element where the row repeats one
    element ('z'), byte arithmetic otherwise."""
    c = "const " if const else ""
    if inner == "c":
        return f"mc_row_{name}[mc_j]"
    if inner == "z":
        return f"mc_row_{name}[0]"
    return f"(*({c}{ctype}*)(({c}char*)mc_row_{name} + mc_j * {name}_s{last}))"


def _build(name: str, template: str, in_dtypes: list[np.dtype], loop_dtypes: list[np.dtype],
           kinds: list[str], out_dtype: np.dtype, out_kind: str, ndim: int,
           facts: cg.DeviceFacts, inner: tuple[str, ...] = (), index32: bool = False) -> tuple[str, str]:
    """A kernel for ``template`` over operands of ``kinds``. Strided operands ('s') have an
    ``inner`` letter each (and the output last, when strided): how their last dimension is laid
    out, which the CPU's rows loop specialises on. ``index32``: every coordinate fits 32 bits
    (a GPU then unravels the index with 32-bit divisions, several times cheaper)."""
    params = ["long long n", "long long mc_chunk"]
    strided = [k for k in range(len(kinds)) if kinds[k] == "s"] + ([-1] if out_kind == "s" else [])
    rows = bool(strided) and not facts.gpu
    inner_of = dict(zip(strided, inner)) if inner else {k: "g" for k in strided}
    last = ndim - 1
    if strided:
        params += [f"long long mc_d{d}" for d in range(ndim)]
    reads = []
    for k, (kind, dt, lt) in enumerate(zip(kinds, in_dtypes, loop_dtypes)):
        nm, ct = f"in{k}", cg.c_type(dt)
        if kind == "v":
            if cg.is_complex(dt):
                real = "float" if dt == np.complex64 else "double"
                params += [f"{real} {nm}_re", f"{real} {nm}_im"]
            else:
                params.append(f"{ct} {nm}")
        elif kind == "s":
            params.append(f"unsigned long long {nm}")
            params += [f"long long {nm}_s{d}" for d in range(ndim)]
        else:
            params.append(cg.param_type(dt, True) + " __restrict__ " + nm)
        r = _row_access(nm, ct, inner_of[k], last, True) if rows and kind == "s" else _read(kind, nm, ct, dt)
        lct = cg.c_type(lt)
        reads.append(r if lt == dt else f"mc_cast<{lct} >({r})")
    oct_ = cg.c_type(out_dtype)
    if out_kind == "s":
        params.append("unsigned long long out")
        params += [f"long long out_s{d}" for d in range(ndim)]
        target = (_row_access("out", oct_, inner_of[-1], last, False) if rows
                  else f"(*({oct_}*)((char*)out + out_off))")
    else:
        params.append(cg.param_type(out_dtype, False) + " __restrict__ out")
        target = f"(({oct_}*)out)[i]" if cg.is_complex(out_dtype) else "out[i]"
    loop_types = {f"L{k}": cg.c_type(t) for k, t in enumerate(loop_dtypes)}
    expr = template.format(*reads, **loop_types, O=oct_)
    store = f"{target} = mc_cast<{oct_} >({expr});"
    names = [f"in{k}" for k in strided if k >= 0] + (["out"] if -1 in strided else [])
    if rows:
        body = _cpu_rows_body(names, strided, in_dtypes, out_dtype, ndim, store)
    else:
        body = f"    {cg.loop_header(facts)} {{\n        " + "\n        ".join(
            _unravel(names, ndim, "i", index32) + [store]) + "\n    }\n"
    src = cg.PREAMBLE + f"__global__ void {name}({', '.join(params)}) {{\n" + body + "}\n"
    return src, name


def _unravel(names: list[str], ndim: int, index: str, index32: bool) -> list[str]:
    """Statements giving each strided operand its byte offset ``<name>_off`` for flat ``index``."""
    if not names:
        return []
    t = "unsigned" if index32 else "long long"
    out = [f"{t} mc_r = ({t}){index};"] + [f"long long {nm}_off = 0;" for nm in names]
    for d in reversed(range(ndim)):
        if d:
            out.append(f"{{ const {t} q = mc_r / ({t})mc_d{d}; const {t} x = mc_r - q * ({t})mc_d{d}; mc_r = q;")
        else:
            out.append(f"{{ const {t} x = mc_r;")
        out += [f"  {nm}_off += (long long)x * {nm}_s{d};" for nm in names]
        out.append("}")
    return out


def _cpu_rows_body(names: list[str], strided: list[int], in_dtypes: list[np.dtype], out_dtype: np.dtype,
                   ndim: int, store: str) -> str:
    """The CPU's loop over a block's elements, row by row of the last dimension: offsets are
    unravelled once a row, and the row is a plain loop the compiler vectorises."""
    last = ndim - 1
    lines = ["    const long long mc_begin = (long long)blockIdx.x * mc_chunk;",
             "    const long long mc_end = mc_begin + mc_chunk < n ? mc_begin + mc_chunk : n;",
             "    for (long long mc_i0 = mc_begin; mc_i0 < mc_end;) {"]
    lines += ["        " + x for x in _unravel(names, ndim, "mc_i0", False)]
    lines.append(f"        const long long mc_col = mc_i0 % mc_d{last};")
    lines.append(f"        const long long mc_len = mc_d{last} - mc_col < mc_end - mc_i0 ? mc_d{last} - mc_col : mc_end - mc_i0;")
    for k, nm in zip(strided, names):
        ct = cg.c_type(out_dtype if k < 0 else in_dtypes[k])
        c = "" if k < 0 else "const "
        lines.append(f"        {c}{ct}* __restrict__ mc_row_{nm} = ({c}{ct}*)(({c}char*){nm} + {nm}_off);")
    lines += ["        for (long long mc_j = 0; mc_j < mc_len; ++mc_j) {",
              "            const long long i = mc_i0 + mc_j;",
              "            " + store, "            (void)i;",
              "        }", "        mc_i0 += mc_len;", "    }"]
    return "\n".join(lines) + "\n"


# GCC 12 crashes (an internal compiler error in its SLP vectoriser) on some complex kernels; the
# loop vectoriser alone is kept for them.
CPU_COMPLEX_OPTIONS = ("-O3", "-march=native", "-fno-trapping-math", "-fno-tree-slp-vectorize")


def _options(facts: cg.DeviceFacts, dtypes: Sequence[np.dtype]) -> tuple:
    if not facts.gpu and any(d.kind == "c" for d in dtypes):
        return CPU_COMPLEX_OPTIONS
    return ()


def run(op: str, template: str, operands: Sequence[Any], in_dtypes: Sequence[np.dtype],
        loop_dtypes: Sequence[np.dtype], out: Array, device: Device) -> Array:
    """Computes ``out[...] = template(operands...)`` elementwise under broadcasting.

    ``operands`` are Arrays (already on ``device``) or Python scalars already of their loop
    type; ``template`` is C++ with ``{0}``, ``{1}``... for the operands (cast to the loop types
    ``{L0}``...) and ``{O}`` for the output type.
    """
    if not out.writable:
        raise errors.InvalidArgument(
            f"{op}: the array it writes into is read-only (a view of a NumPy array whose "
            "flags.writeable is False, or of other read-only memory); write into a copy "
            "(a.copy()) instead")
    facts = cg.facts(device)
    shape = out.shape
    n = out.size
    # The fast path: every array is contiguous and of the output's shape.
    kinds = []
    fast = out.is_contiguous
    if fast:
        for o in operands:
            if type(o) is Array:
                if o.shape == shape and o.is_contiguous:
                    kinds.append("c")
                elif o.size == 1:
                    kinds.append("b")
                else:
                    fast = False
                    break
            else:
                kinds.append("v")
    if fast:
        key = (op, template, tuple(in_dtypes), tuple(loop_dtypes), tuple(kinds), out.dtype, "c", 0, facts.key)
        fn = cg._cache.get(key)
        if fn is None:
            fn = cg.cached_function(key, lambda: _build(
                "mc_k_" + op, template, list(in_dtypes), list(loop_dtypes), kinds, out.dtype, "c", 0,
                facts), device, _options(facts, list(loop_dtypes) + [out.dtype]))
        if n == 0:
            return out
        args: list[Any] = [n, 0]
        for o, dt in zip(operands, in_dtypes):
            if type(o) is not Array and dt.kind == "c":
                args += [o.real, o.imag]
            else:
                args.append(o)
        args.append(out)
        grid, block, chunk = cg.launch_1d(facts, n)
        args[1] = chunk
        fn(*args, grid=grid, block=block)
        return out
    if n == 0:
        return out
    arrays = [k for k, o in enumerate(operands) if type(o) is Array]
    strides = [broadcast_strides(operands[k], shape) for k in arrays] + [list(out.strides)]
    cshape, cstrides = _collapse(shape, strides)
    ndim = len(cshape)
    kinds = ["v"] * len(operands)
    for j, k in enumerate(arrays):
        kinds[k] = _kind(cstrides[j], cshape, operands[k].itemsize)
    ost = cstrides[-1]
    out_kind = "c" if ndim == 0 or _kind(ost, cshape, out.itemsize) == "c" else "s"
    if ndim == 0:
        ndim = 1
        cshape = [1]
        cstrides = [[0] for _ in cstrides]
    strided = [cstrides[arrays.index(k)] for k in range(len(kinds)) if kinds[k] == "s"]
    strided += [ost] if out_kind == "s" else []
    itemsizes = [operands[k].itemsize for k in range(len(kinds)) if kinds[k] == "s"]
    itemsizes += [out.itemsize] if out_kind == "s" else []
    # How each strided operand's last dimension is laid out: contiguous, one element repeated,
    # or strided (the CPU's rows loop specialises on it).
    inner = tuple("c" if st[-1] == size else ("z" if st[-1] == 0 else "g") for st, size in zip(strided, itemsizes))
    index32 = n < 2**32
    key = (op, template, tuple(in_dtypes), tuple(loop_dtypes), tuple(kinds), out.dtype, out_kind, ndim, inner,
           index32, facts.key)
    fn = cg.cached_function(key, lambda: _build(
        "mc_k_" + op, template, list(in_dtypes), list(loop_dtypes), kinds, out.dtype, out_kind, ndim,
        facts, inner, index32), device, _options(facts, list(loop_dtypes) + [out.dtype]))
    any_strided = "s" in kinds or out_kind == "s"
    args = [n, 0]
    if any_strided:
        args += cshape
    for j_k, (o, dt, kind) in enumerate(zip(operands, in_dtypes, kinds)):
        if kind == "v":
            args += [o.real, o.imag] if dt.kind == "c" else [o]
        elif kind == "s":
            args.append(o.ptr)
            args += cstrides[arrays.index(j_k)]
        else:
            args.append(o)
    if out_kind == "s":
        args.append(out.ptr)
        args += ost
    else:
        args.append(out)
    grid, block, chunk = cg.launch_1d(facts, n)
    args[1] = chunk
    fn(*args, grid=grid, block=block)
    return out


def _kind(strides: list[int], shape: list[int], itemsize: int) -> str:
    """'b' for one element everywhere, 'c' for C order over ``shape`` (read as x[i]), else 's'."""
    if all(s == 0 for s in strides):
        return "b"
    step = itemsize
    for ext, st in zip(reversed(shape), reversed(strides)):
        if st != step:
            return "s"
        step *= ext
    return "c"


# ---- The PyCUDA-style generator -------------------------------------------------------------

_ARG = re.compile(r"^\s*(?P<type>.*?[\s*&])\s*(?P<name>[A-Za-z_]\w*)\s*$")


def parse_arguments(arguments: str | Iterable[str], what: str) -> list[tuple[str, str, bool]]:
    """(C type, name, is_pointer) of each argument of ``"float a, float *x"``."""
    parts = arguments.split(",") if isinstance(arguments, str) else list(arguments)
    out = []
    for p in parts:
        if not p.strip():
            continue
        m = _ARG.match(p)
        if m is None:
            raise ValueError(f"{what}: cannot read argument {p.strip()!r}; write it as "
                             "'<type> <name>' or '<type> *<name>', e.g. 'float *x'")
        ctype = m.group("type").strip()
        out.append((ctype, m.group("name"), ctype.endswith("*")))
    if not out:
        raise ValueError(f"{what}: no arguments; give at least one array, e.g. 'float *x'")
    return out


def device_of_args(args: Sequence[Any], device: Any = None) -> Device:
    if device is not None:
        return device if isinstance(device, Device) else Device(str(device))
    for a in args:
        if type(a) is Array:
            return a.device
    for a in args:
        if isinstance(a, np.ndarray):
            return Device("cpu")
    return default_device()


class ElementwiseKernel:
    """A kernel that runs ``operation`` for every ``i`` in ``[0, n)``, PyCUDA's signature.

    ``arguments`` declares the kernel's parameters (``"float a, float *x, float *z"``);
    ``operation`` is C++ that uses ``i`` (a ``long long`` index) and ``n``; ``preamble`` holds
    helper functions or types. ``n`` is the size of the first array argument, and every array
    must be that long. The grid is chosen for the device the arrays are on (NumPy arrays mean
    the CPU). Errors in ``operation`` or ``preamble`` are ``CompileError``s naming
    ``operation:LINE`` or ``preamble:LINE``.
    """

    def __init__(self, arguments: str | Iterable[str], operation: str, name: str = "kernel",
                 preamble: str = "", options: Iterable[str] = (), loop_prep: str = "",
                 after_loop: str = "") -> None:
        self.arguments = parse_arguments(arguments, f"ElementwiseKernel {name!r}")
        self.operation = operation
        self.name = name
        self.preamble = preamble
        self.options = tuple(options)
        self.loop_prep = loop_prep
        self.after_loop = after_loop
        self._functions: dict[str, Any] = {}

    def _source(self, facts: cg.DeviceFacts) -> str:
        params = ", ".join(f"{t} {n}" if not t.endswith("*") else f"{t}{n}" for t, n, _ in self.arguments)
        pre = cg.user_text("preamble", self.preamble) if self.preamble else ""
        prep = cg.user_text("loop_prep", self.loop_prep) if self.loop_prep else ""
        after = cg.user_text("after_loop", self.after_loop) if self.after_loop else ""
        return (
            cg.PREAMBLE + pre
            + f"__global__ void {self.name}(long long n, long long mc_chunk, {params}) {{\n"
            + prep
            + f"    {cg.loop_header(facts)} {{\n"
            + cg.user_text("operation", self.operation.rstrip().rstrip(";") + ";")
            + "    }\n" + after + "}\n"
        )

    def get_function(self, device: Any = None):
        facts = cg.facts(device_of_args((), device))
        fn = self._functions.get(facts.key)
        if fn is None:
            from ._module import SourceModule

            fn = SourceModule(self._source(facts), device=facts.device, options=self.options,
                              _follow_environment=False).get_function(self.name)
            self._functions[facts.key] = fn
        return fn

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) != len(self.arguments):
            sig = ", ".join(f"{t} {n}" for t, n, _ in self.arguments)
            raise TypeError(f"ElementwiseKernel {self.name!r}({sig}) takes {len(self.arguments)} "
                            f"arguments, got {len(args)}")
        stream = kwargs.pop("stream", None)
        device = kwargs.pop("device", None)
        range_ = kwargs.pop("range", None)
        slice_ = kwargs.pop("slice", None)
        if kwargs:
            raise TypeError(f"ElementwiseKernel {self.name!r}: unexpected keyword argument "
                            f"{next(iter(kwargs))!r}; it takes stream=, device=, range= and slice=")
        n = None
        for (t, nm, ptr), a in zip(self.arguments, args):
            if ptr and a is not None and hasattr(a, "shape"):
                size = int(np.prod(a.shape))
                if n is None:
                    n = size
                elif size != n and range_ is None and slice_ is None:
                    raise ValueError(f"ElementwiseKernel {self.name!r}: argument {nm!r} has {size} "
                                     f"elements but the first array has {n}; every array must be as "
                                     "long as the first")
        if n is None:
            raise ValueError(f"ElementwiseKernel {self.name!r}: no array argument, so no length; "
                             "pass at least one array")
        if range_ is not None or slice_ is not None:
            r = range_ if range_ is not None else range(*slice_.indices(n))
            if r.start != 0 or r.step != 1:
                raise ValueError(f"ElementwiseKernel {self.name!r}: only ranges starting at 0 "
                                 "with step 1 are supported; pass views instead")
            n = max(0, min(n, r.stop))
        dev = device_of_args(args, device)
        facts = cg.facts(dev)
        fn = self.get_function(dev)
        if n == 0:
            return
        grid, block, chunk = cg.launch_1d(facts, n)
        fn(n, chunk, *args, grid=grid, block=block, stream=stream)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Arrays that compute: operators, indexing, casts and factories on ``manycore.Array``.

Everything here is a generated kernel run on the array's device (see ``elementwise.run``).
Result dtypes follow NumPy 2 exactly: NumPy's own ufunc type resolution (``resolve_dtypes``,
with Python scalars as weak types, NEP 50) decides them, nothing is re-tabulated here.
``install()`` attaches the methods to the nanobind class once, at import.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import _core
from . import elementwise as ew
from ._core import Array, Device

__all__ = ["install", "asarray", "arange", "linspace", "full", "ones", "operand_device"]

_SCALARS = (bool, int, float, complex)

# op name -> (NumPy ufunc, C++ template over the operands cast to their loop types)
BINARY = {
    "add": (np.add, "mc_add<{L0} >({0}, {1})"),
    "subtract": (np.subtract, "mc_sub<{L0} >({0}, {1})"),
    "multiply": (np.multiply, "mc_mul<{L0} >({0}, {1})"),
    "true_divide": (np.true_divide, "mc_div<{L0} >({0}, {1})"),
    "floor_divide": (np.floor_divide, "mc_floordiv<{L0} >({0}, {1})"),
    "remainder": (np.remainder, "mc_mod<{L0} >({0}, {1})"),
    "power": (np.power, "mc_pow_t<{L0} >({0}, {1})"),
    "less": (np.less, "mc_lt({0}, {1})"),
    "less_equal": (np.less_equal, "mc_le({0}, {1})"),
    "greater": (np.greater, "mc_lt({1}, {0})"),
    "greater_equal": (np.greater_equal, "mc_le({1}, {0})"),
    "equal": (np.equal, "mc_eq({0}, {1})"),
    "not_equal": (np.not_equal, "!mc_eq({0}, {1})"),
    "bitwise_and": (np.bitwise_and, "({L0})({0} & {1})"),
    "bitwise_or": (np.bitwise_or, "({L0})({0} | {1})"),
    "bitwise_xor": (np.bitwise_xor, "({L0})({0} ^ {1})"),
    "minimum": (np.minimum, "mc_min<{L0} >({0}, {1})"),
    "maximum": (np.maximum, "mc_max<{L0} >({0}, {1})"),
}

UNARY = {
    "negative": (np.negative, "mc_neg<{L0} >({0})"),
    "positive": (np.positive, "{0}"),
    "absolute": (np.absolute, None),  # real: mc_abs; complex: hypot, chosen below
    "invert": (np.invert, None),
}

_resolved: dict[Any, tuple] = {}


def resolve(ufunc: np.ufunc, types: tuple) -> tuple:
    """NumPy's loop dtypes for ``types`` (dtypes, or Python scalar types as weak types); cached."""
    key = (ufunc, types)
    r = _resolved.get(key)
    if r is None:
        r = _resolved[key] = tuple(np.dtype(t) for t in ufunc.resolve_dtypes(types + (None,) * ufunc.nout))
    return r


def operand_device(a: Array, other: Any) -> None:
    """Raises the error for an operation that would move data between devices silently."""
    raise TypeError(
        f"cannot combine a manycore.Array on {a.device} with a {type(other).__name__} in host "
        f"memory: nothing is copied implicitly; move the host array with "
        f"manycore.to_device(x, device='{a.device}'), or bring the manycore array to the host "
        "with a.get()"
    )


def wrap_numpy(x: np.ndarray) -> Array:
    """A zero-copy manycore view of a NumPy array (the CPU device)."""
    if x.dtype.byteorder == ">":
        raise TypeError("big-endian arrays are not supported; convert with x.astype(x.dtype.newbyteorder('='))")
    return _core.wrap_device_pointer(
        x.ctypes.data, x.shape, x.strides, x.dtype.name, x.itemsize, "cpu", x, not x.flags.writeable
    )


def _operand(x: Any, device: Device, first: Array) -> tuple[Any, Any]:
    """(value, type for resolution) of one operand; arrays are checked to be on ``device``."""
    t = type(x)
    if t is Array:
        if x.device != device:
            raise TypeError(
                f"operands are on different devices ({first.device} and {x.device}); move one with "
                f"manycore.to_device(x.get(), device='{first.device}')"
            )
        return x, x.dtype
    if t in _SCALARS:
        return x, (np.dtype(bool) if t is bool else t)
    if isinstance(x, np.generic):
        return x, x.dtype
    if isinstance(x, np.ndarray):
        if device.kind != "cpu":
            operand_device(first, x)
        return wrap_numpy(x), x.dtype
    return None, None


def _scalar(x: Any, dt: np.dtype) -> Any:
    """A scalar converted to the loop dtype, as NumPy converts it (OverflowError if it cannot)."""
    v = dt.type(x)
    return complex(v) if dt.kind == "c" else v.item()


def _prepare(args: tuple, first: Array, ufunc: np.ufunc):
    device = first.device
    vals, types = [], []
    for x in args:
        v, t = _operand(x, device, first)
        if t is None:
            return None
        vals.append(v)
        types.append(t)
    try:
        dts = resolve(ufunc, tuple(types))
    except TypeError as e:
        names = ", ".join(str(np.dtype(t)) if not isinstance(t, type) else t.__name__ for t in types)
        raise TypeError(f"manycore: {ufunc.__name__} is not defined for ({names}): {e}") from None
    nin = len(args)
    loop, out_dt = dts[:nin], dts[nin]
    ins = []
    for v, lt in zip(vals, loop):
        if type(v) is Array:
            ins.append(v)
        else:
            ins.append(_scalar(v, lt))
    in_dtypes = [v.dtype if type(v) is Array else lt for v, lt in zip(ins, loop)]
    return device, ins, in_dtypes, list(loop), out_dt


def _shape_of(ins: list) -> tuple[int, ...]:
    shapes = [v.shape for v in ins if type(v) is Array]
    if len(shapes) == 1:
        return shapes[0]
    if all(s == shapes[0] for s in shapes):
        return shapes[0]
    return np.broadcast_shapes(*shapes)


def apply(op: str, template: str, ufunc: np.ufunc, args: tuple, out: Array | None = None,
          first: Array | None = None, out_dtype: Any = None):
    """Runs ufunc-like ``op`` on ``args`` (arrays and scalars) under broadcasting."""
    if first is None:
        first = next(a for a in args if type(a) is Array)
    prep = _prepare(args, first, ufunc)
    if prep is None:
        return NotImplemented
    device, ins, in_dtypes, loop, out_dt = prep
    if out_dtype is not None:
        out_dt = np.dtype(out_dtype)
    shape = _shape_of(ins)
    if out is None:
        out = _core.empty(shape, out_dt.name, out_dt.itemsize, device)
    else:
        if np.broadcast_shapes(shape, out.shape) != out.shape:
            raise ValueError(f"{op}: the result of shape {shape} does not fit the output of shape {out.shape}")
        if not np.can_cast(out_dt, out.dtype, "same_kind"):
            raise TypeError(f"Cannot cast ufunc '{ufunc.__name__}' output from {out_dt} to "
                            f"{out.dtype} with casting rule 'same_kind'")
    return ew.run(op, template, ins, in_dtypes, loop, out, device)


# The per-call fast path of a binary operator on two contiguous arrays of one shape: everything
# that depends only on (op, dtypes, device) is looked up once; what is left is one allocation
# and one launch (the bar is 10 us per small operation from Python).
_fast: dict[Any, tuple] = {}


def _fast_binary(name: str, a: Array, b: Array, reflected: bool) -> Any:
    from . import _codegen as cg

    shape = a.shape
    if b.shape != shape or not a.is_contiguous or not b.is_contiguous:
        return None
    device = a.device
    da, db = a.dtype, b.dtype
    key = (name, da, db, reflected, device)
    entry = _fast.get(key)
    if entry is None:
        if b.device != device:
            return None
        x, y = (b, a) if reflected else (a, b)
        ufunc, template = BINARY[name]
        loop = resolve(ufunc, (x.dtype, y.dtype))
        out_dt = loop[2]
        facts = cg.facts(device)
        fn_key = (name, template, (x.dtype, y.dtype), (loop[0], loop[1]), ("c", "c"), out_dt, "c", 0, facts.key)
        fn = cg.cached_function(fn_key, lambda: ew._build(
            "mc_k_" + name, template, [x.dtype, y.dtype], [loop[0], loop[1]], ["c", "c"], out_dt, "c", 0, facts),
            device, ew._options(facts, [loop[0], loop[1], out_dt]))
        # The last launch shape is kept with the entry (loops repeat one size), as one tuple
        # that threads replace whole, so none reads another size's shape.
        entry = _fast[key] = (fn, out_dt.name, out_dt.itemsize, facts, [(-1, 0, 0, 0)])
    fn, out_name, out_size, facts, last = entry
    out = _core.empty(shape, out_name, out_size, device)
    n = out.size
    if n:
        launch = last[0]
        if launch[0] != n:
            launch = last[0] = (n, *cg.launch_1d(facts, n))
        _, grid, block, chunk = launch
        if reflected:
            fn(n, chunk, b, a, out, grid=grid, block=block)
        else:
            fn(n, chunk, a, b, out, grid=grid, block=block)
    return out


def _binary_method(name: str, reflected: bool = False, inplace: bool = False):
    ufunc, template = BINARY[name]

    def method(self: Array, other: Any) -> Any:
        if not inplace and type(other) is Array:
            r = _fast_binary(name, self, other, reflected)
            if r is not None:
                return r
        args = (other, self) if reflected else (self, other)
        return apply(name, template, ufunc, args, out=self if inplace else None, first=self)

    method.__name__ = name
    return method


def _unary(name: str, a: Array, out: Array | None = None) -> Array:
    ufunc, template = UNARY[name]
    if name == "absolute":
        template = "mc_cabs({0})" if a.dtype.kind == "c" else "mc_abs<{L0} >({0})"
    elif name == "invert":
        template = "!{0}" if a.dtype == np.bool_ else "({L0})~{0}"
    return apply(name, template, ufunc, (a,), out=out, first=a)


def astype(self: Array, dtype: Any, copy: bool = True) -> Array:
    """A copy converted to ``dtype`` (C++ conversions: floats truncate toward zero into integers;
    complex to real keeps the real part)."""
    dt = np.dtype(dtype)
    if not copy and dt == self.dtype:
        return self
    out = _core.empty(self.shape, dt.name, dt.itemsize, self.device)
    return ew.run("cast", "{0}", [self], [self.dtype], [self.dtype], out, self.device)


def copy(self: Array) -> Array:
    """A contiguous copy on the same device."""
    return astype(self, self.dtype)


_copy = copy  # for functions whose own parameter is named `copy`


def to(self: Array, device: Any, copy: bool = True) -> Array:
    """This array on ``device`` (a ``Device`` or a name such as ``"cuda:1"``): a new contiguous
    array of the same shape and dtype. Between two GPUs the bytes go peer to peer where the
    driver allows it, else through pinned host memory (``manycore.cuda.copy_path(dst, src)``
    says which; ``manycore.copy`` returns it per copy). On the array's own device it is a copy
    too, unless ``copy=False``, which then returns the array itself."""
    target = _device(device)
    if target == self.device and not copy:
        return self
    src = self if self.is_contiguous else _copy(self)
    dt = self.dtype
    out = _core.empty(self.shape, "void" if dt.kind == "V" else dt.name, dt.itemsize, target)
    if out.size:
        _core.copy(out, src)
    return out


def fill(self: Array, value: Any) -> Array:
    """Sets every element to ``value`` (converted as NumPy converts it)."""
    v = _scalar(value, self.dtype) if not isinstance(value, (Array, np.ndarray)) else value
    if type(v) is Array or isinstance(v, np.ndarray):
        raise TypeError("fill() takes a scalar; use a[...] = array to copy an array in")
    ew.run("fill", "{0}", [v], [self.dtype], [self.dtype], self, self.device)
    return self


def _c_strides(shape: tuple[int, ...], itemsize: int) -> list[int]:
    out, step = [], itemsize
    for ext in reversed(shape):
        out.append(step)
        step *= max(ext, 1)
    return out[::-1]


def reshape(self: Array, *shape: Any) -> Array:
    """A view with a new shape (one extent may be -1); a non-contiguous array is copied first."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    size = self.size
    if shape.count(-1) > 1:
        raise ValueError("reshape: can only specify one unknown dimension (-1)")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != size:
        raise ValueError(f"reshape: cannot reshape array of size {size} into shape {shape}")
    base = self if self.is_contiguous else copy(self)
    return base._view(0, list(shape), _c_strides(shape, base.itemsize))


def ravel(self: Array) -> Array:
    """A 1-d view (a copy when the array is not contiguous)."""
    return reshape(self, -1)


def _index(self: Array, key: Any) -> Array:
    """Basic indexing: integers, slices (any step), ``...`` and ``None``; always a view."""
    if not isinstance(key, tuple):
        key = (key,)
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))) or isinstance(k, bool):
            raise IndexError(
                "manycore arrays support basic indexing only (integers, slices, ..., None); "
                f"got {type(k).__name__}; index the NumPy copy a.get() for advanced indexing"
            )
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > self.ndim:
        raise IndexError(f"too many indices for array: array is {self.ndim}-dimensional, but {n_real} were indexed")
    expanded: list[Any] = []
    for k in key:
        if k is Ellipsis:
            expanded += [slice(None)] * (self.ndim - n_real)
        else:
            expanded.append(k)
    if Ellipsis not in key:
        expanded += [slice(None)] * (self.ndim - n_real)
    offset, shape, strides = 0, [], []
    dim = 0
    for k in expanded:
        if k is None:
            shape.append(1)
            strides.append(0)
            continue
        ext, st = self.shape[dim], self.strides[dim]
        if isinstance(k, slice):
            start, stop, step = k.indices(ext)
            length = len(range(start, stop, step))
            if length:
                offset += start * st
            shape.append(length)
            strides.append(st * step)
        else:
            i = int(k)
            if not -ext <= i < ext:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {ext}")
            offset += (i % ext) * st
        dim += 1
    if 0 in shape:
        offset = 0
    return self._view(offset, shape, strides)


def getitem(self: Array, key: Any) -> Array:
    return _index(self, key)


def setitem(self: Array, key: Any, value: Any) -> None:
    target = _index(self, key)
    if type(value) is Array or isinstance(value, np.ndarray):
        v, _ = _operand(value, self.device, self)
        if np.broadcast_shapes(v.shape, target.shape) != target.shape:
            raise ValueError(f"could not broadcast input array from shape {v.shape} into shape {target.shape}")
        ew.run("assign", "{0}", [v], [v.dtype], [v.dtype], target, self.device)
    else:
        fill(target, value)


def get(self: Array):
    """A new numpy.ndarray with a copy of the data (non-contiguous views go through a copy)."""
    return _get(self if self.is_contiguous else copy(self))


def array_(self: Array, dtype: Any = None, copy: Any = None):
    out = get(self)
    return out if dtype is None else out.astype(dtype)


def item(self: Array) -> Any:
    """The only element as a Python scalar."""
    if self.size != 1:
        raise ValueError("can only convert an array of size 1 to a Python scalar")
    return get(self).reshape(()).item()


def _bool(self: Array) -> bool:
    if self.size != 1:
        raise ValueError("The truth value of an array with more than one element is ambiguous; "
                         "use a.any() or a.all()")
    return bool(item(self))


def cuda_array_interface(self: Array) -> dict:
    if self.device.kind != "cuda":
        raise AttributeError("__cuda_array_interface__ exists only for GPU arrays; CPU arrays have "
                             "__array_interface__")
    return {
        "shape": self.shape,
        "typestr": self.dtype.str,
        "data": (self.ptr, not self.writable),
        "strides": None if self.is_contiguous else self.strides,
        "version": 3,
        "stream": None,
    }


_get = Array.get


def install() -> None:
    """Attaches the operators and methods to manycore.Array (once, at import)."""
    A = Array
    for name, dunder in [("add", "add"), ("subtract", "sub"), ("multiply", "mul"),
                         ("true_divide", "truediv"), ("floor_divide", "floordiv"),
                         ("remainder", "mod"), ("power", "pow"), ("bitwise_and", "and"),
                         ("bitwise_or", "or"), ("bitwise_xor", "xor")]:
        setattr(A, f"__{dunder}__", _binary_method(name))
        setattr(A, f"__r{dunder}__", _binary_method(name, reflected=True))
        setattr(A, f"__i{dunder}__", _binary_method(name, inplace=True))
    for name, dunder in [("less", "lt"), ("less_equal", "le"), ("greater", "gt"),
                         ("greater_equal", "ge"), ("equal", "eq"), ("not_equal", "ne")]:
        setattr(A, f"__{dunder}__", _binary_method(name))
    A.__neg__ = lambda self: _unary("negative", self)
    A.__pos__ = lambda self: _unary("positive", self)
    A.__abs__ = lambda self: _unary("absolute", self)
    A.__invert__ = lambda self: _unary("invert", self)
    A.__getitem__ = getitem
    A.__setitem__ = setitem
    A.__bool__ = _bool
    A.__float__ = lambda self: float(item(self))
    A.__int__ = lambda self: int(item(self))
    A.__complex__ = lambda self: complex(item(self))
    A.__index__ = lambda self: operator.index(item(self))
    A.__array_ufunc__ = None  # NumPy defers to the reflected operators above
    A.__array__ = array_
    A.__cuda_array_interface__ = property(cuda_array_interface)
    A.get = get
    A.item = item
    A.astype = astype
    A.copy = copy
    A.to = to
    A.fill = fill
    A.reshape = reshape
    A.ravel = ravel
    A.T = property(lambda self: self._view(0, list(self.shape[::-1]), list(self.strides[::-1])))


# ---- Factories ------------------------------------------------------------------------------


def _device(device: Any) -> Device:
    if device is None:
        return _core.default_device()
    return device if isinstance(device, Device) else Device(str(device))


def full(shape: Any, fill_value: Any, dtype: Any = None, device: Any = None) -> Array:
    """An array of ``shape`` filled with ``fill_value`` (dtype as numpy.full chooses it)."""
    dt = np.array(fill_value).dtype if dtype is None else np.dtype(dtype)
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    a = _core.empty(tuple(shape), dt.name, dt.itemsize, _device(device))
    return fill(a, fill_value)


def ones(shape: Any, dtype: Any = np.float64, device: Any = None) -> Array:
    return full(shape, 1, dtype, device)


def _index_kernel(name: str, expr: str, out: Array, scalars: list[tuple[str, str, Any]]) -> Array:
    """out[i] = expr(i, scalars) for a fresh contiguous ``out``."""
    from . import _codegen as cg

    facts = cg.facts(out.device)
    ct = cg.c_type(out.dtype)
    key = ("index", name, expr, out.dtype, tuple(t for t, _, _ in scalars), facts.key)

    def build():
        params = ", ".join(f"{t} {n}" for t, n, _ in scalars)
        src = (cg.PREAMBLE + f"__global__ void mc_{name}(long long n, long long mc_chunk, {params}, "
               f"{ct}* __restrict__ out) {{\n    {cg.loop_header(facts)} {{ out[i] = {expr}; }}\n}}\n")
        return src, "mc_" + name

    fn = cg.cached_function(key, build, out.device)
    n = out.size
    if n:
        grid, block, chunk = cg.launch_1d(facts, n)
        fn(n, chunk, *[v for _, _, v in scalars], out, grid=grid, block=block)
    return out


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, device: Any = None) -> Array:
    """Like numpy.arange: values ``start + i*step`` (integers exact)."""
    if stop is None:
        start, stop = 0, start
    dt = np.dtype(dtype) if dtype is not None else np.arange(start, start + step, step).dtype
    n = len(np.arange(start, stop, step, dtype=np.float64 if dt.kind == "f" else None)) if dt.kind != "c" else 0
    if dt.kind in "iub":
        n = max(0, -(-(int(stop) - int(start)) // int(step))) if all(
            isinstance(v, (int, np.integer)) for v in (start, stop, step)) else n
        out = _core.empty((n,), dt.name, dt.itemsize, _device(device))
        return _index_kernel("arange_int", f"mc_cast<{_ct(dt)} >(mc_add<long long>(start, mc_mul<long long>(i, step)))", out,
                             [("long long", "start", int(start)), ("long long", "step", int(step))])
    out = _core.empty((n,), dt.name, dt.itemsize, _device(device))
    delta = float((start + step) - start)
    return _index_kernel("arange_float", f"({_ct(dt)})(start + (double)i * delta)", out,
                         [("double", "start", float(start)), ("double", "delta", delta)])


def _ct(dt: np.dtype) -> str:
    from ._codegen import c_type

    return c_type(dt)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
             device: Any = None) -> Array:
    """Like numpy.linspace: ``i*step + start``, the last value exactly ``stop`` when ``endpoint``."""
    dt = np.dtype(dtype) if dtype is not None else np.result_type(start, stop, float)
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    step = (float(stop) - float(start)) / div if div > 0 else 0.0
    out = _core.empty((num,), dt.name, dt.itemsize, _device(device))
    value = "(i == n - 1 && last) ? stop : (double)i * step + start"
    expr = f"({_ct(dt)})floor({value})" if dt.kind in "iu" else f"({_ct(dt)})({value})"
    return _index_kernel("linspace", expr, out, [("double", "start", float(start)), ("double", "step", step),
                                                  ("double", "stop", float(stop)), ("bool", "last", bool(endpoint and num > 1))])


def asarray(obj: Any, device: Any = None) -> Array:
    """``obj`` as a manycore.Array, without copying where the memory is already usable.

    A manycore.Array is returned as it is (copied when ``device`` names another device); NumPy
    arrays and lists are copied to ``device`` (zero-copy views of NumPy arrays on the CPU only
    through ``manycore.asarray(x, device='cpu')`` with a contiguous x); objects with
    ``__cuda_array_interface__`` or ``__dlpack__`` (CuPy, PyTorch) are wrapped zero-copy.
    """
    target = None if device is None else _device(device)
    if type(obj) is Array:
        if target is None or obj.device == target:
            return obj
        return to(obj, target)
    cai = getattr(obj, "__cuda_array_interface__", None) if not isinstance(obj, np.ndarray) else None
    if cai is not None:
        return _from_cuda_interface(obj, cai, target)
    if hasattr(obj, "__dlpack_device__") and not isinstance(obj, np.ndarray):
        dev_type, dev_id = obj.__dlpack_device__()
        if int(dev_type) == 2:  # kDLCUDA: a GPU tensor without the CUDA array interface
            raise TypeError(f"manycore.asarray: {type(obj).__name__} on a GPU exposes only DLPack; "
                            "pass an object with __cuda_array_interface__ (CuPy, PyTorch do)")
        obj = np.from_dlpack(obj)
    x = np.asarray(obj)
    if target is None or target.kind == "cpu":
        if target is None:
            target = _core.default_device()
        if target.kind == "cpu" and x.dtype.kind != "O":
            return wrap_numpy(x) if x.flags.c_contiguous else _core.to_device(np.ascontiguousarray(x), target)
    return _core.to_device(np.ascontiguousarray(x), target)


def _from_cuda_interface(obj: Any, cai: dict, target: Device | None) -> Array:
    typestr = cai["typestr"]
    dt = np.dtype(typestr)
    ptr, readonly = cai["data"]
    shape = tuple(cai["shape"])
    strides = cai.get("strides")
    device = target
    if device is None:
        dev = getattr(obj, "device", None)
        index = getattr(dev, "id", getattr(dev, "index", 0)) or 0
        device = Device(f"cuda:{int(index)}")
    if device.kind != "cuda":
        raise TypeError(f"manycore.asarray: {type(obj).__name__} lives on a GPU; ask for a GPU device "
                        "(device='cuda:N'), or copy it to the host first")
    return _core.wrap_device_pointer(ptr, shape, None if strides is None else tuple(strides), dt.name,
                                     dt.itemsize, device, obj, bool(readonly))

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.gpuarray``: ``GPUArray`` over a manycore array on the current device.

Arithmetic, comparisons, casts, reductions and indexing are manycore's generated kernels on the
array's device (result types follow NumPy 2); ``gpudata`` is the allocation (``int()`` gives its
address, which kernels and copies accept, offsets included) and a ``GPUArray`` passes to a
kernel as its pointer, as in PyCUDA.
"""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from .. import _core, reduction as mc_reduction
from .. import math as mc_math
from .._array_ops import arange as mc_arange
from .._arrays import empty as mc_empty
from ..elementwise import ElementwiseKernel as _McElementwiseKernel
from ._context import current_device
from ._errors import LogicError, translated
from ._memory import DeviceAllocation, _copy, device_bytes, pointer_of

__all__ = ["GPUArray", "to_gpu", "to_gpu_async", "empty", "zeros", "ones", "empty_like",
           "zeros_like", "ones_like", "arange", "take", "multi_take", "sum", "subset_sum", "dot",
           "vdot", "subset_dot", "minimum", "maximum", "min", "max", "subset_min", "subset_max",
           "if_positive", "where", "logical_and", "logical_or", "logical_not", "all", "any",
           "concatenate", "stack", "transpose", "reshape", "vec", "GPUArrayFlags"]


def _bytes_of(a: Any) -> Any:
    """A uint8 manycore view of a contiguous manycore array's bytes."""
    return _core.wrap_device_pointer(a.ptr, (a.nbytes,), None, "uint8", 1, a.device, a, False)


def _typed(raw: Any, shape: tuple, dtype: np.dtype, strides: Any) -> Any:
    """A ``dtype`` view over the bytes ``raw`` (a manycore uint8 array)."""
    name = dtype.name if dtype.kind != "V" else "void"
    return _core.wrap_device_pointer(raw.ptr, shape, None if strides is None else list(strides),
                                     name, dtype.itemsize, raw.device, raw, False)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (numbers.Integral, np.integer)):
        return (int(shape),)
    if isinstance(shape, np.ndarray):
        return tuple(int(s) for s in shape.reshape(-1))
    return tuple(int(s) for s in shape)


def _f_strides(shape: tuple, itemsize: int) -> tuple[int, ...]:
    out, step = [], itemsize
    for ext in shape:
        out.append(step)
        step *= builtins.max(ext, 1)
    return tuple(out)


def _contiguous(shape: tuple, strides: tuple, itemsize: int, order: str) -> bool:
    """NumPy's rule: extents of 1 may have any stride; an empty array is contiguous."""
    if 0 in shape:
        return True
    dims = range(len(shape) - 1, -1, -1) if order == "C" else range(len(shape))
    expected = itemsize
    for d in dims:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


class GPUArrayFlags:
    def __init__(self, a: GPUArray) -> None:
        shape, strides, size = a.shape, a.strides, a.dtype.itemsize
        self.c_contiguous = _contiguous(shape, strides, size, "C")
        self.f_contiguous = _contiguous(shape, strides, size, "F")
        self.forc = self.c_contiguous or self.f_contiguous


def _c_strides(shape: tuple, itemsize: int) -> tuple[int, ...]:
    return tuple(reversed(_f_strides(tuple(reversed(shape)), itemsize)))


class GPUArray:
    """An array in device memory, PyCUDA's: ``GPUArray(shape, dtype, allocator=None,
    base=None, gpudata=None, strides=None, order="C")``."""

    __array_priority__ = 100

    def __init__(self, shape: Any, dtype: Any, allocator: Any = None, base: Any = None,
                 gpudata: Any = None, strides: Any = None, order: str = "C") -> None:
        dtype = np.dtype(dtype)
        shape = _shape(shape)
        if strides is None:
            strides = _f_strides(shape, dtype.itemsize) if order == "F" else _c_strides(shape, dtype.itemsize)
        strides = tuple(int(s) for s in strides)
        nbytes = _extent(shape, strides, dtype.itemsize)
        with translated():
            if gpudata is None:
                gpudata = allocator(nbytes) if allocator is not None else \
                    DeviceAllocation(mc_empty((nbytes,), np.uint8, current_device()))
            raw = gpudata.mc_array if isinstance(gpudata, DeviceAllocation) \
                else device_bytes(pointer_of(gpudata), nbytes)
            self._setup(_typed(raw, shape, dtype, strides), base, gpudata)
            if dtype.fields is not None:
                self._dtype = dtype  # manycore keeps a structured type by its size only

    _dtype = None

    def _setup(self, array: Any, base: Any, gpudata: Any) -> None:
        self._a = array
        self.base = base
        self._gpudata = gpudata
        self._mc_kernel_arg = (array, True) if array.is_contiguous else None

    @classmethod
    def _wrap(cls, array: Any, base: Any = None) -> GPUArray:
        """A GPUArray over an existing manycore array (an operation's result or a view)."""
        self = cls.__new__(cls)
        self._setup(array, base, None)
        return self

    # ---- what it is

    @property
    def mc_array(self) -> Any:
        """The manycore array this is."""
        return self._a

    shape = property(lambda self: tuple(self._a.shape))
    dtype = property(lambda self: self._dtype or self._a.dtype)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    ndim = property(lambda self: self._a.ndim)
    strides = property(lambda self: tuple(self._a.strides))
    itemsize = property(lambda self: self._a.itemsize)
    mem_size = size

    @property
    def gpudata(self) -> Any:
        if self._gpudata is None:
            base = self
            while base.base is not None and isinstance(base.base, GPUArray):
                base = base.base
            if base is not self:
                base.gpudata  # registers the allocation this view lies in
                self._gpudata = self._a.ptr
            elif self._a.is_contiguous:
                self._gpudata = DeviceAllocation(_bytes_of(self._a))
            else:
                self._gpudata = self._a.ptr
        return self._gpudata

    @property
    def ptr(self) -> int:
        return int(self.gpudata)

    @property
    def flags(self) -> GPUArrayFlags:
        return GPUArrayFlags(self)

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self.shape, "strides": self.strides, "typestr": self.dtype.str,
                "data": (self.ptr, False), "stream": None, "version": 3}

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return repr(self.get())

    def __str__(self) -> str:
        return str(self.get())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous. "
                             "Use a.any() or a.all()")
        return bool(self.get())

    def __float__(self) -> float:
        return float(self.get())

    def __int__(self) -> int:
        return int(self.get())

    def __complex__(self) -> complex:
        return complex(self.get())

    def __index__(self) -> int:
        return int(self.get())

    # ---- transfers

    def get(self, ary: np.ndarray | None = None, pagelocked: bool = False, async_: bool = False,
            stream: Any = None) -> np.ndarray:
        with translated():
            if ary is None:
                result = self._a.get() if self.flags.c_contiguous or not self.flags.f_contiguous \
                    else self._f_get()
                if stream is None:
                    from ._timing import host_waited

                    host_waited()
                return result if self._dtype is None else result.view(self._dtype)
            if ary.shape != self.shape or ary.dtype != self.dtype:
                raise TypeError("'ary' has non-matching type or shape")
            src = self._a if self._a.is_contiguous else self._a.copy()
            _copy(ary if ary.flags.c_contiguous else ary.reshape(-1), src, stream)
            return ary

    def _f_get(self) -> np.ndarray:
        """A Fortran-ordered array's copy, as NumPy lays it out."""
        flat = _typed(_bytes_of_view(self._a), (self.size,), self.dtype, None).get()
        return flat.reshape(self.shape, order="F")

    def get_async(self, stream: Any = None, ary: np.ndarray | None = None) -> np.ndarray:
        return self.get(ary=ary, async_=True, stream=stream)

    def set(self, ary: Any, async_: bool = False, stream: Any = None) -> None:
        ary = np.asarray(ary)
        if ary.size != self.size:
            raise ValueError("ary and self must be the same size")
        if ary.dtype != self.dtype:
            raise ValueError("ary and self must have the same dtype")
        with translated():
            if self._a.is_contiguous and ary.flags.c_contiguous and ary.shape == self.shape:
                _copy(self._a, ary, stream)
            elif self.flags.f_contiguous and not self._a.is_contiguous:
                _copy(_typed(_bytes_of_view(self._a), (self.size,), self.dtype, None),
                      np.asfortranarray(ary.reshape(self.shape)).reshape(-1, order="F"), stream)
            else:
                self._a[...] = ary.reshape(self.shape)

    def set_async(self, ary: Any, stream: Any = None) -> None:
        self.set(ary, async_=True, stream=stream)

    # ---- elementwise

    def _op(self, other: Any, op: Any) -> Any:
        with translated():
            result = op(self._a, _unwrap(other))
        if result is NotImplemented:
            return NotImplemented
        return GPUArray._wrap(result)

    def __add__(self, o): return self._op(o, lambda a, b: a + b)  # noqa: E704
    def __radd__(self, o): return self._op(o, lambda a, b: b + a)  # noqa: E704
    def __sub__(self, o): return self._op(o, lambda a, b: a - b)  # noqa: E704
    def __rsub__(self, o): return self._op(o, lambda a, b: b - a)  # noqa: E704
    def __mul__(self, o): return self._op(o, lambda a, b: a * b)  # noqa: E704
    def __rmul__(self, o): return self._op(o, lambda a, b: b * a)  # noqa: E704
    def __truediv__(self, o): return self._op(o, lambda a, b: a / b)  # noqa: E704
    def __rtruediv__(self, o): return self._op(o, lambda a, b: b / a)  # noqa: E704
    def __floordiv__(self, o): return self._op(o, lambda a, b: a // b)  # noqa: E704
    def __rfloordiv__(self, o): return self._op(o, lambda a, b: b // a)  # noqa: E704
    def __mod__(self, o): return self._op(o, lambda a, b: a % b)  # noqa: E704
    def __pow__(self, o): return self._op(o, lambda a, b: a ** b)  # noqa: E704
    def __rpow__(self, o): return self._op(o, lambda a, b: b ** a)  # noqa: E704
    def __and__(self, o): return self._op(o, lambda a, b: a & b)  # noqa: E704
    def __or__(self, o): return self._op(o, lambda a, b: a | b)  # noqa: E704
    def __xor__(self, o): return self._op(o, lambda a, b: a ^ b)  # noqa: E704
    def __lt__(self, o): return self._op(o, lambda a, b: a < b)  # noqa: E704
    def __le__(self, o): return self._op(o, lambda a, b: a <= b)  # noqa: E704
    def __gt__(self, o): return self._op(o, lambda a, b: a > b)  # noqa: E704
    def __ge__(self, o): return self._op(o, lambda a, b: a >= b)  # noqa: E704
    def __eq__(self, o): return self._op(o, lambda a, b: a == b)  # noqa: E704
    def __ne__(self, o): return self._op(o, lambda a, b: a != b)  # noqa: E704
    __div__, __rdiv__ = __truediv__, __rtruediv__
    __hash__ = None  # type: ignore[assignment]

    def _iop(self, other: Any, op: Any) -> GPUArray:
        with translated():
            op(self._a, _unwrap(other))
        return self

    def __iadd__(self, o): return self._iop(o, _core.Array.__iadd__)  # noqa: E704
    def __isub__(self, o): return self._iop(o, _core.Array.__isub__)  # noqa: E704
    def __imul__(self, o): return self._iop(o, _core.Array.__imul__)  # noqa: E704
    def __itruediv__(self, o): return self._iop(o, _core.Array.__itruediv__)  # noqa: E704
    __idiv__ = __itruediv__

    def __neg__(self) -> GPUArray:
        return GPUArray._wrap(-self._a)

    def __pos__(self) -> GPUArray:
        return self

    def __abs__(self) -> GPUArray:
        return GPUArray._wrap(abs(self._a))

    def __invert__(self) -> GPUArray:
        return GPUArray._wrap(~self._a)

    def mul_add(self, selffac: Any, other: GPUArray, otherfac: Any, add_timer: Any = None,
                stream: Any = None, out: GPUArray | None = None) -> GPUArray:
        result = self * selffac + other * otherfac
        if out is None:
            return result
        out._a[...] = result._a
        return out

    def reverse(self, stream: Any = None) -> GPUArray:
        """A copy with the elements in reverse order (1-d)."""
        return GPUArray._wrap(self._a[::-1].copy())

    def fill(self, value: Any, stream: Any = None) -> GPUArray:
        with translated():
            if self.dtype.kind == "V":
                host = np.empty(self.shape, self.dtype)
                host[...] = value
                self.set(host)
            else:
                self._a.fill(value)
        return self

    def astype(self, dtype: Any, stream: Any = None) -> GPUArray:
        return GPUArray._wrap(self._a.astype(np.dtype(dtype)))

    def copy(self) -> GPUArray:
        if self.flags.f_contiguous and not self.flags.c_contiguous:
            out = empty(self.shape, self.dtype, order="F")
            out.set(self.get())
            return out
        return GPUArray._wrap(self._a.copy())

    def conj(self, out: GPUArray | None = None) -> GPUArray:
        if self.dtype.kind != "c":
            return self
        src = self if self.flags.forc else self.copy()
        if out is None:
            out = empty_like(src)
        if not out.flags.forc or out.strides != src.strides:
            out._a[...] = GPUArray._wrap(_conj(src._a))._a
        else:
            _conj(src._a, out._a)
        return out

    conjugate = conj

    def _part(self, which: int) -> GPUArray:
        out = empty_like(self, dtype=np.empty(0, self.dtype).real.dtype)
        out._a[...] = self._component(which)
        return out

    @property
    def real(self) -> GPUArray:
        return self._part(0) if self.dtype.kind == "c" else self

    @property
    def imag(self) -> GPUArray:
        return self._part(1) if self.dtype.kind == "c" else zeros_like(self)

    def _component(self, which: int) -> Any:
        part = np.empty(0, self.dtype).real.dtype
        return _core.wrap_device_pointer(self._a.ptr + which * part.itemsize, self.shape,
                                         list(self.strides), part.name, part.itemsize,
                                         self._a.device, self._a, False)

    # ---- shape

    def reshape(self, *shape: Any, order: str = "C") -> GPUArray:
        if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, np.integer)):
            shape = tuple(shape[0])
        if order == "F":
            host = self.get().reshape(shape, order="F")
            out = empty(host.shape, self.dtype, order="F")
            out.set(host)
            return out
        if not self._a.is_contiguous and self.flags.f_contiguous:
            return to_gpu(np.ascontiguousarray(self.get().reshape(shape)))
        return GPUArray._wrap(self._a.reshape(*shape), base=self)

    def ravel(self, order: str = "C") -> GPUArray:
        return self.reshape(-1, order=order)

    def view(self, dtype: Any = None) -> GPUArray:
        if dtype is None:
            return GPUArray._wrap(self._a, base=self)
        dtype = np.dtype(dtype)
        if not self._a.is_contiguous or self.nbytes % dtype.itemsize:
            raise ValueError("view(): the array must be contiguous and its bytes a whole number "
                             "of the new type's")
        shape = self.shape[:-1] + (self.shape[-1] * self.itemsize // dtype.itemsize,) if self.shape else ()
        return GPUArray._wrap(_typed(_bytes_of(self._a), shape, dtype, None), base=self)

    def squeeze(self) -> GPUArray:
        keep = [i for i, s in enumerate(self.shape) if s != 1]
        return GPUArray._wrap(self._a._view(0, [self.shape[i] for i in keep],
                                            [self.strides[i] for i in keep]), base=self)

    def transpose(self, axes: Any = None) -> GPUArray:
        if axes is None:
            axes = list(range(self.ndim))[::-1]
        return GPUArray._wrap(self._a._view(0, [self.shape[i] for i in axes],
                                            [self.strides[i] for i in axes]), base=self)

    @property
    def T(self) -> GPUArray:  # noqa: N802
        return self.transpose()

    def __getitem__(self, index: Any) -> GPUArray:
        with translated():
            return GPUArray._wrap(self._a[index], base=self)

    def __setitem__(self, index: Any, value: Any) -> None:
        with translated():
            self._a[index] = _unwrap(value)

    def setitem(self, subscript: Any, value: Any, stream: Any = None) -> None:
        self[subscript] = value

    # ---- reductions

    def sum(self, stream: Any = None) -> GPUArray:
        return sum(self)

    def max(self, stream: Any = None) -> GPUArray:
        return max(self)

    def min(self, stream: Any = None) -> GPUArray:
        return min(self)

    def dot(self, other: GPUArray) -> GPUArray:
        return dot(self, other)

    def any(self, stream: Any = None) -> GPUArray:
        return any(self)

    def all(self, stream: Any = None) -> GPUArray:
        return all(self)

    def bind_to_texref(self, *args: Any, **kwargs: Any) -> None:
        raise LogicError("texture references are not supported by manycore.pycuda")

    bind_to_texref_ext = bind_to_texref


def _extent(shape: tuple, strides: tuple, itemsize: int) -> int:
    if not shape:
        return itemsize
    if builtins.any(s == 0 for s in shape):
        return 0
    return builtins.sum((e - 1) * abs(s) for e, s in zip(shape, strides)) + itemsize


def _bytes_of_view(a: Any) -> Any:
    """The bytes a (possibly strided) manycore view spans, from its first element."""
    return _core.wrap_device_pointer(a.ptr, (_extent(tuple(a.shape), tuple(a.strides), a.itemsize),),
                                     None, "uint8", 1, a.device, a, False)


def _unwrap(x: Any) -> Any:
    if isinstance(x, GPUArray):
        return x._a
    return x


_conj_kernel: dict[Any, Any] = {}


def _conj(a: Any, out: Any = None) -> Any:
    """The complex conjugate of a contiguous (C or F) array, into ``out`` of the same layout."""
    if out is None:
        out = _core.empty(a.shape, a.dtype.name, a.itemsize, a.device)
    real = np.empty(0, a.dtype).real.dtype
    ctype = "float" if real == np.float32 else "double"
    k = _conj_kernel.get(ctype)
    if k is None:
        k = _conj_kernel[ctype] = _McElementwiseKernel(
            f"{ctype} *z, const {ctype} *x", "z[2*i] = x[2*i]; z[2*i+1] = -x[2*i+1]", "mc_conj")
    k(_typed(_bytes_of_view(out), (2 * a.size,), real, None),
      _typed(_bytes_of_view(a), (2 * a.size,), real, None), range=range(a.size))
    return out


# ---- creating arrays

def to_gpu(ary: Any, allocator: Any = None) -> GPUArray:
    """A GPUArray holding a copy of NumPy array ``ary`` (same shape, dtype and layout order)."""
    ary = np.asarray(ary)
    if ary.dtype.byteorder == ">":
        ary = ary.astype(ary.dtype.newbyteorder("="))
    order = "F" if ary.flags.f_contiguous and not ary.flags.c_contiguous else "C"
    result = GPUArray(ary.shape, ary.dtype, allocator=allocator, order=order)
    result.set(ary)
    return result


def to_gpu_async(ary: Any, allocator: Any = None, stream: Any = None) -> GPUArray:
    ary = np.asarray(ary)
    result = GPUArray(ary.shape, ary.dtype, allocator=allocator)
    result.set(ary, async_=True, stream=stream)
    return result


def empty(shape: Any, dtype: Any, allocator: Any = None, order: str = "C") -> GPUArray:
    return GPUArray(shape, dtype, allocator=allocator, order=order)


def zeros(shape: Any, dtype: Any = np.float64, allocator: Any = None, order: str = "C") -> GPUArray:
    result = GPUArray(shape, dtype, allocator=allocator, order=order)
    result.fill(0)
    return result


def ones(shape: Any, dtype: Any = np.float64, allocator: Any = None, order: str = "C") -> GPUArray:
    result = GPUArray(shape, dtype, allocator=allocator, order=order)
    result.fill(1)
    return result


def _like_order(other: Any, order: str) -> str:
    if order in ("K", "A"):
        flags = other.flags
        return "F" if flags.f_contiguous and not flags.c_contiguous else "C"
    return order


def empty_like(other_ary: Any, dtype: Any = None, order: str = "K") -> GPUArray:
    return empty(other_ary.shape, dtype or other_ary.dtype, order=_like_order(other_ary, order))


def zeros_like(other_ary: Any, dtype: Any = None, order: str = "K") -> GPUArray:
    return zeros(other_ary.shape, dtype or other_ary.dtype, order=_like_order(other_ary, order))


def ones_like(other_ary: Any, dtype: Any = None, order: str = "K") -> GPUArray:
    return ones(other_ary.shape, dtype or other_ary.dtype, order=_like_order(other_ary, order))


def arange(*args: Any, **kwargs: Any) -> GPUArray:
    """Like numpy.arange; ``dtype=`` picks the type (default: as NumPy chooses)."""
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"arange(): unexpected keyword argument {next(iter(kwargs))!r}")
    start, stop, step = (list(args) + [None, None])[:3]
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if dtype is None:
        dtype = np.arange(start, stop, step).dtype if builtins.all(isinstance(v, (int, float, np.number)) for v in (start, stop, step)) else np.float64
    with translated():
        return GPUArray._wrap(mc_arange(start, stop, step, dtype=np.dtype(dtype), device=current_device()))


# ---- reductions and elementwise functions

def _reduce(op: Any, a: GPUArray) -> GPUArray:
    with translated():
        return GPUArray._wrap(op(a._a))


def _allocated(result: GPUArray, allocator: Any) -> GPUArray:
    """``result`` in memory from ``allocator`` (PyCUDA's allocator= of reductions)."""
    if allocator is None:
        return result
    out = GPUArray(result.shape, result.dtype, allocator=allocator)
    out._a[...] = result._a
    return out


def sum(a: GPUArray, dtype: Any = None, stream: Any = None, allocator: Any = None) -> GPUArray:  # noqa: A001
    src = a._a if dtype is None else a._a.astype(np.dtype(dtype))
    with translated():
        return _allocated(GPUArray._wrap(mc_reduction.sum(src)), allocator)


def max(a: GPUArray, stream: Any = None, allocator: Any = None) -> GPUArray:  # noqa: A001
    return _reduce(mc_reduction.max, a)


def min(a: GPUArray, stream: Any = None, allocator: Any = None) -> GPUArray:  # noqa: A001
    return _reduce(mc_reduction.min, a)


def any(a: GPUArray, stream: Any = None) -> GPUArray:  # noqa: A001
    return _reduce(mc_reduction.any, a)


def all(a: GPUArray, stream: Any = None) -> GPUArray:  # noqa: A001
    return _reduce(mc_reduction.all, a)


def dot(a: GPUArray, b: GPUArray, dtype: Any = None, stream: Any = None, allocator: Any = None) -> GPUArray:
    with translated():
        x, y = a._a, b._a
        if dtype is not None:
            x, y = x.astype(np.dtype(dtype)), y.astype(np.dtype(dtype))
        return _allocated(GPUArray._wrap(mc_reduction.dot(x, y)), allocator)


def vdot(a: GPUArray, b: GPUArray, dtype: Any = None, stream: Any = None) -> GPUArray:
    return dot(a.conj(), b, dtype)


def take(a: GPUArray, indices: GPUArray, out: GPUArray | None = None, stream: Any = None) -> GPUArray:
    """``a[indices]`` for a 1-d array of indices."""
    if out is None:
        out = empty(indices.shape, a.dtype)
    _gather(a.dtype, indices.dtype)(out._a, indices._a, a._a, range=range(indices.size))
    return out


def multi_take(arrays: list, indices: GPUArray, out: list | None = None, stream: Any = None) -> list:
    outs = out or [None] * len(arrays)
    return [take(a, indices, o) for a, o in zip(arrays, outs)]


_gathers: dict[Any, Any] = {}


def _gather(dtype: np.dtype, index_dtype: np.dtype) -> Any:
    from .tools import dtype_to_ctype

    key = (dtype, index_dtype)
    k = _gathers.get(key)
    if k is None:
        t, it = _c(dtype), dtype_to_ctype(index_dtype)
        k = _gathers[key] = _McElementwiseKernel(f"{t} *out, const {it} *idx, const {t} *a",
                                                 "out[i] = a[idx[i]]", "mc_take")
    return k


def _c(dtype: np.dtype) -> str:
    from .._codegen import c_type

    return c_type(dtype)


def subset_sum(subset: GPUArray, a: GPUArray, dtype: Any = None, stream: Any = None,
               allocator: Any = None) -> GPUArray:
    return sum(take(a, subset), dtype, allocator=allocator)


def subset_max(subset: GPUArray, a: GPUArray, stream: Any = None,
               allocator: Any = None) -> GPUArray:
    return _allocated(max(take(a, subset)), allocator)


def subset_min(subset: GPUArray, a: GPUArray, stream: Any = None,
               allocator: Any = None) -> GPUArray:
    return _allocated(min(take(a, subset)), allocator)


def subset_dot(subset: GPUArray, a: GPUArray, b: GPUArray, dtype: Any = None,
               stream: Any = None, allocator: Any = None) -> GPUArray:
    return dot(take(a, subset), take(b, subset), dtype)


def minimum(a: Any, b: Any, out: GPUArray | None = None, stream: Any = None) -> GPUArray:
    return GPUArray._wrap(mc_math.minimum(_unwrap(a), _unwrap(b)))


def maximum(a: Any, b: Any, out: GPUArray | None = None, stream: Any = None) -> GPUArray:
    return GPUArray._wrap(mc_math.maximum(_unwrap(a), _unwrap(b)))


def where(criterion: Any, then_: Any, else_: Any) -> GPUArray:
    return GPUArray._wrap(mc_math.where(_unwrap(criterion), _unwrap(then_), _unwrap(else_)))


def if_positive(criterion: Any, then_: Any, else_: Any, out: Any = None, stream: Any = None) -> GPUArray:
    return where(criterion > 0, then_, else_)


def logical_and(a: Any, b: Any, out: Any = None) -> GPUArray:
    return (a != 0) & (b != 0) if isinstance(a, GPUArray) else (b != 0) & (a != 0)


def logical_or(a: Any, b: Any, out: Any = None) -> GPUArray:
    return (a != 0) | (b != 0) if isinstance(a, GPUArray) else (b != 0) | (a != 0)


def logical_not(a: Any, out: Any = None) -> GPUArray:
    return a == 0


def concatenate(arrays: list, axis: int = 0, allocator: Any = None) -> GPUArray:
    host = np.concatenate([a.get() for a in arrays], axis=axis)
    return to_gpu(host, allocator)


def stack(arrays: list, axis: int = 0, allocator: Any = None) -> GPUArray:
    host = np.stack([a.get() for a in arrays], axis=axis)
    return to_gpu(host, allocator)


def transpose(a: GPUArray, axes: Any = None) -> GPUArray:
    return a.transpose(axes)


def reshape(a: GPUArray, shape: Any, order: str = "C") -> GPUArray:
    return a.reshape(shape, order=order)


# ---- CUDA's vector types as NumPy dtypes: vec.float3, vec.make_float3(1, 2, 3)

class _VecTypes:
    def __init__(self) -> None:
        self.vec_type_names: dict[np.dtype, str] = {}
        self.types_by_name: dict[str, np.dtype] = {}
        bases = [("char", np.int8), ("uchar", np.uint8), ("short", np.int16), ("ushort", np.uint16),
                 ("int", np.int32), ("uint", np.uint32), ("long", np.int64), ("ulong", np.uint64),
                 ("longlong", np.int64), ("ulonglong", np.uint64), ("float", np.float32),
                 ("double", np.float64)]
        for base, scalar in bases:
            for n in (1, 2, 3, 4):
                name = f"{base}{n}"
                dtype = np.dtype([(c, scalar) for c in "xyzw"[:n]])
                setattr(self, name, dtype)
                self.vec_type_names.setdefault(dtype, name)
                self.types_by_name[name] = dtype
                setattr(self, f"make_{name}", self._maker(dtype))
                setattr(self, f"filled_{name}", self._filler(dtype, n))
                setattr(self, f"zero_{name}", self._filler(dtype, n)(0))

    @staticmethod
    def _maker(dtype: np.dtype):
        def make(*values: Any) -> Any:
            return np.array(tuple(values), dtype=dtype)[()]

        return make

    @staticmethod
    def _filler(dtype: np.dtype, n: int):
        def filled(value: Any) -> Any:
            return np.array((value,) * n, dtype=dtype)[()]

        return filled


vec = _VecTypes()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's memory: device allocations, pointers as ints, copies, page-locked host memory, and
``In``/``Out``/``InOut``.

An allocation is a manycore array of bytes on the current device; ``int(alloc)`` is its address
on that device (a host address on the CPU). Every allocation is recorded by address, so a
pointer given as a number (``int(alloc) + offset``, ``gpuarray.ptr``, ``np.intp(...)``) is
mapped back to the allocation it points into, on every device; a number that points into none
is a ``LogicError``.
"""

from __future__ import annotations

import bisect
import time
import weakref
from typing import Any

import numpy as np

from .. import _core
from .._arrays import empty as mc_empty
from ._context import current_device
from ._errors import LogicError, translated
from ._timing import host_waited, note_handler_copy

__all__ = ["DeviceAllocation", "PointerHolderBase", "mem_alloc", "mem_alloc_like", "mem_get_info",
           "memcpy_htod", "memcpy_dtoh", "memcpy_dtod", "memcpy_htod_async", "memcpy_dtoh_async",
           "memcpy_dtod_async", "memset_d8", "memset_d16", "memset_d32", "to_device",
           "from_device", "from_device_like", "pagelocked_empty", "pagelocked_zeros",
           "pagelocked_empty_like", "pagelocked_zeros_like", "aligned_empty", "aligned_zeros",
           "register_host_memory", "In", "Out", "InOut", "ArgumentHandler", "device_bytes",
           "pointer_of", "host_bytes"]

# Allocations by start address: sorted starts, and each start's allocation (weakly held).
_starts: list[int] = []
_by_start: dict[int, weakref.ref] = {}


def _forget(start: int) -> None:
    if start in _by_start:
        del _by_start[start]
        del _starts[bisect.bisect_left(_starts, start)]


class DeviceAllocation:
    """``mem_alloc``'s result: device memory of ``size`` bytes. ``int(a)`` is its address;
    kernels take it as any pointer, as PyCUDA passes it."""

    __slots__ = ("_array", "size", "_start", "_mc_kernel_arg", "__weakref__")

    def __init__(self, array: Any) -> None:
        self._array = array  # a 1-d uint8 manycore array
        self.size = array.nbytes
        self._start = array.ptr
        self._mc_kernel_arg = (array, False)
        if array.nbytes:
            bisect.insort(_starts, self._start)
            _by_start[self._start] = weakref.ref(self, lambda _, s=self._start: _forget(s))

    def __int__(self) -> int:
        self._check()
        return self._start

    __index__ = __int__

    def _check(self) -> None:
        if self._array is None:
            raise LogicError("this DeviceAllocation was freed; allocate another with mem_alloc")

    def free(self) -> None:
        """Gives the memory back now (otherwise when the last reference goes)."""
        if self._array is not None:
            _forget(self._start)
            self._array = None
            self._mc_kernel_arg = None

    @property
    def mc_array(self) -> Any:
        """The manycore array of bytes this allocation is."""
        self._check()
        return self._array

    def as_buffer(self, size: int, offset: int = 0) -> memoryview:
        """The bytes as a Python buffer: only where the memory is the host's (the CPU device)."""
        self._check()
        if self._array.device.kind != "cpu":
            raise LogicError("DeviceAllocation.as_buffer(): GPU memory is not addressable from the "
                             "host; copy it with memcpy_dtoh")
        return memoryview(np.asarray(self._array)[offset:offset + size])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceAllocation) and int(other) == int(self)

    def __hash__(self) -> int:
        return self._start

    def __repr__(self) -> str:
        state = "freed" if self._array is None else f"{self.size} bytes on {self._array.device}"
        return f"<DeviceAllocation {self._start:#x}: {state}>"


class PointerHolderBase:
    """For memory managed elsewhere: a subclass defines ``get_pointer()``, and instances are
    taken wherever a device pointer is."""

    def get_pointer(self) -> int:
        raise NotImplementedError

    def __int__(self) -> int:
        return int(self.get_pointer())

    __index__ = __int__

    def as_buffer(self, size: int, offset: int = 0) -> memoryview:
        array = device_bytes(int(self) + offset, size)
        return memoryview(np.asarray(array))


def pointer_of(x: Any) -> int:
    """The address PyCUDA would pass for ``x``: an allocation, a pointer holder, a number, a
    GPUArray or anything with ``__cuda_array_interface__``."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (DeviceAllocation, PointerHolderBase)):
        return int(x)
    gpudata = getattr(x, "gpudata", None)
    if gpudata is not None:
        return int(getattr(x, "ptr", gpudata))
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        return int(cai["data"][0])
    raise TypeError(f"a device pointer is a DeviceAllocation, a GPUArray, an int or an object with "
                    f"__cuda_array_interface__; got {type(x).__name__}")


def device_bytes(address: int, nbytes: int | None = None) -> Any:
    """A manycore uint8 array of the ``nbytes`` bytes at ``address`` (to the allocation's end
    when None), within the allocation that holds it."""
    i = bisect.bisect_right(_starts, address) - 1
    alloc = _by_start[_starts[i]]() if i >= 0 else None
    if alloc is None or alloc._array is None or address >= alloc._start + alloc.size:
        raise LogicError(f"the pointer {address:#x} points into no live allocation of "
                         "manycore.pycuda (mem_alloc, to_device, gpuarray); pointers must come "
                         "from those, with offsets inside them")
    offset = address - alloc._start
    left = alloc.size - offset
    if nbytes is None:
        nbytes = left
    if nbytes > left:
        raise LogicError(f"{nbytes} bytes at {address:#x} run {nbytes - left} bytes past the end "
                         f"of its allocation ({alloc.size} bytes)")
    return alloc._array._view(offset, [nbytes], [1])


def host_bytes(x: Any, writable: bool = False) -> np.ndarray:
    """The bytes of a host buffer (NumPy array, bytes, memoryview) as a flat uint8 array."""
    a = x if isinstance(x, np.ndarray) else np.frombuffer(x, np.uint8) if not writable else np.asarray(memoryview(x))
    if not a.flags.c_contiguous:
        if writable:
            raise ValueError("a copy's destination must be contiguous host memory")
        a = np.ascontiguousarray(a)
    if writable and not a.flags.writeable:
        raise ValueError("a copy's destination is read-only")
    return a.reshape(-1).view(np.uint8)


def mem_alloc(nbytes: int) -> DeviceAllocation:
    """``nbytes`` bytes on the current device (uninitialized)."""
    with translated():
        return DeviceAllocation(mc_empty((int(nbytes),), np.uint8, current_device()))


def mem_alloc_like(ary: Any) -> DeviceAllocation:
    return mem_alloc(ary.nbytes)


def mem_get_info() -> tuple[int, int]:
    """(free, total) bytes of the current device."""
    return tuple(_core.memory_info(current_device()))


def _copy(dst: Any, src: Any, stream: Any = None, handler: bool = False) -> None:
    """One copy; without a stream the host waits for it (and so for the work before it)."""
    start = time.perf_counter()
    with translated():
        _core.copy(dst, src, stream)
    if stream is None:
        host_waited()
    if handler:
        note_handler_copy(start)


def memcpy_htod(dest: Any, src: Any) -> None:
    """Copies host buffer ``src`` to the device memory at ``dest``."""
    s = host_bytes(src)
    _copy(device_bytes(pointer_of(dest), s.size), s)


def memcpy_dtoh(dest: Any, src: Any) -> None:
    """Copies device memory at ``src`` into host buffer ``dest`` (all of its bytes)."""
    d = host_bytes(dest, writable=True)
    _copy(d, device_bytes(pointer_of(src), d.size))


def memcpy_dtod(dest: Any, src: Any, size: int) -> None:
    _copy(device_bytes(pointer_of(dest), size), device_bytes(pointer_of(src), size))


def memcpy_htod_async(dest: Any, src: Any, stream: Any = None) -> None:
    s = host_bytes(src)
    _copy(device_bytes(pointer_of(dest), s.size), s, stream)


def memcpy_dtoh_async(dest: Any, src: Any, stream: Any = None) -> None:
    d = host_bytes(dest, writable=True)
    _copy(d, device_bytes(pointer_of(src), d.size), stream)


def memcpy_dtod_async(dest: Any, src: Any, size: int, stream: Any = None) -> None:
    _copy(device_bytes(pointer_of(dest), size), device_bytes(pointer_of(src), size), stream)


def _memset(dest: Any, value: int, count: int, dtype: Any) -> None:
    dt = np.dtype(dtype)
    target = device_bytes(pointer_of(dest), count * dt.itemsize)
    pattern = np.full(count, value, dt)
    _copy(target, pattern.view(np.uint8))


def memset_d8(dest: Any, data: int, count: int) -> None:
    _memset(dest, data, count, np.uint8)


def memset_d16(dest: Any, data: int, count: int) -> None:
    _memset(dest, data, count, np.uint16)


def memset_d32(dest: Any, data: int, count: int) -> None:
    _memset(dest, data, count, np.uint32)


def to_device(bf_obj: Any) -> DeviceAllocation:
    """A new allocation holding a copy of the host buffer ``bf_obj``."""
    s = host_bytes(bf_obj)
    alloc = mem_alloc(s.size)
    _copy(alloc.mc_array, s)
    return alloc


def from_device(devptr: Any, shape: Any, dtype: Any, order: str = "C") -> np.ndarray:
    out = np.empty(shape, dtype, order=order)
    memcpy_dtoh(out, devptr)
    return out


def from_device_like(devptr: Any, other_ary: np.ndarray) -> np.ndarray:
    out = np.empty_like(other_ary)
    memcpy_dtoh(out, devptr)
    return out


def pagelocked_empty(shape: Any, dtype: Any, order: str = "C", mem_flags: int = 0) -> np.ndarray:
    """Page-locked host memory as a NumPy array: on a GPU, copies to and from it run at full
    speed and may be asynchronous; on the CPU it is ordinary memory."""
    dt = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    count = int(np.prod(shape, dtype=np.int64))
    if current_device().kind == "cpu" or dt.kind not in "biufc":
        return np.empty(shape, dt, order=order)
    pinned = np.asarray(_core.pinned_empty([count * dt.itemsize], "uint8"))
    return pinned.view(dt).reshape(shape, order=order)


def pagelocked_zeros(shape: Any, dtype: Any, order: str = "C", mem_flags: int = 0) -> np.ndarray:
    a = pagelocked_empty(shape, dtype, order, mem_flags)
    a.fill(0)
    return a


def pagelocked_empty_like(array: np.ndarray, mem_flags: int = 0) -> np.ndarray:
    order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
    return pagelocked_empty(array.shape, array.dtype, order, mem_flags)


def pagelocked_zeros_like(array: np.ndarray, mem_flags: int = 0) -> np.ndarray:
    a = pagelocked_empty_like(array, mem_flags)
    a.fill(0)
    return a


def aligned_empty(shape: Any, dtype: Any, order: str = "C", alignment: int = 4096) -> np.ndarray:
    dt = np.dtype(dtype)
    count = int(np.prod((shape,) if isinstance(shape, int) else shape, dtype=np.int64))
    raw = np.empty(count * dt.itemsize + alignment, np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + count * dt.itemsize].view(dt).reshape(shape, order=order)


def aligned_zeros(shape: Any, dtype: Any, order: str = "C", alignment: int = 4096) -> np.ndarray:
    a = aligned_empty(shape, dtype, order, alignment)
    a.fill(0)
    return a


def register_host_memory(ary: np.ndarray, flags: int = 0) -> np.ndarray:
    """Returns ``ary``: copies from host memory work the same, pinned or not."""
    return ary


# ---- In, Out, InOut ---------------------------------------------------------------------------

def _memory_order(a: np.ndarray) -> np.ndarray:
    """The elements of ``a`` in memory order, 1-d: a view of a contiguous array, else a copy."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if a.flags.f_contiguous:
        return a.T.reshape(-1)
    return np.ravel(a, order="K")


class ArgumentHandler:
    """A host array passed to a kernel: copied to the device before the launch (``In``,
    ``InOut``) and back after it (``Out``, ``InOut``). The kernel works on a copy on every
    device, the CPU included, so its writes to an ``In`` array never reach the host array and an
    ``Out`` array's old contents are never read."""

    _mc_kernel_arg = None  # the launch asks manycore.pycuda to convert it
    copy_in = True
    copy_out = True

    def __init__(self, array: Any) -> None:
        if not isinstance(array, np.ndarray):
            array = np.asarray(array)
        if self.copy_out and not array.flags.writeable:
            raise ValueError(f"{type(self).__name__}(): the array is read-only, so the kernel's "
                             "results cannot be copied back into it")
        if self.copy_out and not array.flags.c_contiguous and not array.flags.f_contiguous:
            raise ValueError(f"{type(self).__name__}(): the array must be contiguous, for the "
                             "results to be copied back into it")
        self.array = array
        self.device_array: Any = None

    def get_device_alloc(self) -> Any:
        return self.device_array

    def pre_call(self, stream: Any = None) -> Any:
        """The device array the kernel gets (typed as the host array, so its element type is
        checked against the kernel's pointer)."""
        a = self.array
        flat = _memory_order(a)
        with translated():
            self.device_array = mc_empty(flat.shape, a.dtype, current_device())
        if self.copy_in:
            _copy(self.device_array, np.ascontiguousarray(flat), stream, handler=True)
        return self.device_array

    def post_call(self, stream: Any = None) -> None:
        if self.copy_out:
            _copy(_memory_order(self.array), self.device_array, stream, handler=True)
        self.device_array = None


class In(ArgumentHandler):
    """A host array the kernel reads: copied to the device before the launch, never back."""

    copy_out = False


class Out(ArgumentHandler):
    """A host array the kernel writes: copied back after the launch; its old contents are not
    copied to the device (the kernel must not read them)."""

    copy_in = False


class InOut(ArgumentHandler):
    """A host array the kernel reads and writes: copied in before and back after the launch."""

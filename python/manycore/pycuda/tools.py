# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.tools``: device data and occupancy, contexts, memory pools, C types.

``DeviceData`` and ``OccupancyRecord`` follow today's occupancy rules (NVIDIA's occupancy
calculator: registers allocated per warp in units, per sub-partition; shared memory in units,
plus the driver's reserve per block) with the limits of the device's architecture
(``manycore.cuda.arch_limits``). On the CPU they answer for the GPU the CPU stands in for
(``MANYCORE_EMULATED_ARCH``, default ``sm_90``), which ``DeviceData.arch`` and its ``repr`` say.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._resources import emulated_arch
from ..cuda import arch_limits
from ._context import Context, Device
from ._memory import DeviceAllocation, mem_alloc, pagelocked_empty

__all__ = ["DeviceData", "OccupancyRecord", "make_default_context", "clear_context_caches",
           "DeviceMemoryPool", "PageLockedMemoryPool", "PooledDeviceAllocation", "dtype_to_ctype",
           "get_default_device", "mark_cuda_test", "register_dtype", "init_cuda_context_fixture", "bitlog2",
           "context_dependent_memoize", "VectorArg", "ScalarArg", "parse_c_arg", "get_arg_type"]


def bitlog2(n: int) -> int:
    """floor(log2(n)) for n > 0."""
    return int(n).bit_length() - 1


class DeviceData:
    """What an occupancy calculation needs of a device (PyCUDA's names): ``max_threads``,
    ``warp_size``, ``warps_per_mp``, ``thread_blocks_per_mp``, ``registers`` (per
    multiprocessor), ``shared_memory`` (per multiprocessor, less nothing), ``smem_granularity``,
    and ``arch``, the architecture the numbers are for ("sm_90")."""

    def __init__(self, dev: Device | None = None) -> None:
        if dev is None:
            dev = Context.get_device() if Context.get_current() is not None else Device(0)
        self.device = dev
        on_cpu = dev.mc_device.kind == "cpu"
        self.arch = emulated_arch() if on_cpu else "sm_%d%d" % dev.compute_capability()
        self.emulated = on_cpu
        limits = arch_limits(self.arch)
        self.limits = limits
        self.max_threads = limits.max_threads_per_block
        self.warp_size = limits.warp_size
        self.warps_per_mp = limits.max_warps_per_sm
        self.thread_blocks_per_mp = limits.max_blocks_per_sm
        self.registers = limits.registers_per_sm
        self.shared_memory = limits.shared_per_sm
        self.smem_granularity = limits.shared_allocation_unit
        self.required_alignment = 256

    def align(self, bytes: int, word_size: int = 4) -> int:  # noqa: A002 - PyCUDA's name
        return _ceil(bytes, self.align_bytes(word_size))

    def align_dtype(self, elements: int, dtype_size: int) -> int:
        return _ceil(elements, self.align_words(dtype_size))

    def align_words(self, word_size: int) -> int:
        return self.align_bytes(word_size) // word_size

    def align_bytes(self, word_size: int = 4) -> int:
        if word_size == 4:
            return 64
        if word_size == 8:
            return 128
        if word_size == 16:
            return 128
        raise ValueError("no alignment possible for fetches of size %d" % word_size)

    def coalesce(self, thread_count: int) -> int:
        return _ceil(thread_count, 16)

    @staticmethod
    def make_valid_tex_channel_count(size: int) -> int:
        valid_sizes = [1, 2, 4]
        for vs in valid_sizes:
            if size <= vs:
                return vs
        raise ValueError("could not enlarge argument to valid channel count")

    def __repr__(self) -> str:
        where = (f"the CPU standing in for {self.arch} (MANYCORE_EMULATED_ARCH)" if self.emulated
                 else self.arch)
        return (f"<DeviceData of {where}: {self.max_threads} threads/block, {self.warps_per_mp} "
                f"warps and {self.thread_blocks_per_mp} blocks/SM, {self.registers} registers/SM, "
                f"{self.shared_memory} B shared/SM>")


def _ceil(value: int, unit: int) -> int:
    return -(-int(value) // unit) * unit


class OccupancyRecord:
    """How many blocks of ``threads`` threads, ``shared_mem`` bytes of shared memory and
    ``registers`` registers per thread fit on one multiprocessor: ``tb_per_mp``, what limits it
    (``limited_by``: "device", "warps", "regs" or "smem"), ``warps_per_mp`` and ``occupancy``
    (resident warps over the most there can be)."""

    def __init__(self, devdata: DeviceData, threads: int, shared_mem: int = 0,
                 registers: int = 0) -> None:
        if threads > devdata.max_threads:
            raise ValueError("too many threads")
        limits = devdata.limits
        warps = -(-int(threads) // devdata.warp_size)
        candidates = [(devdata.thread_blocks_per_mp, "device"),
                      (devdata.warps_per_mp // warps, "warps")]
        if registers:
            if registers > limits.max_registers_per_thread:
                raise ValueError(f"{registers} registers per thread exceed the "
                                 f"{limits.max_registers_per_thread} of {devdata.arch}")
            per_warp = _ceil(registers * devdata.warp_size, limits.register_allocation_unit)
            per_partition = limits.registers_per_sm // limits.sub_partitions
            warps_by_regs = per_partition // per_warp * limits.sub_partitions
            blocks = warps_by_regs // warps if warps * per_warp <= limits.max_registers_per_block else 0
            candidates.append((blocks, "regs"))
        if shared_mem:
            per_block = _ceil(shared_mem + limits.reserved_shared_per_block, devdata.smem_granularity)
            candidates.append((devdata.shared_memory // per_block, "smem"))
        self.tb_per_mp, self.limited_by = min(candidates, key=lambda c: c[0])
        self.warps_per_mp = self.tb_per_mp * warps
        self.occupancy = self.warps_per_mp / devdata.warps_per_mp

    def __repr__(self) -> str:
        return (f"<OccupancyRecord {self.tb_per_mp} blocks/SM ({self.warps_per_mp} warps, "
                f"occupancy {self.occupancy:.2f}), limited by {self.limited_by}>")


# ---- contexts

def get_default_device(default: int = 0) -> Device:
    import os

    return Device(int(os.environ.get("CUDA_DEVICE", default)))


def make_default_context(ctx_maker: Callable[[Device], Context] | None = None) -> Context:
    """A context on the first device (``CUDA_DEVICE`` picks another): the first GPU, else the CPU."""
    import os

    if ctx_maker is None:
        def ctx_maker(dev: Device) -> Context:
            return dev.make_context()

    ordinal = os.environ.get("CUDA_DEVICE")
    if ordinal is not None:
        return ctx_maker(Device(int(ordinal)))
    return ctx_maker(Device(0))


def clear_context_caches() -> None:
    """Drops what was memoized per context (nothing is kept per context here)."""
    _memoized.clear()


_memoized: dict[Any, Any] = {}


def context_dependent_memoize(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        key = (func, args)
        if key not in _memoized:
            _memoized[key] = func(*args)
        return _memoized[key]

    return wrapper


def mark_cuda_test(inner_f: Callable) -> Callable:
    """Runs a test with a fresh default context (PyCUDA's test decorator)."""
    @functools.wraps(inner_f)
    def f(*args: Any, **kwargs: Any) -> Any:
        ctx = make_default_context()
        try:
            return inner_f(*args, **kwargs)
        finally:
            ctx.pop()
            clear_context_caches()

    return f


def init_cuda_context_fixture():  # noqa: ANN201 - a generator for a pytest fixture
    ctx = make_default_context()
    yield
    ctx.pop()
    clear_context_caches()


# ---- memory pools

_MANTISSA_BITS = 2
_MANTISSA_MASK = (1 << _MANTISSA_BITS) - 1


class PooledDeviceAllocation(DeviceAllocation):
    """An allocation from a ``DeviceMemoryPool``; ``free()`` gives it back to the pool."""

    __slots__ = ("_pool", "_bin")

    def free(self) -> None:
        if self._array is not None:
            array = self._array
            super().free()
            self._pool._release(self._bin, array)

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:  # noqa: BLE001 - at interpreter exit the pool may be gone
            pass


class DeviceMemoryPool:
    """Keeps freed device blocks, by size class, for reuse (PyCUDA's pool and its bins: four
    size classes per power of two)."""

    def __init__(self) -> None:
        self._held: dict[int, list[Any]] = {}
        self.active_blocks = 0
        self._holding = True

    @staticmethod
    def bin_number(size: int) -> int:
        if size <= 0:
            return 0
        e = bitlog2(size)
        shift = e - _MANTISSA_BITS
        m = (size >> shift if shift >= 0 else size << -shift) & _MANTISSA_MASK
        return e << _MANTISSA_BITS | m

    @staticmethod
    def alloc_size(bin_nr: int) -> int:
        e, m = bin_nr >> _MANTISSA_BITS, bin_nr & _MANTISSA_MASK
        head = (1 << _MANTISSA_BITS) | m
        shift = e - _MANTISSA_BITS
        if shift < 0:
            return head >> -shift
        return (head << shift) | ((1 << shift) - 1)

    @property
    def held_blocks(self) -> int:
        return sum(len(v) for v in self._held.values())

    def allocate(self, size: int) -> PooledDeviceAllocation:
        bin_nr = self.bin_number(size)
        blocks = self._held.get(bin_nr)
        array = blocks.pop() if blocks else mem_alloc(self.alloc_size(bin_nr)).mc_array
        alloc = PooledDeviceAllocation(array)
        alloc._pool, alloc._bin = self, bin_nr
        self.active_blocks += 1
        return alloc

    __call__ = allocate

    def _release(self, bin_nr: int, array: Any) -> None:
        self.active_blocks -= 1
        if self._holding:
            self._held.setdefault(bin_nr, []).append(array)

    def free_held(self) -> None:
        self._held.clear()

    def stop_holding(self) -> None:
        self._holding = False
        self.free_held()


class PageLockedMemoryPool:
    """Page-locked host arrays, kept for reuse by size."""

    def __init__(self) -> None:
        self._held: dict[int, list[np.ndarray]] = {}
        self.active_blocks = 0

    @property
    def held_blocks(self) -> int:
        return sum(len(v) for v in self._held.values())

    def allocate(self, shape: Any, dtype: Any, order: str = "C") -> np.ndarray:
        self.active_blocks += 1
        return pagelocked_empty(shape, dtype, order)

    def free_held(self) -> None:
        self._held.clear()

    def stop_holding(self) -> None:
        self.free_held()


# ---- C types

_registered: dict[np.dtype, str] = {}


def register_dtype(dtype: Any, c_name: str, alias_ok: bool = False) -> None:
    """Names a structured dtype's C type for ``dtype_to_ctype`` (manycore's generated kernels
    take the built-in types and CUDA's vector types only)."""
    _registered[np.dtype(dtype)] = c_name


def dtype_to_ctype(dtype: Any, with_fp_tex_hack: bool = False) -> str:
    """The C type of a NumPy dtype, as PyCUDA's kernels spell it."""
    dtype = np.dtype(dtype)
    if dtype in _registered:
        return _registered[dtype]
    if dtype.fields is not None:
        from .gpuarray import vec

        name = vec.vec_type_names.get(dtype)
        if name is not None:
            return name
        raise ValueError(f"unable to map dtype '{dtype}'")
    if with_fp_tex_hack and dtype in (np.float32, np.float64):
        return "fp_tex_" + ("float" if dtype == np.float32 else "double")
    names = {
        np.dtype(np.int8): "signed char", np.dtype(np.uint8): "unsigned char",
        np.dtype(np.int16): "short", np.dtype(np.uint16): "unsigned short",
        np.dtype(np.int32): "int", np.dtype(np.uint32): "unsigned int",
        np.dtype(np.int64): "long long", np.dtype(np.uint64): "unsigned long long",
        np.dtype(np.float32): "float", np.dtype(np.float64): "double",
        np.dtype(np.complex64): "pycuda::complex<float>",
        np.dtype(np.complex128): "pycuda::complex<double>", np.dtype(np.bool_): "bool",
    }
    try:
        return names[dtype]
    except KeyError:
        raise ValueError(f"unable to map dtype '{dtype}'") from None


class _Argument:
    def __init__(self, dtype: Any, name: str) -> None:
        self.dtype = np.dtype(dtype)
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.dtype})"


class VectorArg(_Argument):
    def declarator(self) -> str:
        return f"{dtype_to_ctype(self.dtype)} *{self.name}"

    struct_char = "P"


class ScalarArg(_Argument):
    def declarator(self) -> str:
        return f"{dtype_to_ctype(self.dtype)} {self.name}"

    @property
    def struct_char(self) -> str:
        return self.dtype.char


_C_NAMES = {
    "float": np.float32, "double": np.float64, "int": np.int32, "unsigned int": np.uint32,
    "unsigned": np.uint32, "long long": np.int64, "unsigned long long": np.uint64,
    "long": np.int64, "unsigned long": np.uint64, "short": np.int16, "unsigned short": np.uint16,
    "char": np.int8, "signed char": np.int8, "unsigned char": np.uint8, "bool": np.bool_,
    "pycuda::complex<float>": np.complex64, "pycuda::complex<double>": np.complex128,
}


def parse_c_arg(c_arg: str) -> _Argument:
    """``"float *x"`` -> VectorArg(float32, "x"); ``"int n"`` -> ScalarArg(int32, "n")."""
    c_arg = c_arg.replace("const", "").replace("__restrict__", "").strip()
    pointer = "*" in c_arg
    decl = c_arg.replace("*", " ").split()
    name, tp = decl[-1], " ".join(decl[:-1])
    if tp in _C_NAMES:
        dtype = np.dtype(_C_NAMES[tp])
    else:
        from .gpuarray import vec

        dtype = vec.types_by_name.get(tp)
        if dtype is None:
            raise ValueError(f"unknown type '{tp}'")
    return (VectorArg if pointer else ScalarArg)(dtype, name)


def get_arg_type(c_arg: str) -> str:
    return parse_c_arg(c_arg).struct_char


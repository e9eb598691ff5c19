# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What is particular to NVIDIA GPUs: the caching memory pool of each device, and compiling
for a GPU architecture on a machine that has none (NVRTC is enough).

GPU arrays take their memory from a per-device pool that keeps freed blocks for reuse, because
``cuMemAlloc`` and ``cuMemFree`` synchronise the device and cost tens of microseconds. The pool
gives memory back to the driver when an allocation would fail (then retries once) and when asked:

>>> pool = mc.cuda.memory_pool()          # the default GPU's            # doctest: +SKIP
>>> pool.used_bytes(), pool.held_bytes()                                  # doctest: +SKIP
>>> pool.free_all_blocks()                                                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from . import _core
from ._core import Device

__all__ = ["MemoryPool", "memory_pool", "compile", "CompiledImage", "ArchLimits", "arch_limits",
           "known_architectures", "copy_path"]


class MemoryPool:
    """The memory pool of one GPU (CuPy's ``MemoryPool`` method names)."""

    def __init__(self, device: Device) -> None:
        if device.kind != "cuda":
            raise ValueError(f"memory_pool(): {device} is not a GPU; the pool serves cuda devices")
        self.device = device

    def used_bytes(self) -> int:
        """Bytes in blocks that arrays hold (rounded up to the pool's size classes)."""
        return _core.memory_pool_stats(self.device)[0]

    def held_bytes(self) -> int:
        """Bytes taken from the device: used plus kept for reuse."""
        return _core.memory_pool_stats(self.device)[1]

    total_bytes = held_bytes  # CuPy's name

    def free_blocks(self) -> int:
        """Freed blocks kept for reuse."""
        return _core.memory_pool_stats(self.device)[2]

    n_free_blocks = free_blocks  # CuPy's name

    def free_all_blocks(self) -> int:
        """Gives every cached block back to the driver; returns the bytes released."""
        return _core.free_all_blocks(self.device)

    def __repr__(self) -> str:
        return (f"<manycore.cuda.MemoryPool {self.device}: used {self.used_bytes()} B, "
                f"held {self.held_bytes()} B>")


def memory_pool(device: Device | str | None = None) -> MemoryPool:
    """The memory pool of ``device`` (default: the default device, which must be a GPU)."""
    if device is None:
        device = _core.default_device()
    elif isinstance(device, str):
        device = Device(device)
    return MemoryPool(device)


def copy_path(dst: Device | str, src: Device | str) -> str:
    """How copies from GPU ``src`` to GPU ``dst`` go: ``'device'`` (the same GPU), ``'peer'``
    (directly, over NVLink or PCIe: the driver allows peer access between the two, and
    ``MANYCORE_PEER_COPY`` is not ``0``) or ``'staged'`` (through pinned host memory). The
    first call for a pair enables peer access between them. ``manycore.copy`` returns the path
    each copy took."""
    return _core.gpu_copy_path(Device(dst) if isinstance(dst, str) else dst,
                               Device(src) if isinstance(src, str) else src)


@dataclass(frozen=True)
class CompiledImage:
    """What :func:`compile` gives: ``image`` is a cubin (``cubin=True``) or PTX for ``target``."""

    image: bytes
    cubin: bool
    target: str
    log: str


def _compute_capability(arch: int | str | None) -> int:
    if arch is None:
        gpus = [d for d in _core.devices() if d.kind == "cuda"]
        if not gpus:
            raise ValueError("manycore.cuda.compile(): no GPU here to take the architecture from; "
                             "pass arch=, e.g. arch='sm_90' or arch=90")
        major, minor = gpus[0].compute_capability
        return 10 * major + minor
    if isinstance(arch, int):
        return arch
    text = str(arch).strip().lower()
    for prefix in ("sm_", "compute_"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if "." in text:
        major, _, minor = text.partition(".")
        text = major + minor
    if not text.isdigit():
        raise ValueError(f"manycore.cuda.compile(): arch={arch!r} is not an architecture; "
                         "write 'sm_90', '9.0' or 90")
    return int(text)


def compile(source: str, arch: int | str | None = None, options: Iterable[str] = (),
            name_expressions: Iterable[str] = (), checked: bool = False) -> CompiledImage:
    """Compiles ``source`` as a ``SourceModule`` on a GPU of architecture ``arch`` would (the
    same prelude, options and checks), without needing that GPU or any driver: a cubin when
    this NVRTC knows ``arch``, else PTX for the newest architecture below it. PyCUDA's
    ``pycuda.compiler.compile`` in spirit. Raises ``CompileError`` with NVRTC's log (the user's
    line numbers) and ``DeviceUnavailable`` when NVRTC is not installed. With ``checked=True``
    the kernels are compiled with bounds checks, as ``SourceModule(checked=True)`` on that GPU."""
    if not hasattr(_core, "cuda_compile"):
        from .errors import DeviceUnavailable

        raise DeviceUnavailable("manycore.cuda.compile(): this manycore was built without the "
                                "CUDA room (MANYCORE_ENABLE_CUDA=OFF)")
    if isinstance(options, str):
        raise TypeError("options must be a sequence of strings, e.g. ['-lineinfo'], not one string")
    image, cubin, target, log = _core.cuda_compile(
        source, _compute_capability(arch), [str(o) for o in options], [str(n) for n in name_expressions],
        bool(checked))
    return CompiledImage(image, cubin, target, log)


@dataclass(frozen=True)
class ArchLimits:
    """What one NVIDIA GPU architecture allows a block and a multiprocessor (SM): the numbers an
    occupancy calculation needs. From NVIDIA's published tables (the CUDA C++ Programming
    Guide's "Technical Specifications per Compute Capability") and its occupancy calculator
    (``cuda_occupancy.h``: allocation units, sub-partitions, the reserved shared memory).
    Shared memory is in bytes, registers are 32-bit registers."""

    arch: str  # "sm_90"
    warp_size: int
    max_threads_per_block: int
    max_threads_per_sm: int
    max_warps_per_sm: int
    max_blocks_per_sm: int
    registers_per_sm: int
    max_registers_per_block: int
    max_registers_per_thread: int
    register_allocation_unit: int  # registers, allocated per warp in units of this many
    register_allocation_granularity: str  # "warp"
    sub_partitions: int  # each holds an equal share of the register file
    shared_per_sm: int  # the largest shared-memory carve-out
    max_shared_per_block: int  # without opting in
    max_shared_per_block_optin: int  # with cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)
    shared_allocation_unit: int
    reserved_shared_per_block: int  # kept by the driver for each block (sm_80 on)


_limits: dict[str, ArchLimits] = {}


def arch_limits(arch: str | int) -> ArchLimits:
    """The limits of GPU architecture ``arch`` (``"sm_90"``, ``"9.0"``, ``90``), for every
    architecture from sm_50 to sm_121 (:func:`known_architectures`). An unknown one is an
    ``InvalidArgument`` (a ``ValueError``) listing them."""
    key = f"sm_{arch}" if isinstance(arch, int) else str(arch)
    limits = _limits.get(key)
    if limits is None:
        limits = _limits[key] = ArchLimits(**_core.arch_limits(key))
    return limits


def known_architectures() -> list[str]:
    """Every architecture :func:`arch_limits` knows: ``["sm_50", ..., "sm_121"]``."""
    return [f"sm_{a}" for a in _core.known_architectures()]

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What a kernel needs of a GPU (``Function.resource_usage()``) and the GPU the CPU stands in for."""

from __future__ import annotations

from dataclasses import dataclass

from . import _core

__all__ = ["KernelResources", "emulated_arch", "install"]


@dataclass(frozen=True)
class KernelResources:
    """Registers, shared, local and constant memory a kernel needs on a GPU architecture.

    On a GPU, ``source == "driver"``: the driver's numbers (``cuFuncGetAttribute``). On the CPU,
    ``source == "nvrtc"``: the kernel compiled by NVRTC for the architecture the CPU stands in
    for (``MANYCORE_EMULATED_ARCH``, default ``sm_90``) and read from the cubin, with no GPU or
    driver. The numbers are ``None`` when they could not be had, and ``reason`` says why (no
    NVRTC here, an architecture this NVRTC does not know, the kernel does not compile for it).
    """

    registers: int | None
    shared_bytes: int | None  # static __shared__ bytes per block
    local_bytes: int | None  # per thread
    const_bytes: int | None  # user __constant__ memory
    max_threads_per_block: int | None  # what the registers and __launch_bounds__ allow
    arch: str  # "sm_90"
    source: str  # "driver" or "nvrtc"
    reason: str | None = None


def emulated_arch() -> str:
    """The GPU architecture the CPU device answers for: ``MANYCORE_EMULATED_ARCH``, else ``"sm_90"``.

    What only exists on a GPU (a kernel's registers, occupancy, PyCUDA's ``DeviceData``) is
    worked out for this architecture when a kernel runs on the CPU.
    """
    return _core.emulated_arch()


def _resource_usage(self: _core.Function) -> KernelResources:
    """The kernel's registers, shared, local and constant memory on a GPU (see
    :class:`manycore.KernelResources`); worked out once per module."""
    return KernelResources(*_core.function_resources(self))


def install() -> None:
    """Makes ``resource_usage`` a method of ``manycore.Function`` (a nanobind class), once."""
    _core.Function.resource_usage = _resource_usage

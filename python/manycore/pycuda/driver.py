# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.driver`` on manycore: devices and contexts, memory and copies, streams and
events, kernels (``Function``), ``In``/``Out``/``InOut``, and PyCUDA's exceptions.

On a machine without a GPU, device 0 is the CPU: kernels run on every core, device memory is
host memory (``In`` still copies, so the kernel's writes never reach an ``In`` array), and what
only a GPU has is answered for the GPU the CPU stands in for (``MANYCORE_EMULATED_ARCH``).
"""

from __future__ import annotations

from ._context import (Context, Device, compute_mode, device_attribute, function_attribute,
                       get_driver_version, get_version, init)
from ._errors import CompileError, Error, LaunchError, LogicError, MemoryError, RuntimeError
from ._function import Function
from ._memory import (ArgumentHandler, DeviceAllocation, In, InOut, Out, PointerHolderBase,
                      aligned_empty, aligned_zeros, from_device, from_device_like, mem_alloc,
                      mem_alloc_like, mem_get_info, memcpy_dtod, memcpy_dtod_async, memcpy_dtoh,
                      memcpy_dtoh_async, memcpy_htod, memcpy_htod_async, memset_d8, memset_d16,
                      memset_d32, pagelocked_empty, pagelocked_empty_like, pagelocked_zeros,
                      pagelocked_zeros_like, register_host_memory, to_device)
from ._timing import Event, Stream


class ctx_flags:  # noqa: N801 - PyCUDA's name
    SCHED_AUTO = 0
    SCHED_SPIN = 1
    SCHED_YIELD = 2
    SCHED_BLOCKING_SYNC = 4
    MAP_HOST = 8
    LMEM_RESIZE_TO_MAX = 16


class event_flags:  # noqa: N801
    DEFAULT = 0
    BLOCKING_SYNC = 1
    DISABLE_TIMING = 2
    INTERPROCESS = 4


class host_alloc_flags:  # noqa: N801
    PORTABLE = 1
    DEVICEMAP = 2
    WRITECOMBINED = 4


class mem_host_register_flags:  # noqa: N801
    PORTABLE = 1
    DEVICEMAP = 2


class func_cache:  # noqa: N801
    PREFER_NONE = 0
    PREFER_SHARED = 1
    PREFER_L1 = 2
    PREFER_EQUAL = 3


class shared_config:  # noqa: N801
    DEFAULT_BANK_SIZE = 0
    FOUR_BYTE_BANK_SIZE = 1
    EIGHT_BYTE_BANK_SIZE = 2


class limit:  # noqa: N801
    STACK_SIZE = 0
    PRINTF_FIFO_SIZE = 1
    MALLOC_HEAP_SIZE = 2


__all__ = [
    "ArgumentHandler", "CompileError", "Context", "Device", "DeviceAllocation", "Error", "Event",
    "Function", "In", "InOut", "LaunchError", "LogicError", "MemoryError", "Out",
    "PointerHolderBase", "RuntimeError", "Stream", "aligned_empty", "aligned_zeros",
    "compute_mode", "ctx_flags", "device_attribute", "event_flags", "from_device",
    "from_device_like", "func_cache", "function_attribute", "get_driver_version", "get_version",
    "host_alloc_flags", "init", "limit", "mem_alloc", "mem_alloc_like", "mem_get_info",
    "mem_host_register_flags", "memcpy_dtod", "memcpy_dtod_async", "memcpy_dtoh",
    "memcpy_dtoh_async", "memcpy_htod", "memcpy_htod_async", "memset_d8", "memset_d16",
    "memset_d32", "pagelocked_empty", "pagelocked_empty_like", "pagelocked_zeros",
    "pagelocked_zeros_like", "register_host_memory", "shared_config", "to_device",
]

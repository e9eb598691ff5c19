# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's devices and contexts over manycore's devices.

PyCUDA's devices are the GPUs; without one (or with ``MANYCORE_DEVICE=cpu``) there is one
device, the CPU, which answers what only exists on a GPU (compute capability, attributes) for
the architecture it stands in for (``MANYCORE_EMULATED_ARCH``, default ``sm_90``) and says so in
its name. A context is a device made current; contexts form PyCUDA's stack (``push``/``pop``).
"""

from __future__ import annotations

import enum
import os
from typing import Any

from .. import _core
from .._resources import emulated_arch
from ..cuda import arch_limits
from ._errors import LogicError

__all__ = ["Device", "Context", "device_attribute", "function_attribute", "current_device",
           "init", "get_version", "get_driver_version", "mc_devices"]

_ATTRIBUTES = """MAX_THREADS_PER_BLOCK 1 MAX_BLOCK_DIM_X 2 MAX_BLOCK_DIM_Y 3 MAX_BLOCK_DIM_Z 4
MAX_GRID_DIM_X 5 MAX_GRID_DIM_Y 6 MAX_GRID_DIM_Z 7 MAX_SHARED_MEMORY_PER_BLOCK 8
SHARED_MEMORY_PER_BLOCK 8 TOTAL_CONSTANT_MEMORY 9 WARP_SIZE 10 MAX_PITCH 11
MAX_REGISTERS_PER_BLOCK 12 REGISTERS_PER_BLOCK 12 CLOCK_RATE 13 TEXTURE_ALIGNMENT 14 GPU_OVERLAP 15
MULTIPROCESSOR_COUNT 16 KERNEL_EXEC_TIMEOUT 17 INTEGRATED 18 CAN_MAP_HOST_MEMORY 19 COMPUTE_MODE 20
MAXIMUM_TEXTURE1D_WIDTH 21 MAXIMUM_TEXTURE2D_WIDTH 22 MAXIMUM_TEXTURE2D_HEIGHT 23
MAXIMUM_TEXTURE3D_WIDTH 24 MAXIMUM_TEXTURE3D_HEIGHT 25 MAXIMUM_TEXTURE3D_DEPTH 26
MAXIMUM_TEXTURE2D_ARRAY_WIDTH 27 MAXIMUM_TEXTURE2D_ARRAY_HEIGHT 28
MAXIMUM_TEXTURE2D_ARRAY_NUMSLICES 29 SURFACE_ALIGNMENT 30 CONCURRENT_KERNELS 31 ECC_ENABLED 32
PCI_BUS_ID 33 PCI_DEVICE_ID 34 TCC_DRIVER 35 MEMORY_CLOCK_RATE 36 GLOBAL_MEMORY_BUS_WIDTH 37
L2_CACHE_SIZE 38 MAX_THREADS_PER_MULTIPROCESSOR 39 ASYNC_ENGINE_COUNT 40 UNIFIED_ADDRESSING 41
PCI_DOMAIN_ID 50 TEXTURE_PITCH_ALIGNMENT 51 COMPUTE_CAPABILITY_MAJOR 75 COMPUTE_CAPABILITY_MINOR 76
STREAM_PRIORITIES_SUPPORTED 78 GLOBAL_L1_CACHE_SUPPORTED 79 LOCAL_L1_CACHE_SUPPORTED 80
MAX_SHARED_MEMORY_PER_MULTIPROCESSOR 81 MAX_REGISTERS_PER_MULTIPROCESSOR 82 MANAGED_MEMORY 83
MULTI_GPU_BOARD 84 MULTI_GPU_BOARD_GROUP_ID 85 HOST_NATIVE_ATOMIC_SUPPORTED 86
SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO 87 PAGEABLE_MEMORY_ACCESS 88 CONCURRENT_MANAGED_ACCESS 89
COMPUTE_PREEMPTION_SUPPORTED 90 CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM 91 COOPERATIVE_LAUNCH 95
COOPERATIVE_MULTI_DEVICE_LAUNCH 96 MAX_SHARED_MEMORY_PER_BLOCK_OPTIN 97 CAN_FLUSH_REMOTE_WRITES 98
HOST_REGISTER_SUPPORTED 99 MAX_BLOCKS_PER_MULTIPROCESSOR 106 GENERIC_COMPRESSION_SUPPORTED 107
MAX_PERSISTING_L2_CACHE_SIZE 108 MAX_ACCESS_POLICY_WINDOW_SIZE 109
RESERVED_SHARED_MEMORY_PER_BLOCK 111 MEMORY_POOLS_SUPPORTED 115 CLUSTER_LAUNCH 120"""

_pairs = _ATTRIBUTES.split()
#: CUDA's device attributes (``CUdevice_attribute``), PyCUDA's ``driver.device_attribute``.
device_attribute = enum.IntEnum("device_attribute", [(_pairs[i], int(_pairs[i + 1]))
                                                     for i in range(0, len(_pairs), 2)])

#: CUDA's function attributes (``CUfunction_attribute``), PyCUDA's ``driver.function_attribute``.
function_attribute = enum.IntEnum("function_attribute", [
    ("MAX_THREADS_PER_BLOCK", 0), ("SHARED_SIZE_BYTES", 1), ("CONST_SIZE_BYTES", 2),
    ("LOCAL_SIZE_BYTES", 3), ("NUM_REGS", 4), ("PTX_VERSION", 5), ("BINARY_VERSION", 6),
    ("CACHE_MODE_CA", 7), ("MAX_DYNAMIC_SHARED_SIZE_BYTES", 8),
    ("PREFERRED_SHARED_MEMORY_CARVEOUT", 9)])


class compute_mode(enum.IntEnum):  # noqa: N801 - PyCUDA's name
    DEFAULT = 0
    PROHIBITED = 2
    EXCLUSIVE_PROCESS = 3


def mc_devices() -> list[Any]:
    """The manycore devices PyCUDA's ordinals name: the GPUs, or the CPU alone when there is no
    GPU or the default device is the CPU (``MANYCORE_DEVICE=cpu``)."""
    if _core.default_device().kind == "cpu":
        return [_core.Device("cpu")]
    return [d for d in _core.devices() if d.kind != "cpu"]


def init(flags: int = 0) -> None:
    """``cuInit``: nothing to do; manycore finds its devices on first use."""


def get_driver_version() -> int:
    """``cuDriverGetVersion``'s number (12040 for 12.4): the GPU driver's, else the NVRTC's that
    compiles for the architecture the CPU stands in for (13000 when there is neither)."""
    driver, nvrtc = _core.cuda_versions() if hasattr(_core, "cuda_versions") else (None, None)
    return driver or nvrtc or 13000


def get_version() -> tuple[int, int, int]:
    """The CUDA version, as PyCUDA reports the one it was built for: (12, 4, 0)."""
    v = get_driver_version()
    return (v // 1000, v % 1000 // 10, 0)


def _cpu_attributes(device: Any) -> dict[int, int]:
    limits = arch_limits(emulated_arch())
    major, minor = divmod(int(emulated_arch()[3:]), 10)
    l2 = os.sysconf("SC_LEVEL2_CACHE_SIZE") if "SC_LEVEL2_CACHE_SIZE" in os.sysconf_names else 0
    a = device_attribute
    return {
        a.MAX_THREADS_PER_BLOCK: device.max_threads_per_block,
        a.MAX_BLOCK_DIM_X: 1024, a.MAX_BLOCK_DIM_Y: 1024, a.MAX_BLOCK_DIM_Z: 64,
        a.MAX_GRID_DIM_X: 2147483647, a.MAX_GRID_DIM_Y: 65535, a.MAX_GRID_DIM_Z: 65535,
        a.MAX_SHARED_MEMORY_PER_BLOCK: device.max_shared_per_block,
        a.TOTAL_CONSTANT_MEMORY: 65536, a.WARP_SIZE: device.warp_size, a.MAX_PITCH: 2147483647,
        a.MAX_REGISTERS_PER_BLOCK: limits.max_registers_per_block, a.CLOCK_RATE: 0,
        a.TEXTURE_ALIGNMENT: 512, a.GPU_OVERLAP: 1, a.MULTIPROCESSOR_COUNT: device.compute_units,
        a.KERNEL_EXEC_TIMEOUT: 0, a.INTEGRATED: 1, a.CAN_MAP_HOST_MEMORY: 1,
        a.COMPUTE_MODE: compute_mode.DEFAULT, a.CONCURRENT_KERNELS: 0, a.ECC_ENABLED: 0,
        a.PCI_BUS_ID: 0, a.PCI_DEVICE_ID: 0, a.PCI_DOMAIN_ID: 0, a.TCC_DRIVER: 0,
        a.MEMORY_CLOCK_RATE: 0, a.GLOBAL_MEMORY_BUS_WIDTH: 0, a.L2_CACHE_SIZE: max(l2, 0),
        a.MAX_THREADS_PER_MULTIPROCESSOR: limits.max_threads_per_sm, a.ASYNC_ENGINE_COUNT: 0,
        a.UNIFIED_ADDRESSING: 1, a.COMPUTE_CAPABILITY_MAJOR: major,
        a.COMPUTE_CAPABILITY_MINOR: minor,
        a.MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: limits.shared_per_sm,
        a.MAX_REGISTERS_PER_MULTIPROCESSOR: limits.registers_per_sm, a.MANAGED_MEMORY: 1,
        a.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: limits.max_shared_per_block_optin,
        a.MAX_BLOCKS_PER_MULTIPROCESSOR: limits.max_blocks_per_sm,
        a.RESERVED_SHARED_MEMORY_PER_BLOCK: limits.reserved_shared_per_block,
        a.HOST_NATIVE_ATOMIC_SUPPORTED: 1, a.PAGEABLE_MEMORY_ACCESS: 1,
        a.CONCURRENT_MANAGED_ACCESS: 1, a.HOST_REGISTER_SUPPORTED: 1,
    }


class Device:
    """A device by PyCUDA's ordinal: ``Device(0)`` is the first GPU, or the CPU where there is
    none (a ``manycore.Device`` is taken too). On the CPU, what only a GPU has is answered for
    the architecture the CPU stands in for (``MANYCORE_EMULATED_ARCH``), which its name says."""

    def __init__(self, number: Any = 0) -> None:
        devices = mc_devices()
        if isinstance(number, _core.Device):  # manycore's own device (the CPU on a GPU machine)
            self._number, self.mc_device, self._attributes = 0, number, None
            return
        if isinstance(number, str):  # a PCI bus id: manycore knows devices by ordinal only
            number = 0
        if not 0 <= number < len(devices):
            raise LogicError(f"Device({number}): there are {len(devices)} devices "
                             f"(0 to {len(devices) - 1})")
        self._number = number
        self.mc_device = devices[number]
        self._attributes: dict[int, int] | None = None

    @staticmethod
    def count() -> int:
        return len(mc_devices())

    def name(self) -> str:
        if self.mc_device.kind == "cpu":
            return f"{self.mc_device.name} (manycore's CPU device, standing in for {emulated_arch()})"
        return self.mc_device.name

    def compute_capability(self) -> tuple[int, int]:
        if self.mc_device.kind == "cpu":
            return divmod(int(emulated_arch()[3:]), 10)
        return tuple(self.mc_device.compute_capability)

    def total_memory(self) -> int:
        return self.mc_device.total_memory

    def pci_bus_id(self) -> str:
        return f"0000:00:{self._number:02x}.0"

    def get_attribute(self, attribute: int) -> int:
        attribute = int(attribute)
        if self.mc_device.kind != "cpu":
            return _core.device_attribute(self.mc_device, attribute)
        attributes = self.get_attributes()
        if attribute not in attributes:
            name = device_attribute(attribute).name if attribute in device_attribute._value2member_map_ else attribute
            raise LogicError(f"Device.get_attribute({name}): the CPU device has no such attribute "
                             f"(it answers for {emulated_arch()} what an occupancy calculation needs)")
        return attributes[attribute]

    def get_attributes(self) -> dict[Any, int]:
        if self._attributes is None:
            if self.mc_device.kind == "cpu":
                self._attributes = _cpu_attributes(self.mc_device)
            else:
                self._attributes = {}
                for a in device_attribute:
                    try:
                        self._attributes[a] = _core.device_attribute(self.mc_device, int(a))
                    except Exception:  # noqa: BLE001 - attributes this driver does not know
                        continue
        return {device_attribute(k): v for k, v in self._attributes.items()}

    def __getattr__(self, name: str) -> int:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            attribute = device_attribute[name.upper()]
        except KeyError:
            raise AttributeError(f"'Device' object has no attribute {name!r}") from None
        return self.get_attribute(attribute)

    def make_context(self, flags: int = 0) -> Context:
        ctx = Context(self)
        ctx.push()
        return ctx

    def retain_primary_context(self) -> Context:
        return Context(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.mc_device == self.mc_device

    def __hash__(self) -> int:
        return hash(self.mc_device)

    def __repr__(self) -> str:
        return f"<manycore.pycuda.driver.Device {self._number}: {self.mc_device}>"


_stack: list[Context] = []


class Context:
    """A device made current. PyCUDA's context stack: ``push``, ``pop``, ``get_current``; a
    device has one context here (its primary one), pushed as often as asked."""

    def __init__(self, device: Device) -> None:
        self._device = device
        self._attached = 1

    # Called on the class, as PyCUDA's programs do: Context.synchronize(), Context.get_device().
    @staticmethod
    def synchronize() -> None:
        _core.synchronize(current_device())
        from ._timing import host_waited

        host_waited()

    @staticmethod
    def get_device() -> Device:
        if _stack:
            return _stack[-1]._device
        raise LogicError("Context.get_device(): there is no current context; "
                         "import pycuda.autoinit or call Device(0).make_context()")

    @staticmethod
    def get_current() -> Context | None:
        return _stack[-1] if _stack else None

    @staticmethod
    def pop() -> None:
        if not _stack:
            raise LogicError("Context.pop(): the context stack is empty")
        _stack.pop()

    def push(self) -> None:
        _stack.append(self)

    def attach(self, flags: int = 0) -> Context:
        self._attached += 1
        return self

    def detach(self) -> None:
        self._attached -= 1
        while self in _stack:
            _stack.remove(self)

    @staticmethod
    def get_api_version() -> int:
        return get_driver_version()

    @staticmethod
    def set_cache_config(config: int) -> None:
        """Accepted; manycore leaves the L1/shared split to the driver."""

    @staticmethod
    def get_cache_config() -> int:
        return 0

    @staticmethod
    def set_limit(limit: int, value: int) -> None:
        """Accepted; manycore sets no context limits."""

    @staticmethod
    def get_limit(limit: int) -> int:
        return 0

    def __repr__(self) -> str:
        return f"<manycore.pycuda.driver.Context on {self._device.mc_device}>"


def current_device() -> Any:
    """The manycore device of the current context, else manycore's default device."""
    if _stack:
        return _stack[-1]._device.mc_device
    return mc_devices()[0]

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What is particular to NVIDIA GPUs: the caching memory pool of each device.

GPU arrays take their memory from a per-device pool that keeps freed blocks for reuse, because
``cuMemAlloc`` and ``cuMemFree`` synchronise the device and cost tens of microseconds. The pool
gives memory back to the driver when an allocation would fail (then retries once) and when asked:

>>> pool = mc.cuda.memory_pool()          # the default GPU's            # doctest: +SKIP
>>> pool.used_bytes(), pool.held_bytes()                                  # doctest: +SKIP
>>> pool.free_all_blocks()                                                # doctest: +SKIP
"""

from __future__ import annotations

from . import _core
from ._core import Device

__all__ = ["MemoryPool", "memory_pool"]


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

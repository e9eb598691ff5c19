# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Occupancy: how many warps of a kernel a GPU multiprocessor keeps running at once, and what
stops it keeping more (registers, shared memory, the warp limit or the block limit).

>>> occ = mc.occupancy(f, block=256)     # doctest: +SKIP
>>> occ.occupancy, occ.limiter           # doctest: +SKIP
(0.75, 'registers')
>>> mc.suggest_block(f)                  # doctest: +SKIP
512

On a GPU the active blocks are the driver's (``cuOccupancyMaxActiveBlocksPerMultiprocessor``);
on the CPU they are computed, with the rules of NVIDIA's occupancy calculator
(``cuda_occupancy.h``), from the kernel's resources on the GPU architecture the CPU stands in
for (``MANYCORE_EMULATED_ARCH``: the kernel compiled by NVRTC, ``Function.resource_usage()``)
and that architecture's limits (``mc.cuda.arch_limits``). The limiting factor and the blocks
each resource allows are computed the same way on both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Occupancy", "occupancy", "suggest_block"]

#: The order in which equal limits are named: the first one listed is reported.
FACTORS = ("warps", "registers", "shared memory", "blocks")


@dataclass(frozen=True)
class Occupancy:
    """A kernel's occupancy at one block size on one GPU architecture."""

    kernel: str
    device: str
    arch: str                   # "sm_90"
    block: int                  # threads per block
    shared: int                 # dynamic shared bytes per block
    active_blocks: int          # per multiprocessor
    active_warps: int
    max_warps: int              # per multiprocessor
    occupancy: float            # active_warps / max_warps
    limiter: str                # "warps", "registers", "shared memory" or "blocks"
    limits: dict[str, int]      # blocks per multiprocessor each factor allows
    registers: int | None       # per thread
    shared_per_block: int       # static + dynamic + what the driver reserves, as allocated
    source: str                 # "driver" (a GPU's calculator) or "computed"
    note: str = ""

    def __str__(self) -> str:
        return (f"{self.kernel} on {self.device} ({self.arch}), block {self.block}: "
                f"{self.active_blocks} blocks, {self.active_warps}/{self.max_warps} warps per "
                f"multiprocessor, occupancy {100 * self.occupancy:.0f}%, limited by "
                f"{self.limiter}")


def _threads(block: Any) -> int:
    if isinstance(block, int):
        dims = (block,)
    else:
        dims = tuple(block)
    if not 1 <= len(dims) <= 3 or any(not isinstance(d, int) or d < 1 for d in dims):
        raise ValueError(f"occupancy(): block must be a positive int or a tuple of 1 to 3 of "
                         f"them, not {block!r}")
    return math.prod(dims)


def _limits_for(function: Any) -> tuple[Any, Any]:
    """(the kernel's resources, its architecture's limits)."""
    from manycore import cuda

    resources = function.resource_usage()
    return resources, cuda.arch_limits(resources.arch)


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit if unit > 0 else value


def _computed(kernel: str, device: str, resources: Any, limits: Any, threads: int,
              shared: int) -> Occupancy:
    warp = limits.warp_size
    warps = -(-threads // warp)
    by: dict[str, int] = {
        "warps": limits.max_warps_per_sm // warps,
        "blocks": limits.max_blocks_per_sm,
    }
    registers = resources.registers
    note = ""
    if registers:
        # Registers go to whole warps in allocation units, and each of the multiprocessor's
        # sub-partitions holds an equal share of the register file.
        per_warp = _round_up(registers * warp, limits.register_allocation_unit)
        per_partition = limits.registers_per_sm // limits.sub_partitions
        warps_by_registers = (per_partition // per_warp) * limits.sub_partitions
        by["registers"] = (warps_by_registers // warps
                           if per_warp * warps <= limits.max_registers_per_block else 0)
    elif registers is None:
        note = f"registers unknown ({resources.reason}): not counted"
    static = resources.shared_bytes or 0
    per_block = _round_up(static + shared + limits.reserved_shared_per_block,
                          limits.shared_allocation_unit)
    if static + shared > limits.max_shared_per_block_optin:
        by["shared memory"] = 0
    elif static + shared > 0:
        by["shared memory"] = limits.shared_per_sm // per_block
    active = min(by.values())
    limiter = min((f for f in FACTORS if f in by), key=lambda f: (by[f], FACTORS.index(f)))
    return Occupancy(kernel, device, resources.arch, threads, shared, active, active * warps,
                     limits.max_warps_per_sm, active * warps / limits.max_warps_per_sm, limiter,
                     by, registers, per_block, "computed", note)


def occupancy(function: Any, block: Any, shared: int = 0) -> Occupancy:
    """The occupancy of ``function`` launched with ``block`` threads (an int or a tuple) and
    ``shared`` bytes of dynamic shared memory per block."""
    threads = _threads(block)
    if not isinstance(shared, int) or shared < 0:
        raise ValueError(f"occupancy(): shared must be a byte count >= 0, not {shared!r}")
    resources, limits = _limits_for(function)
    top = min(limits.max_threads_per_block, resources.max_threads_per_block or 1 << 30)
    if threads > top:
        raise ValueError(f"occupancy(): block of {threads} threads: '{function.name}' can launch "
                         f"at most {top} on {resources.arch}")
    device = str(function.device)
    result = _computed(function.name, device, resources, limits, threads, shared)
    if function.device.kind == "cpu":
        return result
    from manycore import _core

    blocks = _core.active_blocks_per_multiprocessor(function, threads, shared)
    warps = -(-threads // limits.warp_size)
    note = result.note
    if blocks != result.active_blocks:
        note = (f"the driver's {blocks} blocks differ from the {result.active_blocks} computed "
                "from the architecture's table; the driver's count")
    return Occupancy(result.kernel, device, result.arch, threads, shared, blocks, blocks * warps,
                     result.max_warps, blocks * warps / result.max_warps, result.limiter,
                     result.limits, result.registers, result.shared_per_block, "driver", note)


def suggest_block(function: Any, shared: int | Callable[[int], int] = 0) -> int:
    """The block size (a multiple of the warp size) with the highest occupancy for
    ``function``, the largest of those that tie, as CUDA's
    ``cudaOccupancyMaxPotentialBlockSize`` chooses; ``shared`` is the dynamic shared memory per
    block, or a function of the block size giving it."""
    resources, limits = _limits_for(function)
    top = min(limits.max_threads_per_block, resources.max_threads_per_block or 1 << 30)
    best, best_threads = -1, 0
    for threads in range(top - top % limits.warp_size, 0, -limits.warp_size):
        dynamic = shared(threads) if callable(shared) else shared
        occ = occupancy(function, threads, dynamic)
        if occ.active_warps > best:
            best, best_threads = occ.active_warps, threads
    if best <= 0:
        raise ValueError(f"suggest_block(): no block size of '{function.name}' fits one "
                         f"multiprocessor of {resources.arch} (shared memory?)")
    return best_threads

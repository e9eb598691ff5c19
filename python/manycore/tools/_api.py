# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The tools' names in the ``manycore`` namespace (``mc.profile``, ``mc.occupancy``,
``mc.suggest_block``), each importing its module when first called, so ``import manycore``
stays cheap."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._core import Function
    from .occupancy import Occupancy
    from .profile import Profile

__all__ = ["occupancy", "profile", "suggest_block"]


def profile(memory: bool = False) -> Profile:
    """A profile of the launches made in a ``with`` block: ``with mc.profile() as p:``, then
    ``p.report()``; ``memory=True`` also counts how a GPU would serve each kernel's accesses
    (:mod:`manycore.tools.profile`)."""
    from .profile import Profile

    return Profile(memory)


def occupancy(function: Function, block: int | tuple[int, ...], shared: int = 0) -> Occupancy:
    """Active blocks and warps per multiprocessor, occupancy and its limiting factor for a
    launch of ``function`` (the driver's on a GPU; computed for ``emulated_arch()`` on the CPU;
    :mod:`manycore.tools.occupancy`)."""
    from .occupancy import occupancy as compute

    return compute(function, block, shared)


def suggest_block(function: Function, shared: int = 0) -> int:
    """The block size that maximises ``function``'s occupancy (:mod:`manycore.tools.occupancy`)."""
    from .occupancy import suggest_block as suggest

    return suggest(function, shared)

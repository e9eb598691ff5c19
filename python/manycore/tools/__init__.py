# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Tools shipped with manycore: what the course and the benchmarks measure with.

- :mod:`manycore.tools.timing`: best/median of repeated runs after a warm-up, and the plain
  text tables the CLI, the tour and ``bench/`` print.
- :mod:`manycore.tools.tour`: the course's first command (``manycore tour``): three kernels on
  the CPU, each checked against NumPy and timed against NumPy and pure Python.
- :mod:`manycore.tools.profile`: ``mc.profile()``, time, bandwidth and roofline per kernel, and
  with ``memory=True`` how each kernel would use a GPU's memory system (``manycore profile``).
- :mod:`manycore.tools.peak`: the devices' measured bandwidth and FLOP rates (``manycore peak``).
- :mod:`manycore.tools.occupancy`: ``mc.occupancy()`` and ``mc.suggest_block()``.
- :mod:`manycore.tools.scale`: scaling studies over threads, ranks or sizes, with Amdahl's and
  Gustafson's fits and the Karp-Flatt metric (``manycore scale``, :func:`scaling`).

The submodules are imported on use, so ``import manycore`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["timing", "tour", "profile", "peak", "occupancy", "scale", "scaling"]


def scaling(fn: Any, threads: Any = None, sizes: Any = None, **options: Any) -> Any:
    """A scaling study of ``fn`` over thread counts or sizes
    (:func:`manycore.tools.scale.scaling`)."""
    from .scale import scaling as study

    return study(fn, threads, sizes, **options)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore across MPI ranks: communicators, collectives on arrays, domain decomposition with
halo exchange (docs/mpi.md).

mpi4py owns MPI's start-up and shutdown; it is imported on the first call that needs it, so
``import manycore.dist`` is cheap and works without MPI. Run programs with
``python -m manycore run -n 4 script.py``.

>>> from manycore import dist                                  # doctest: +SKIP
>>> comm = dist.world()
>>> total = comm.allreduce(np.ones(3) * comm.rank, op="sum")
>>> grid = dist.CartGrid(comm, ndim=2, periodic=True)
>>> u = grid.zeros((1000, 1000), np.float64, halo=1)
>>> u.exchange_halos()
"""

from __future__ import annotations

from ..errors import MpiError
from .cart import CartGrid, DistArray, HaloExchange
from .comm import Comm, cuda_aware, world

__all__ = ["CartGrid", "Comm", "DistArray", "HaloExchange", "MpiError", "cuda_aware", "world"]

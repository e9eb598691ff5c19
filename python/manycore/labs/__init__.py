# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The course's labs: one jupytext percent-format source per lab, run as a script or opened as
a notebook (``manycore labs``; docs/labs.md).

>>> from manycore import labs
>>> labs.find(4).title
'Vector and matrix addition'
>>> labs.find(4).path.name
'lab04_vector_add.py'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabInfo", "LABS", "find", "HERE"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LabInfo:
    """One lab of the catalogue: its number, source file, title, day and one line on it."""

    number: int
    slug: str
    title: str
    day: int
    summary: str
    mpi: bool = False  # has cells that run on MPI ranks (%%mpirun)

    @property
    def path(self) -> Path:
        """The lab's source (jupytext percent format)."""
        return HERE / f"lab{self.number:02d}_{self.slug}.py"

    @property
    def available(self) -> bool:
        return self.path.is_file()


# The course's order: Day 1 on the CPU, Day 2 on the GPU (docs/labs.md).
LABS: tuple[LabInfo, ...] = (
    LabInfo(0, "profiling", "Profiling", 1,
            "find the hot line and the hidden repeated loop with cProfile, line and memory profilers"),
    LabInfo(1, "threads_io", "Threads for I/O", 1,
            "fetch files from a local HTTP server with latency: serial, thread pools, asyncio"),
    LabInfo(2, "threads_processes", "Threads vs processes for CPU work", 1,
            "trial-division primality: the GIL stops threads, processes and a kernel scale"),
    LabInfo(3, "synchronisation", "Synchronisation", 1,
            "a shared counter: lost updates, locks, queues, barriers, atomics in a kernel"),
    LabInfo(4, "vector_add", "Vector and matrix addition", 2,
            "c = a + b in 1-D and 2-D: Python, NumPy, threads, processes, kernels, guards"),
    LabInfo(5, "transpose", "Transpose", 2,
            "naive, shared-memory tiles, padded tiles: coalescing and bank conflicts"),
    LabInfo(6, "matmul", "Matrix product", 2,
            "Python, BLAS, process pools, MPI, naive and tiled kernels, register blocking", mpi=True),
    LabInfo(7, "reductions", "Reductions v1-v6", 2,
            "from one block to warp shuffles, with a uint64 total and the int overflow caught"),
    LabInfo(8, "races_barriers", "Races and barriers", 2,
            "in-place rotation: checked mode finds the race and the divergent barrier"),
    LabInfo(9, "monte_carlo_pi", "Pi by Monte Carlo", 1,
            "points in the quarter circle: threads, processes, MPI, kernels with an in-kernel RNG",
            mpi=True),
    LabInfo(10, "mpi_basics", "MPI basics", 1,
            "mpi4py's lowercase and uppercase calls, ping-pong, a deadlock and its fixes", mpi=True),
    LabInfo(11, "mpi_matvec", "MPI matrix-vector", 1,
            "v <- M v with row stripes and Allgather(v)", mpi=True),
    LabInfo(12, "nbody", "N-body", 1,
            "3-D gravity with leap-frog: NumPy, MPI Allgather, kernels with shared tiles", mpi=True),
    LabInfo(13, "kmeans", "k-means", 1,
            "Lloyd iterations: NumPy, processes, MPI Allreduce, kernels", mpi=True),
    LabInfo(14, "jit_compilers", "JIT compilers on the CPU", 2,
            "Python, Numba and manycore kernels: first call vs steady state, Mandelbrot"),
    LabInfo(15, "memory_spaces", "GPU memory spaces and occupancy", 2,
            "registers, global, shared and constant memory; a block-size sweep"),
    LabInfo(16, "jacobi", "Jacobi / heat stencil", 2,
            "2-D relaxation: NumPy slicing, naive and shared-tile kernels, MPI halos", mpi=True),
)


def find(number: int) -> LabInfo:
    """The lab numbered ``number``; a ``LookupError`` lists the numbers there are."""
    for lab in LABS:
        if lab.number == number:
            return lab
    raise LookupError(f"no lab {number}; the labs are numbered 0 to {LABS[-1].number} "
                      "(`manycore labs` lists them)")

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The 2-D heat equation by Jacobi iteration on a CartGrid: a worked example of manycore.dist.

    manycore run -n 4 -m manycore.dist.examples.heat2d --n 512 --steps 200 --check

Each rank holds a block of the grid with a one-cell halo; every step the halos are exchanged
with the neighbours, a manycore kernel updates the block, and the largest change (the
residual) is combined by allreduce(max). The boundary cells of the whole grid keep their values
(Dirichlet). The kernel does exactly the arithmetic of the serial NumPy version, in the same
order, so the result is bitwise identical for any number of ranks (``--check`` verifies it).
With ``--overlap`` the halo exchange runs while the kernel updates the cells that do not need
the halo, then the edge strips are updated.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

import manycore as mc
from manycore import dist

KERNEL = r"""
// One Jacobi step on rows [i0, i1) and columns [j0, j1) of a block's interior (nx x ny, a
// one-cell halo around it, ld = ny + 2 values per row). Cells on the global boundary keep
// their value. The sum is written in the serial NumPy version's order: bitwise the same.
// Each cell's change goes to diff (nx x ny, no halo), whose maximum is the step's residual.
typedef double real;  // or float: Heat2D(dtype=np.float32)
__global__ void jacobi(const real* u, real* un, real* diff, int i0, int i1, int j0, int j1,
                       int ld, int gi0, int gj0, int gnx, int gny) {
    int j = j0 + blockIdx.x * blockDim.x + threadIdx.x;
    int i = i0 + blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= i1 || j >= j1) return;
    long idx = (long)(i + 1) * ld + (j + 1);
    int gi = gi0 + i, gj = gj0 + j;
    real next = u[idx];
    if (gi != 0 && gj != 0 && gi != gnx - 1 && gj != gny - 1)
        next = (real)0.25 * (((u[idx - ld] + u[idx + ld]) + u[idx - 1]) + u[idx + 1]);
    un[idx] = next;
    diff[(long)i * (ld - 2) + j] = next > u[idx] ? next - u[idx] : u[idx] - next;
}
"""

BLOCK = (32, 8)


def initial(n: int, m: int | None = None, dtype: Any = np.float64) -> np.ndarray:
    """The starting field: a hot top edge, a warm patch in the middle, zero elsewhere."""
    m = n if m is None else m
    u = np.zeros((n, m), dtype)
    u[0, :] = 1.0
    u[n // 3: n // 2, m // 4: m // 2] = 0.5 + np.linspace(0, 0.25, m // 2 - m // 4)
    return u


def serial(u0: np.ndarray, steps: int) -> tuple[np.ndarray, list[float]]:
    """The reference: NumPy Jacobi steps; returns the field and each step's residual."""
    u = u0.copy()
    un = u0.copy()
    residuals = []
    for _ in range(steps):
        un[1:-1, 1:-1] = u.dtype.type(0.25) * (((u[:-2, 1:-1] + u[2:, 1:-1]) + u[1:-1, :-2]) + u[1:-1, 2:])
        residuals.append(float(np.max(np.abs(un - u))))
        u, un = un, u
    return u, residuals


class Heat2D:
    """The distributed solver: two DistArrays (u and the next u) on a 2-D CartGrid, in float64
    or float32 (``dtype``; every rank must give the same, rank ``root`` also in ``u0``)."""

    def __init__(self, grid: dist.CartGrid, u0: np.ndarray | None, device: Any = None, root: int = 0,
                 dtype: Any = np.float64) -> None:
        dtype = np.dtype(dtype)
        if dtype not in (np.float64, np.float32):
            raise TypeError(f"Heat2D: dtype must be float64 or float32, not {dtype}")
        if u0 is not None and u0.dtype != dtype:
            u0 = u0.astype(dtype)
        self.grid = grid
        self.u = grid.scatter(u0, halo=1, root=root, device=device)
        self.un = grid.zeros(self.u.global_shape, dtype, halo=1, device=device)
        source = KERNEL if dtype == np.float64 else KERNEL.replace("typedef double real;", "typedef float real;")
        self.kernel = mc.SourceModule(source, device=self.u.device).get_function("jacobi")
        # Each step's changes, reduced on the device: no temporaries, nothing copied to the host
        # but the maximum.
        self.diff = mc.empty(self.u.shape, dtype, device=self.u.device)
        self.residual = np.zeros(1)

    def _update(self, i0: int, i1: int, j0: int, j1: int) -> None:
        if i1 <= i0 or j1 <= j0:
            return
        nx, ny = self.u.shape
        gi0, gj0 = self.u.offset
        gnx, gny = self.u.global_shape
        grid = ((j1 - j0 + BLOCK[0] - 1) // BLOCK[0], (i1 - i0 + BLOCK[1] - 1) // BLOCK[1])
        self.kernel(self.u.local, self.un.local, self.diff, i0, i1, j0, j1, ny + 2, gi0, gj0, gnx,
                    gny, grid=grid, block=BLOCK)

    def step(self, overlap: bool = False) -> float:
        """One Jacobi step; returns the global residual (max |change|)."""
        nx, ny = self.u.shape
        if overlap:
            pending = self.u.exchange_halos(wait=False)
            self._update(1, nx - 1, 1, ny - 1)  # cells whose neighbours are all in the block
            pending.wait()
            # Then the edge strips, which read the halo (empty ranges are skipped).
            self._update(0, 1, 0, ny)
            self._update(max(1, nx - 1), nx, 0, ny)
            self._update(1, nx - 1, 0, 1)
            self._update(1, nx - 1, max(1, ny - 1), ny)
        else:
            self.u.exchange_halos()
            self._update(0, nx, 0, ny)
        self.residual[0] = float(self.diff.max().get()) if self.diff.size else 0.0
        self.grid.comm.allreduce(self.residual, op="max", out=self.residual)
        self.u, self.un = self.un, self.u
        return float(self.residual[0])

    def run(self, steps: int, overlap: bool = False) -> list[float]:
        return [self.step(overlap) for _ in range(steps)]

    def gather(self, root: int = 0) -> np.ndarray | None:
        return self.grid.gather(self.u, root=root)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=256, help="grid points per side (default 256)")
    p.add_argument("--m", type=int, default=None, help="grid points along the second axis (default: n)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--device", default="cpu",
                   help="cpu, cuda:N, or auto: each rank its default device (one GPU per rank on a node with GPUs)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--dims", default=None, help="ranks per axis, e.g. 2,2 (default: MPI's choice)")
    p.add_argument("--overlap", action="store_true", help="overlap the halo exchange with the update")
    p.add_argument("--check", action="store_true", help="compare bitwise with the serial NumPy version")
    p.add_argument("--warmup", type=int, default=2, help="steps run before timing")
    args = p.parse_args(argv)

    comm = dist.world()
    dims = None if args.dims is None else [int(x) for x in args.dims.split(",")]
    grid = dist.CartGrid(comm, ndim=2, dims=dims)
    u0 = initial(args.n, args.m, args.dtype) if comm.rank == 0 else None
    device = None if args.device == "auto" else args.device
    solver = Heat2D(grid, u0, device=device, dtype=args.dtype)  # compiles the kernel before the timing
    solver.run(args.warmup, overlap=args.overlap)
    solver = Heat2D(grid, u0, device=device, dtype=args.dtype)
    devices = comm.mpi4py.gather(str(solver.u.device))  # a Python object: mpi4py's pickle path
    comm.barrier()
    t0 = time.perf_counter()
    residuals = solver.run(args.steps, overlap=args.overlap)
    comm.barrier()
    elapsed = time.perf_counter() - t0
    u = solver.gather()
    if comm.rank != 0:
        return 0
    print(f"heat2d: {args.n}x{args.m or args.n} {args.dtype} grid, {args.steps} steps on {comm.size} ranks "
          f"(dims {grid.dims}): {elapsed:.3f} s, {args.steps / elapsed:.1f} steps/s, "
          f"final residual {residuals[-1] if residuals else 0.0:.3e}")
    print("heat2d: ranks' devices " + ", ".join(devices))
    if args.check:
        ref, ref_res = serial(u0, args.steps)
        bits = np.uint64 if u.dtype == np.float64 else np.uint32
        same = np.array_equal(u.view(bits), ref.view(bits)) and residuals == ref_res
        print("heat2d: bitwise identical to the serial NumPy version" if same else
              f"heat2d: MISMATCH with the serial version (max diff {np.max(np.abs(u - ref)):.3e})")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

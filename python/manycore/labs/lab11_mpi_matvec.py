# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 11 of the course (jupytext percent format): `manycore labs open 11` makes the notebook.

# %% [markdown]
# # Lab 11: MPI matrix–vector product
#
# Iterate v ← M v. With **row stripes**, each rank owns a block of M's rows and computes that
# block of the new v; every rank needs the *whole* v for the next step, so after each product
# the pieces are gathered to everyone: `Allgather`. When the ranks do not divide N the pieces
# differ in length, and `Allgather` (equal pieces only) is wrong: `Allgatherv` takes a count
# and an offset per rank.
#
# M is the **shift** matrix (ones just below the diagonal): M e_k = e_{k+1}. Starting from
# e_0, after `iters` products v is exactly e_iters — a check with no rounding at all, which
# any lost or misplaced piece breaks.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
import numpy as np

from manycore.labs import kit

lab = kit.start(11, size=SIZE, device=DEVICE, result=RESULT)
N, iters = lab.pick(small=(4098, 50), default=(16386, 50), large=(32770, 50),
                    memory=lambda s: 8 * s[0] ** 2)
print(f"N = {N} (and {N + 1} for unequal stripes), {iters} iterations")

# %% [markdown]
# ## Serial NumPy on the same matrix
#
# `shift_rows(first, last, n)` builds rows [first, last) of the shift matrix; it lives in
# `manycore.labs.workers` because the ranks, separate processes, build their stripes with it.

# %%
from manycore.labs.workers import shift_rows

M = shift_rows(0, N, N)
e0 = np.zeros(N)
e0[0] = 1.0
expected = np.zeros(N)
expected[iters] = 1.0
out = {}


def serial():
    v = e0
    for _ in range(iters):
        v = M @ v
    out["v"] = v


lab.variant("serial NumPy", serial, runs_as="numpy", workers=1, size=f"{N}^2 x {iters}",
            work=kit.Work(bytes=8 * N * N * iters, flops=2 * N * N * iters),
            check=lambda: kit.assert_equal(out["v"], expected))
del M
lab.mpi_context()

# %% [markdown]
# ## Row stripes on MPI ranks

# %%
# %%mpirun -n 2 --timeout 300
import numpy as np
from mpi4py import MPI

from manycore.labs import kit
from manycore.labs.workers import shift_rows

lab = kit.join("matvec")
comm = MPI.COMM_WORLD
N, iters = lab.pick(small=(4098, 50), default=(16386, 50), large=(32770, 50))


def run(n, equal):
    counts = np.array([n // comm.size + (r < n % comm.size) for r in range(comm.size)])
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first = offsets[comm.rank]
    stripe = shift_rows(first, first + counts[comm.rank], n)
    v = np.zeros(n)
    expected = np.zeros(n)
    expected[iters] = 1.0
    out = {}

    def iterate():
        v[:] = 0.0
        v[0] = 1.0
        for _ in range(iters):
            mine = stripe @ v
            if equal:
                comm.Allgather([mine, MPI.DOUBLE], [v, MPI.DOUBLE])
            else:
                # BEGIN SOLUTION: gather the unequal pieces into v on every rank
                comm.Allgatherv([mine, MPI.DOUBLE], [v, counts, offsets, MPI.DOUBLE])
                # END SOLUTION
        out["v"] = v.copy()

    name = f"MPI x{comm.size}, " + ("Allgather" if equal else "Allgatherv") + f", N = {n}"
    lab.variant(name, iterate, runs_as="mpi", workers=comm.size, size=f"{n}^2 x {iters}",
                work=kit.Work(bytes=8 * n * n * iters, flops=2 * n * n * iters),
                check=lambda: kit.assert_equal(out["v"], expected))


assert N % comm.size == 0, "Allgather needs equal stripes"
run(N, equal=True)
run(N + 1, equal=False)
lab.finish()

# %%
lab.collect("matvec", [f"MPI x2, Allgather, N = {N}", f"MPI x2, Allgatherv, N = {N + 1}"])
for v in lab.variants:
    if v.name == f"MPI x2, Allgather, N = {N}":
        v.baseline = "serial NumPy"  # the same N: the speed-up of 2 ranks

# %% [markdown]
# ## What the numbers say
#
# A matrix–vector product reads every element of M once per iteration: it is bound by memory
# bandwidth, and two ranks on one machine share it. The gathered vector is small (N numbers
# against N²/ranks of matrix), so the messages cost little. NumPy's `@` may itself run on
# several threads (its BLAS), so "serial" here is one process, not necessarily one core.

# %%
equal = lab.best(f"MPI x2, Allgather, N = {N}")
unequal = lab.best(f"MPI x2, Allgatherv, N = {N + 1}")
lab.claim("unequal stripes (Allgatherv) cost about what equal ones do (within 2x)",
          unequal <= 2 * equal, f"{unequal:.3f} s vs {equal:.3f} s")
lab.finish()

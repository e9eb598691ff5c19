# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""MPI benchmarks of manycore.dist against mpi4py, in one run on one machine.

    python bench/mpi/run.py            full sizes; writes bench/results/<date>-<machine>-mpi.md
    python bench/mpi/run.py --quick    small sizes (a smoke test)
    python bench/mpi/run.py --max-ranks 16 --grid 2048
                                       heat2d scaling on 1, 2, 4, 8 and 16 ranks from a 2048^2 grid
                                       (strong: that grid; weak: a 2048^2 block a rank)

Measures, each job started with ``manycore run``:
  exchange   sendrecv between 2 ranks, 8 B to 64 MiB: manycore on mc.Array vs mpi4py's buffer
             path (Sendrecv on NumPy) and its pickle path (sendrecv on NumPy); goal: within 10 %
             of the buffer path, 10x faster than pickle at 1 MiB
  allreduce  sum of float64 arrays on 2 ranks: manycore on mc.Array vs mpi4py Allreduce
  halo       one halo exchange of a 4096x4096 float64 grid on 4 ranks (2x2): manycore vs a
             hand-written mpi4py version (slices packed with NumPy, Sendrecv per face); goal <= 1.2x
  heat2d     the worked example on the CPU: strong scaling (one grid, 1/2/4... ranks) and weak
             scaling (a fixed block per rank), with speedup and efficiency; one kernel thread a rank
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BENCH = HERE.parents[1]


# ---- workers (run on every rank) ----------------------------------------------------------------

def _time(comm, fns: list, repeats: int, inner: int) -> list[float]:
    """For each of ``fns``, the median over ``repeats`` of the mean time of ``inner`` calls, in
    seconds (rank 0's view). The functions take turns within each repeat, so a change in the
    machine's load hits them alike."""
    import numpy as np

    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            fn()  # warm: first-touch, plan creation
            comm.Barrier()
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[k].append((time.perf_counter() - t0) / inner)
    return [float(np.median(x)) for x in samples]


def worker_exchange(quick: bool) -> list[dict]:
    import numpy as np

    import manycore as mc
    from manycore import dist

    c = dist.world()
    raw = c.mpi4py
    peer = 1 - c.rank
    sizes = [8, 64, 1024, 16384, 1 << 20, 8 << 20, 64 << 20]
    if quick:
        sizes = [8, 1024, 1 << 20]
    rows = []
    for nbytes in sizes:
        n = nbytes // 8
        a = np.full(n, c.rank, np.float64)
        b = np.empty_like(a)
        ma, mb = mc.to_device(a, "cpu"), mc.empty_like(mc.to_device(a, "cpu"))
        inner = max(2, min(1000, (32 << 20) // (nbytes * 8)))
        repeats = 3 if quick else 7
        t_mc, t_buf, t_pickle = _time(raw, [
            lambda: c.sendrecv(ma, dest=peer, out=mb),
            lambda: raw.Sendrecv(a, peer, 0, b, peer, 0),
            lambda: raw.sendrecv(a, dest=peer, source=peer),
        ], repeats, inner)
        rows.append({"bytes": nbytes, "manycore": t_mc, "mpi4py_buffer": t_buf, "mpi4py_pickle": t_pickle})
    return rows


def worker_allreduce(quick: bool) -> list[dict]:
    import numpy as np

    import manycore as mc
    from manycore import dist

    c = dist.world()
    raw = c.mpi4py
    rows = []
    for n in ([1024, 1 << 20] if quick else [1024, 1 << 16, 1 << 20, 1 << 23]):
        a = np.ones(n)
        b = np.empty_like(a)
        ma = mc.to_device(a, "cpu")
        mb = mc.empty_like(ma)
        inner = max(1, min(1000, (1 << 24) // n))
        t_mc, t_raw = _time(raw, [lambda: c.allreduce(ma, op="sum", out=mb),
                                  lambda: raw.Allreduce(a, b)], 7, inner)
        rows.append({"bytes": n * 8, "manycore": t_mc, "mpi4py": t_raw})
    return rows


def worker_halo(quick: bool) -> list[dict]:
    import numpy as np
    from mpi4py import MPI

    from manycore import dist

    c = dist.world()
    n = 1024 if quick else 4096
    grid = dist.CartGrid(c, ndim=2, dims=[2, c.size // 2] if c.size % 2 == 0 else None)
    u = grid.zeros((n, n), np.float64, halo=1, device="cpu")  # against NumPy: host memory on both sides
    np.asarray(u.interior)[...] = c.rank

    # The hand-written version: what a course participant writes with mpi4py.
    cart = c.mpi4py.Create_cart(list(grid.dims), periods=[False, False], reorder=False)
    arr = np.zeros(np.asarray(u.local).shape)
    up, down = cart.Shift(0, 1)
    left, right = cart.Shift(1, 1)

    def by_hand():
        cart.Sendrecv(arr[1, :], up, 0, arr[-1, :], down, 0)  # rows are contiguous
        cart.Sendrecv(arr[-2, :], down, 1, arr[0, :], up, 1)
        col = np.ascontiguousarray(arr[:, 1])
        got = np.empty_like(col)
        cart.Sendrecv(col, left, 2, got, right, 2)
        if right != MPI.PROC_NULL:
            arr[:, -1] = got
        col = np.ascontiguousarray(arr[:, -2])
        cart.Sendrecv(col, right, 3, got, left, 3)
        if left != MPI.PROC_NULL:
            arr[:, 0] = got

    repeats, inner = (3, 5) if quick else (7, 20)
    t_mc, t_hand = _time(c.mpi4py, [u.exchange_halos, by_hand], repeats, inner)
    return [{"n": n, "dims": list(grid.dims), "manycore": t_mc, "mpi4py_by_hand": t_hand}]


def worker_heat(quick: bool, n: int, m: int, steps: int) -> list[dict]:
    from manycore import dist
    from manycore.dist.examples import heat2d

    c = dist.world()
    grid = dist.CartGrid(c, ndim=2)
    u0 = heat2d.initial(n, m) if c.rank == 0 else None
    solver = heat2d.Heat2D(grid, u0, device="cpu")  # a GPU, where present, is not what this measures
    solver.run(2)
    c.barrier()
    t0 = time.perf_counter()
    solver.run(steps)
    c.barrier()
    return [{"n": n, "m": m, "ranks": c.size, "dims": list(grid.dims), "steps": steps,
             "seconds": time.perf_counter() - t0}]


def worker_main(args: argparse.Namespace) -> int:
    from manycore import dist

    kind = args.worker
    if kind == "heat":
        rows = worker_heat(args.quick, args.n, args.m, args.steps)
    else:
        rows = {"exchange": worker_exchange, "allreduce": worker_allreduce, "halo": worker_halo}[kind](args.quick)
    if dist.world().rank == 0:
        Path(args.json).write_text(json.dumps(rows))
    return 0


# ---- the driver ---------------------------------------------------------------------------------

def launch(ranks: int, worker_args: list[str], threads: int | None = None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        env = dict(os.environ)
        if threads is not None:
            env["MANYCORE_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, "-m", "manycore", "run", "-n", str(ranks), "--timeout", "500",
               str(HERE), "--json", str(out), *worker_args]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=560)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def _machine() -> tuple[dict, str]:
    spec = importlib.util.spec_from_file_location("_bench_run_all", BENCH / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    info = run_all.machine_info()
    return info, run_all.machine_slug(info)


def _weak_shape(base: int, ranks: int) -> tuple[int, int]:
    """The global grid for ``ranks`` blocks of base x base: 2 ranks 2x1 blocks, 4 2x2, 8 4x2..."""
    rows = cols = 1
    while rows * cols < ranks:
        rows *= 2
        if rows * cols < ranks:
            cols *= 2
    return rows * base, cols * base


def _size(b: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b // scale} {unit}"
    return f"{b} B"


def driver(args: argparse.Namespace) -> int:
    import mpi4py

    quick = ["--quick"] if args.quick else []
    started = time.perf_counter()
    info, slug = _machine()
    lines: list[str] = []
    say = lambda s="": (print(s, flush=True), lines.append(s))  # noqa: E731
    verdicts = []

    if not args.only_heat:
        say("## exchange: sendrecv between 2 ranks (time per call; bandwidth = bytes / time)\n")
        say("| size | manycore µs | mpi4py buffer µs | mpi4py pickle µs | manycore GB/s | buffer GB/s | pickle GB/s | manycore / buffer |")
        say("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in launch(2, ["--worker", "exchange", *quick], threads=1):
            b = r["bytes"]
            say(f"| {_size(b)} | {r['manycore'] * 1e6:.2f} | {r['mpi4py_buffer'] * 1e6:.2f} | {r['mpi4py_pickle'] * 1e6:.2f} | "
                f"{b / r['manycore'] / 1e9:.2f} | {b / r['mpi4py_buffer'] / 1e9:.2f} | {b / r['mpi4py_pickle'] / 1e9:.2f} | "
                f"{r['manycore'] / r['mpi4py_buffer']:.2f} |")
            if b == 1 << 20:
                verdicts.append(("exchange 1 MiB within 10 % of mpi4py's buffer path",
                                 r["manycore"] <= 1.10 * r["mpi4py_buffer"], f"{r['manycore'] / r['mpi4py_buffer']:.2f}x"))
                verdicts.append(("exchange 1 MiB 10x faster than mpi4py's pickle path",
                                 r["mpi4py_pickle"] >= 10 * r["manycore"], f"{r['mpi4py_pickle'] / r['manycore']:.1f}x"))

        say("\n## allreduce (sum, float64) on 2 ranks\n")
        say("| size | manycore µs | mpi4py µs | manycore GB/s | mpi4py GB/s | ratio |")
        say("|---:|---:|---:|---:|---:|---:|")
        for r in launch(2, ["--worker", "allreduce", *quick], threads=1):
            b = r["bytes"]
            say(f"| {_size(b)} | {r['manycore'] * 1e6:.1f} | {r['mpi4py'] * 1e6:.1f} | {b / r['manycore'] / 1e9:.2f} | "
                f"{b / r['mpi4py'] / 1e9:.2f} | {r['manycore'] / r['mpi4py']:.2f} |")

        say("\n## halo exchange, float64 grid on 4 ranks (2x2), faces only\n")
        say("| grid | manycore ms | mpi4py by hand ms | ratio |")
        say("|---|---:|---:|---:|")
        for r in launch(4, ["--worker", "halo", *quick], threads=1):
            ratio = r["manycore"] / r["mpi4py_by_hand"]
            say(f"| {r['n']}x{r['n']} | {r['manycore'] * 1e3:.2f} | {r['mpi4py_by_hand'] * 1e3:.2f} | {ratio:.2f} |")
            verdicts.append((f"halo exchange {r['n']}^2 on 4 ranks <= 1.2x hand-written mpi4py", ratio <= 1.2, f"{ratio:.2f}x"))

    base, steps = (256, 20) if args.quick else (args.grid, 100)
    counts = [p for p in (1, 2, 4, 8, 16, 32, 64) if p <= args.max_ranks]
    for title, shapes in (
        ("strong scaling (one grid)", {p: (base, base) for p in counts}),
        ("weak scaling (a block of the 1-rank grid per rank)", {p: _weak_shape(base, p) for p in counts}),
    ):
        say(f"\n## heat2d {title}, {steps} steps, one kernel thread per rank\n")
        say("| ranks | grid | dims | s | steps/s | speedup | efficiency |")
        say("|---:|---|---|---:|---:|---:|---:|")
        t1 = None
        for p, (n, m) in shapes.items():
            r = launch(p, ["--worker", "heat", "--n", str(n), "--m", str(m), "--steps", str(steps), *quick], threads=1)[0]
            t = r["seconds"]
            t1 = t if t1 is None else t1
            strong = title.startswith("strong")
            speedup = t1 / t if strong else t1 / t * p
            say(f"| {p} | {n}x{m} | {'x'.join(map(str, r['dims']))} | {t:.3f} | {steps / t:.1f} | {speedup:.2f} | {speedup / p:.2f} |")

    say("\n## goals\n")
    say("| goal | result | measured |")
    say("|---|---|---|")
    for goal, ok, value in verdicts:
        say(f"| {goal} | {'PASS' if ok else 'MISS'} | {value} |")

    seconds = time.perf_counter() - started
    head = [f"# manycore MPI benchmarks, {info['date'][:10]}\n",
            "**Quick run (small sizes): a smoke test, not a measurement.**\n" if args.quick else "",
            "| machine | |", "|---|---|"]
    head += [f"| {k} | {v} |" for k, v in info.items()]
    mpirun = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    head += [f"| MPI | {mpirun[0] if mpirun else 'unknown'} |", f"| mpi4py | {mpi4py.__version__} |",
             f"\nOne `python bench/mpi/run.py{' --quick' if args.quick else ''}` ({seconds:.0f} s). Ranks beyond "
             f"{info['nproc']} CPUs are oversubscribed; every time is the median of repeated runs.\n"]
    text = "\n".join(head) + "\n" + "\n".join(lines) + "\n"
    if not args.no_write:
        results = BENCH / "results"
        results.mkdir(exist_ok=True)
        path = results / f"{info['date'][:10]}-{slug}-mpi.md"
        path.write_text(text)
        print(f"\nwrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--max-ranks", type=int, default=4, help="heat2d scaling up to this many ranks (powers of 2)")
    p.add_argument("--grid", type=int, default=1024, help="heat2d: the 1-rank grid is grid x grid")
    p.add_argument("--only-heat", action="store_true", help="heat2d scaling only")
    p.add_argument("--worker", choices=["exchange", "allreduce", "halo", "heat"], help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=1024, help=argparse.SUPPRESS)
    p.add_argument("--m", type=int, default=1024, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=100, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    return worker_main(args) if args.worker else driver(args)


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Strong scaling of the heat example over the GPUs of one node: one rank per GPU.

    python bench/mpi/heat_gpus.py                      16384^2 float32, 1, 2, 4 GPUs (as many as there are)
    python bench/mpi/heat_gpus.py --grid 4096 --steps 50 --ranks 1 2

Each run is ``manycore run -n R -m manycore.dist.examples.heat2d --device auto``: every rank
takes its default device, the GPU of its node-local rank, and the example prints the device of
each rank, which is checked to be R different GPUs. Speedup is steps/s over the 1-GPU run's;
efficiency is speedup / R. Writes ``<date>-<machine>-heat-gpus.md`` into ``--out`` when given.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

import manycore as mc


def run(ranks: int, grid: int, steps: int, dtype: str, timeout: float) -> tuple[float, list[str], str]:
    cmd = [sys.executable, "-m", "manycore", "run", "-n", str(ranks), "-m", "manycore.dist.examples.heat2d",
           "--n", str(grid), "--steps", str(steps), "--dtype", dtype, "--device", "auto", "--warmup", "3"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    text = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{text[-3000:]}")
    rate = re.search(r"([0-9.]+) steps/s", text)
    devices = re.search(r"ranks' devices (.*)", text)
    if rate is None or devices is None:
        raise RuntimeError(f"no timing in the output of {' '.join(cmd)}:\n{text[-3000:]}")
    return float(rate.group(1)), [d.strip() for d in devices.group(1).split(",")], text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", type=int, default=16384, help="grid points per side (default 16384)")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--ranks", type=int, nargs="*", default=None, help="rank counts (default 1 2 4, up to the GPUs here)")
    p.add_argument("--timeout", type=float, default=240)
    p.add_argument("--out", type=Path, default=None, help="folder to write the table into")
    args = p.parse_args(argv)
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if not gpus:
        print("no GPU on this machine: nothing to scale over")
        return 0
    ranks = args.ranks or [r for r in (1, 2, 4) if r <= len(gpus)]
    rows, base = [], None
    failed = False
    for r in ranks:
        rate, devices, _ = run(r, args.grid, args.steps, args.dtype, args.timeout)
        distinct = len(set(devices)) == r and all(d.startswith("cuda") for d in devices)
        failed |= not distinct
        base = rate if base is None else base
        speedup = rate / base
        rows.append((r, rate, speedup, speedup / r * ranks[0], devices, distinct))
        print(f"{r} GPU(s): {rate:.1f} steps/s, speedup {speedup:.2f}, efficiency {speedup / r * ranks[0]:.0%}, "
              f"devices {', '.join(devices)}{'' if distinct else '  <- NOT one GPU per rank'}", flush=True)
    name = gpus[0].name
    lines = ["<!--\nSPDX-License-Identifier: BSD-3-Clause\nSPDX-FileCopyrightText: manycore developers\n-->",
             f"# heat2d strong scaling over GPUs, {datetime.date.today()}", "",
             f"{len(gpus)} x {name}; {args.grid}^2 {args.dtype}, {args.steps} steps after 3 warm-up steps; "
             f"`python bench/mpi/heat_gpus.py {' '.join(argv if argv is not None else sys.argv[1:])}`.", "",
             "| GPUs (ranks) | steps/s | speedup | efficiency | ranks' devices |", "|---:|---:|---:|---:|---|"]
    lines += [f"| {r} | {rate:.1f} | {s:.2f} | {e:.0%} | {', '.join(d)} |" for r, rate, s, e, d, _ in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        slug = "-".join(name.lower().replace("nvidia", "nvidia ").split()[:2])
        path = args.out / f"{datetime.date.today()}-{slug}-x{len(gpus)}-heat-gpus.md"
        path.write_text(text)
        print("wrote", path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

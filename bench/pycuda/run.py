# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Launch cost of manycore.pycuda against the native manycore call, in the same run.

One kernel, ``axpy(float *x, float *y, float a, int n)`` at ``grid=(4,), block=(256,)`` (its
body stores nothing: the launch is what is timed), launched
  - natively: ``f(x, y, a, n, grid=..., block=...)`` with manycore arrays and NumPy scalars;
  - through manycore.pycuda: ``f(x, y, a, n, grid=..., block=...)`` with GPUArrays, and with
    ``mem_alloc`` allocations, and ``f.prepared_call(grid, block, ...)`` after ``prepare("PPfi")``.
Every call is timed on its own; the contenders take turns, round after round, so that load on
the machine falls on all of them alike. Goal: each PyCUDA-style median <= 1.3x the native one.
With ``--real DIR`` (a folder where the real PyCUDA is importable), the same two PyCUDA calls
are timed with PyCUDA itself in a child process, on the same device, for the side-by-side table.

    python bench/pycuda/run.py [--calls N] [--quick] [--device cpu|cuda] [--write] [--real DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import exit_status, machine_info, machine_slug, print_rows, row  # noqa: E402

CALLS = 20_000
QUICK_CALLS = 2_000
ROUNDS = 10
GOAL = 1.3
SOURCE = """
__global__ void axpy(float *x, float *y, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 0) y[i] += a * x[i];  // never true: the launch is what is timed
}
"""


def timed_calls(calls: dict, count: int) -> dict[str, list[float]]:
    """Microseconds of each call of each contender; the contenders take turns in rounds."""
    clock = time.perf_counter
    out: dict[str, list[float]] = {name: [] for name in calls}
    per_round = max(1, count // ROUNDS)
    for name, call in calls.items():  # warm-up
        for _ in range(200):
            call()
    for _ in range(ROUNDS):
        for name, call in calls.items():
            times = out[name]
            for _ in range(per_round):
                start = clock()
                call()
                times.append((clock() - start) * 1e6)
    return out


def manycore_calls(device: str | None) -> dict:
    import numpy as np

    import manycore as mc
    import manycore.pycuda.driver as drv
    from manycore.pycuda import gpuarray
    from manycore.pycuda.compiler import SourceModule

    dev = mc.Device(device) if device else mc.default_device()
    drv.Device(dev).make_context()
    native = mc.SourceModule(SOURCE, device=dev).get_function("axpy")
    x, y = mc.zeros(1024, np.float32, dev), mc.zeros(1024, np.float32, dev)
    f = SourceModule(SOURCE).get_function("axpy")
    gx, gy = gpuarray.zeros(1024, np.float32), gpuarray.zeros(1024, np.float32)
    ax, ay = drv.mem_alloc(4096), drv.mem_alloc(4096)
    prepared = SourceModule(SOURCE).get_function("axpy").prepare("PPfi")
    a, n = np.float32(2), np.int32(1024)
    return {
        "native manycore call": lambda: native(x, y, a, n, grid=(4,), block=(256,)),
        "pycuda call, GPUArrays": lambda: f(gx, gy, a, n, grid=(4, 1), block=(256, 1, 1)),
        "pycuda call, mem_alloc": lambda: f(ax, ay, a, n, grid=(4, 1), block=(256, 1, 1)),
        "pycuda prepared_call": lambda: prepared.prepared_call((4, 1), (256, 1, 1), ax, ay, a, n),
    }


REAL = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import pycuda.autoinit, pycuda.driver as drv, pycuda.gpuarray as gpuarray
from pycuda.compiler import SourceModule
sys.path.insert(0, sys.argv[3])
from run import SOURCE, timed_calls
f = SourceModule(SOURCE).get_function("axpy")
prepared = SourceModule(SOURCE).get_function("axpy"); prepared.prepare("PPfi")
gx, gy = gpuarray.zeros(1024, np.float32), gpuarray.zeros(1024, np.float32)
ax, ay = drv.mem_alloc(4096), drv.mem_alloc(4096)
a, n = np.float32(2), np.int32(1024)
calls = {
    "PyCUDA call, GPUArrays": lambda: f(gx, gy, a, n, grid=(4, 1), block=(256, 1, 1)),
    "PyCUDA call, mem_alloc": lambda: f(ax, ay, a, n, grid=(4, 1), block=(256, 1, 1)),
    "PyCUDA prepared_call": lambda: prepared.prepared_call((4, 1), (256, 1, 1), ax, ay, a, n),
}
times = timed_calls(calls, int(sys.argv[2]))
drv.Context.synchronize()
print(json.dumps({k: sorted(v) for k, v in times.items()}))
"""


def real_pycuda_times(folder: str, count: int) -> dict[str, list[float]]:
    r = subprocess.run([sys.executable, "-c", REAL, folder, str(count), str(HERE)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"the real PyCUDA run failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(calls: int | None = None, quick: bool = False, device: str | None = None,
        real: str | None = None, **_ignored) -> list[dict]:
    count = calls or (QUICK_CALLS if quick else CALLS)
    times = timed_calls(manycore_calls(device), count)
    import manycore as mc

    mc.synchronize(mc.Device(device) if device else mc.default_device())
    medians = {name: statistics.median(t) for name, t in times.items()}
    native = medians["native manycore call"]
    label = f"{count} calls"
    rows = []
    for name, t in times.items():
        t.sort()
        detail = f"p90 {t[int(len(t) * 0.9)]:.2f} µs, best {t[0]:.2f} µs"
        rows.append(row("pycuda", name, label, medians[name], "µs median", detail))
        if name != "native manycore call":
            ratio = medians[name] / native
            rows.append(row("pycuda", f"{name} / native", label, ratio, "ratio",
                            goal=f"<= {GOAL:g}", result="PASS" if ratio <= GOAL else "MISS"))
    if real:
        for name, t in real_pycuda_times(real, count).items():
            rows.append(row("pycuda", name, label, statistics.median(t), "µs median",
                            f"PyCUDA itself, same device, a process of its own; best {t[0]:.2f} µs"))
    return rows


def write(rows: list[dict], device: str) -> Path:
    info = machine_info()
    out = HERE.parent / "results" / f"{info['date'][:10]}-{machine_slug(info)}-pycuda.md"
    lines = ["<!--", "SPDX-License-Identifier: BSD-3-Clause",
             "SPDX-FileCopyrightText: manycore developers", "-->",
             f"# manycore.pycuda launch cost, {info['date'][:10]}", "",
             "| machine | |", "|---|---|"]
    lines += [f"| {k} | {info[k]} |" for k in info]
    lines += ["", f"`python bench/pycuda/run.py --write` on {device}: every call timed on its own, "
              "the contenders taking turns in 10 rounds.", "",
              "| measure | size | value | unit | goal | result | detail |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['measure']} | {r['size']} | {r['value']:.3g} | {r['unit']} | "
                     f"{r.get('goal', '')} | {r.get('result', '')} | {r.get('detail', '')} |")
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=None, help=f"timed calls (default {CALLS})")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_CALLS} calls")
    p.add_argument("--device", default=None, help="cpu or cuda (default: the default device)")
    p.add_argument("--real", default=None, help="a folder where the real PyCUDA is importable")
    p.add_argument("--write", action="store_true", help="write bench/results/<date>-<machine>-pycuda.md")
    args = p.parse_args(argv)
    rows = run(args.calls, args.quick, args.device, args.real)
    print_rows(rows)
    if args.write:
        import manycore as mc

        print(f"wrote {write(rows, str(mc.Device(args.device) if args.device else mc.default_device()))}")
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Benchmarks of issue 4 (arrays and kernel generators) against their anchors, on this machine.

CPU: y = a*x + y on 2**26 float64 (ElementwiseKernel) vs a C++ OpenMP loop compiled now with
g++ -O3 -march=native -fopenmp; sum of 2**26 float64 vs NumPy; per-call overhead of a small
elementwise operation. GPU (when present): add of 2**28 float32, sum, a ReductionKernel dot,
an inclusive scan of 2**28 int32, overhead. Writes bench/results/<date>-<machine>-arrays.md.

    python bench/arrays/run.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import manycore as mc

HERE = Path(__file__).resolve().parent


def best(f, reps: int) -> float:
    f()
    t = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def openmp_axpy(n: int, reps: int) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "ref_openmp"
        r = subprocess.run(["g++", "-O3", "-march=native", "-fopenmp", str(HERE / "ref_openmp.cpp"), "-o", str(exe)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("could not build the OpenMP anchor:", r.stderr[-500:], file=sys.stderr)
            return None
        out = subprocess.run([str(exe), str(n), str(reps)], capture_output=True, text=True, check=True)
        return float(out.stdout.split()[0])


def sync(a: mc.Array) -> None:
    """Waits for the device: a one-element copy back is ordered after the work."""
    a[:1].get()


def cpu_rows(quick: bool) -> list[tuple[str, str, str, str]]:
    cpu = mc.Device("cpu")
    n = 2**22 if quick else 2**26
    reps = 3 if quick else 10
    rows = []
    axpy = mc.ElementwiseKernel("double a, const double *x, double *y", "y[i] = a*x[i] + y[i]", name="axpy")
    x = mc.to_device(np.arange(n, dtype=np.float64) % 7 + 1, cpu)
    y = mc.full(n, 2.0, device=cpu)
    t_mc = best(lambda: axpy(0.5, x, y), reps)
    t_omp = openmp_axpy(n, reps)
    gbs = 3 * 8 * n / 1e9
    rows.append((f"CPU axpy y=a*x+y, {n} float64 (ElementwiseKernel)", f"{t_mc * 1e3:.2f} ms",
                 f"{gbs / t_mc:.1f} GB/s",
                 f"OpenMP {t_omp * 1e3:.2f} ms ({gbs / t_omp:.1f} GB/s): {100 * t_omp / t_mc:.0f}% of OpenMP"
                 if t_omp else "OpenMP anchor not built"))
    t_ops = best(lambda: 0.5 * x + y, reps)
    rows.append((f"CPU 0.5*x + y operators (two kernels, two temporaries), {n} float64", f"{t_ops * 1e3:.2f} ms", "", ""))
    xs = np.random.default_rng(0).random(n)
    dx = mc.to_device(xs, cpu)
    t_sum = best(lambda: dx.sum(), reps)
    t_np = best(lambda: np.sum(xs), reps)
    rows.append((f"CPU sum of {n} float64", f"{t_sum * 1e3:.2f} ms", f"{8 * n / t_sum / 1e9:.1f} GB/s",
                 f"NumPy {t_np * 1e3:.2f} ms: {t_np / t_sum:.2f}x NumPy"))
    small_a, small_b = mc.ones(16, device=cpu), mc.ones(16, device=cpu)
    k = 20000
    small_a + small_b
    t0 = time.perf_counter()
    for _ in range(k):
        small_a + small_b
    over = (time.perf_counter() - t0) / k
    rows.append(("CPU per-call overhead of a + b on 16 float64 (from Python)", f"{over * 1e6:.2f} us", "", "bar: <= 10 us"))
    return rows


def gpu_rows(dev: mc.Device, quick: bool) -> list[tuple[str, str, str, str]]:
    n = 2**24 if quick else 2**28
    reps = 5 if quick else 20
    rows = []
    a = mc.ones(n, np.float32, dev)
    b = mc.ones(n, np.float32, dev)
    out = mc.empty(n, np.float32, dev)
    from manycore import _array_ops as ops

    add = lambda: ops.apply("add", ops.BINARY["add"][1], np.add, (a, b), out=out)  # noqa: E731
    t = best(lambda: (add(), sync(out)), reps)
    rows.append((f"GPU add, {n} float32", f"{t * 1e3:.3f} ms", f"{12 * n / t / 1e9:.0f} GB/s", "bar: >= 2600 GB/s"))
    t = best(lambda: a.sum().get(), reps)
    rows.append((f"GPU sum, {n} float32", f"{t * 1e3:.3f} ms", f"{4 * n / t / 1e9:.0f} GB/s", "bar: >= 2700 GB/s"))
    dot = mc.ReductionKernel(np.float32, "0", "a+b", "x[i]*y[i]", "const float *x, const float *y")
    t = best(lambda: dot(a, b).get(), reps)
    rows.append((f"GPU ReductionKernel dot, {n} float32", f"{t * 1e3:.3f} ms", f"{8 * n / t / 1e9:.0f} GB/s", "bar: >= 2600 GB/s"))
    xi = mc.ones(n, np.int32, dev)
    oi = mc.empty(n, np.int32, dev)
    scan = mc.InclusiveScanKernel(np.int32, "a + b")
    t = best(lambda: (scan(xi, oi), sync(oi)), reps)
    rows.append((f"GPU inclusive scan, {n} int32", f"{t * 1e3:.3f} ms", f"{8 * n / t / 1e9:.0f} GB/s", "bar: >= 1500 GB/s"))
    s1, s2 = mc.ones(16, device=dev), mc.ones(16, device=dev)
    k = 20000
    s1 + s2
    t0 = time.perf_counter()
    for _ in range(k):
        s1 + s2
    sync(s1 + s2)
    rows.append(("GPU per-call overhead of a + b on 16 float64", f"{(time.perf_counter() - t0) / k * 1e6:.2f} us", "", "bar: <= 10 us"))
    return rows


def _machine() -> dict:
    """Date, CPU, slug, commit and load, named as bench/run_all.py names them."""
    import os

    try:
        sys.path.insert(0, str(HERE.parent))
        from run_all import machine_info, machine_slug

        info = machine_info()
        return {"date": info["date"], "cpu": info["cpu"], "slug": machine_slug(info),
                "commit": info["commit"], "load": info["load_average_at_start"]}
    except Exception:  # run_all is a sibling script; fall back to what platform says
        return {"date": datetime.datetime.now().isoformat(), "cpu": platform.processor() or "CPU",
                "slug": platform.node() or "machine", "commit": "unknown",
                "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    p.add_argument("--out", type=Path, default=HERE.parent / "results")
    args = p.parse_args()
    rows = cpu_rows(args.quick)
    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    lines = []
    for d in gpus:
        rows += gpu_rows(d, args.quick)
    if not gpus:
        lines.append("GPU rows (add, sum, ReductionKernel dot, scan, overhead) were not run: no GPU on this machine.")
    info = _machine()
    date = info["date"][:10]
    cpu = mc.Device("cpu")
    text = ["<!--\nSPDX-License-Identifier: BSD-3-Clause\nSPDX-FileCopyrightText: manycore developers\n-->",
            f"# bench/arrays — {date} on {info['slug']}", "",
            f"CPU: {info['cpu']} ({cpu.compute_units} workers); NumPy {np.__version__}; manycore {mc.__version__}; "
            f"commit {info['commit']}; load average at start {info['load']}"
            + (" (quick sizes)" if args.quick else ""), "",
            "| case | time | throughput | anchor / bar |", "|---|---|---|---|"]
    text += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text += [""] + lines
    out = "\n".join(text) + "\n"
    print(out)
    if not args.quick:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{date}-{info['slug']}-arrays.md").write_text(out)


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What the fault and Ctrl-C machinery costs an unchecked launch: this tree against another
build of manycore (the one before the change), measured in alternating rounds of one run.

Each round starts one fresh process per build, alternately, and each measures:

- the empty launch: median of single timed calls of an empty kernel, grid=(1,), block=(1,)
  (what the guarded call, the interrupt checks and the armed thread add, per launch);
- the triad c = a + s*b on float64 NumPy arrays, 2^20 elements (24 MiB, beyond the caches)
  and 2^16 (from cache, where a per-launch cost shows most), best of the round's repeats;
- the triad on arrays manycore allocated (mc.zeros: from one page up, guard-paged memory);
- mc.empty of 64 KiB: an allocation and its release (the guarded mapping, reused).

Each figure keeps the best round of each build (a shared machine only ever slows a round
down), and the table gives after/before. Goal: within 2% for the launch and the triads.

Times on a shared 2-CPU machine drift by more than 2% from one second to the next, so where
valgrind is installed the run also counts the instructions of one empty launch under
callgrind (1,000 and 3,000 launches, the difference over 2,000; the spinning threads of
NumPy's BLAS left out), which no other work on the machine changes.

    python bench/reliability/run.py --before SITE [--rounds R] [--quick] [--write]

SITE is a folder where the other build is installed (pip install --target SITE <tree>);
it is put first on PYTHONPATH for its rounds. --write adds the table to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
GOAL = 0.02

KERNELS = r"""
__global__ void empty() {}
__global__ void triad(long n, double s, const double* a, const double* b, double* c) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + s * b[i];
}
"""


def measure(quick: bool) -> dict:
    """One process's figures (run with the build under test first on sys.path)."""
    import numpy as np

    import manycore as mc
    from manycore.tools.timing import measure as timed

    module = mc.SourceModule(KERNELS, device="cpu")
    empty = module.get_function("empty")
    triad = module.get_function("triad")
    calls = 3000 if quick else 20000
    for _ in range(1000):
        empty(grid=(1,), block=(1,))
    clock = time.perf_counter
    samples = []
    for _ in range(calls):
        start = clock()
        empty(grid=(1,), block=(1,))
        samples.append(clock() - start)
    out = {"empty launch (us)": statistics.median(samples) * 1e6}

    def triad_gbps(n: int, arrays: str) -> float:
        if arrays == "numpy":
            a, b, c = np.ones(n), np.ones(n), np.zeros(n)
        else:
            a, b, c = (mc.zeros(n, np.float64, device="cpu") for _ in range(3))
        grid = ((n + 255) // 256,)
        best = timed(lambda: triad(n, 3.0, a, b, c, grid=grid, block=(256,)),
                     repeat=5 if quick else 30, warmup=3).best
        return 3 * 8 * n / best / 1e9

    for n in (1 << 16, 1 << 20):
        out[f"triad 2^{n.bit_length() - 1} NumPy arrays (GB/s)"] = triad_gbps(n, "numpy")
    out["triad 2^20 manycore arrays (GB/s)"] = triad_gbps(1 << 20, "manycore")
    alloc = timed(lambda: mc.empty(1 << 14, np.float32, device="cpu"), repeat=5,
                  number=200 if quick else 2000, warmup=2).best
    out["mc.empty 64 KiB (us)"] = alloc * 1e6
    return out


def launches(count: int) -> None:
    """``count`` empty launches, for callgrind."""
    import manycore as mc

    # The empty kernel alone: valgrind does not run every instruction -march=native may use.
    f = mc.SourceModule("__global__ void empty() {}", device="cpu").get_function("empty")
    for _ in range(count):
        f(grid=(1,), block=(1,))


def instructions(site: str | None) -> float | None:
    """Instructions of one empty launch (Python's call included), under callgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = site + os.pathsep + env.get("PYTHONPATH", "")
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for count in (1000, 3000):
            out = Path(folder) / f"callgrind.{count}"
            subprocess.run([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                            sys.executable, str(Path(__file__).resolve()), "--launches",
                            str(count)], env=env, capture_output=True, timeout=1800, check=True)
            text = subprocess.run(["callgrind_annotate", "--threshold=100", str(out)],
                                  capture_output=True, text=True, check=True).stdout
            total = 0
            for line in text.splitlines():
                m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
                if m and "blas" not in line and "PROGRAM TOTALS" not in line:
                    total += int(m.group(1).replace(",", ""))
            totals.append(total)
    return (totals[1] - totals[0]) / 2000


def one_round(site: str | None, quick: bool) -> dict:
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = site + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"a measuring process failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(before: list[dict], after: list[dict], rounds: int) -> str:
    lines = ["| figure | before (best) | after (best) | after / before | within 2% |",
             "|---|---:|---:|---:|---|"]
    for name in before[0]:
        higher_is_better = "GB/s" in name
        pick = max if higher_is_better else min
        b = pick(r[name] for r in before)
        a = pick(r[name] for r in after)
        ratio = a / b
        worse = (1 - ratio) if higher_is_better else (ratio - 1)
        lines.append(f"| {name} | {b:.3f} | {a:.3f} | {ratio:.3f} | "
                     f"{'yes' if worse <= GOAL else 'no'} |")
    lines.append("")
    lines.append(f"{rounds} alternating rounds (before, after, before, ...), each a fresh process "
                 "per build; best round of each build. Every round's figures:")
    lines.append("")
    names = list(before[0])
    lines.append("| round | build | " + " | ".join(names) + " |")
    lines.append("|---|---|" + "---:|" * len(names))
    for k, (b, a) in enumerate(zip(before, after), 1):
        for label, r in (("before", b), ("after", a)):
            lines.append(f"| {k} | {label} | " + " | ".join(f"{r[n]:.3f}" for n in names) + " |")
    return "\n".join(lines)


def machine() -> str:
    model = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", help="folder where the build to compare against is installed")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    p.add_argument("--write", action="store_true", help="write the table to bench/results/")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--launches", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.quick)))
        return 0
    if args.launches:
        launches(args.launches)
        return 0
    if not args.before:
        p.error("--before SITE is needed: the folder of the build to compare against")
    before, after = [], []
    for k in range(args.rounds):
        before.append(one_round(args.before, args.quick))
        after.append(one_round(None, args.quick))
        print(f"round {k + 1}: before {before[-1]}\n         after  {after[-1]}", flush=True)
    text = table(before, after, args.rounds)
    counted = [instructions(args.before), instructions(None)]
    if None not in counted:
        text = (f"Instructions of one empty launch (callgrind): before {counted[0]:.0f}, after "
                f"{counted[1]:.0f}, after / before {counted[1] / counted[0]:.3f}.\n\n" + text)
    print(text)
    if args.write:
        today = datetime.date.today().isoformat()
        path = RESULTS / f"{today}-reliability.md"
        path.write_text(f"# The cost of fault and Ctrl-C handling on unchecked launches\n\n"
                        f"{today}, {machine()}; `python bench/reliability/run.py --before SITE "
                        f"--rounds {args.rounds}`, SITE the tree before the change.\n\n{text}\n")
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Compile cost: `mc.SourceModule(src)` in a new process, first with an empty compile cache
(the host compiler runs) and then with the cache that first run filled (the library is loaded).

Each sample is its own Python process, so nothing of manycore is warm: what a user waits for
when a script starts. Only the SourceModule call is timed; the process start and
`import manycore` are reported beside it. Goal: cached load <= 5 ms (median of the processes).

    python bench/compile/run.py [--processes N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import exit_status, print_rows, row  # noqa: E402

GOAL_MS = 5.0
PROCESSES = 7
QUICK_PROCESSES = 3

SOURCE = r"""
__global__ void saxpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""

# The child: times the import and the SourceModule call, prints them as JSON.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import manycore as mc
t1 = time.perf_counter()
module = mc.SourceModule(sys.argv[1], device="cpu")
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "module_ms": (t2 - t1) * 1e3,
                  "from_cache": module.from_cache}))
"""


def child(cache_dir: str) -> dict:
    env = dict(os.environ, MANYCORE_CACHE_DIR=cache_dir)
    env.pop("MANYCORE_CACHE", None)  # the cache must be on for this measurement
    done = subprocess.run([sys.executable, "-c", CHILD, SOURCE], capture_output=True, text=True,
                          env=env, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the timing process failed: {done.stderr.strip()[-600:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(processes: int | None = None, quick: bool = False, **_ignored) -> list[dict]:
    count = processes or (QUICK_PROCESSES if quick else PROCESSES)
    first_count = 1 if quick else 3  # each one needs a fresh folder and a full compile
    with tempfile.TemporaryDirectory(prefix="manycore-bench-cache-") as tmp:
        first = []
        for k in range(first_count):
            first.append(child(os.path.join(tmp, f"fresh{k}")))
        cached = [child(os.path.join(tmp, "fresh0")) for _ in range(count)]
    ok = not any(s["from_cache"] for s in first) and all(s["from_cache"] for s in cached)
    first_ms = statistics.median(s["module_ms"] for s in first)
    cached_ms = statistics.median(s["module_ms"] for s in cached)
    import_ms = statistics.median(s["import_ms"] for s in cached)
    cached_all = [s["module_ms"] for s in cached]
    spread = f"{min(cached_all):.2f} to {max(cached_all):.2f} ms"
    return [
        row("compile", "first compile (empty cache)", "saxpy", first_ms, "ms",
            f"median of {first_count} new processes, each with an empty cache folder",
            result="" if ok else "FAIL"),
        row("compile", "cached load", "saxpy", cached_ms, "ms",
            f"median of {count} new processes; {spread}", goal=f"<= {GOAL_MS:g} ms",
            result=("PASS" if cached_ms <= GOAL_MS else "MISS") if ok else "FAIL"),
        row("compile", "import manycore", "-", import_ms, "ms",
            "in the same processes, for scale; not part of the goal"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=None,
                   help=f"processes timing the cached load (default {PROCESSES})")
    p.add_argument("--quick", action="store_true", help="fewer processes")
    args = p.parse_args(argv)
    rows = run(args.processes, args.quick)
    print_rows(rows)
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())

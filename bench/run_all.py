# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Runs the five CPU benchmarks in one process, prints every number and writes the results
table with the machine it was measured on.

    python bench/run_all.py            full sizes; writes bench/results/<date>-<machine>.{md,csv}
    python bench/run_all.py --quick    small sizes, for a smoke test (still writes, unless
                                       --no-write is given)

This file also holds what the benchmarks share (the row format, the table, sizes, the build of
the C++ references), so that each bench/<name>/run.py runs alone with nothing to install.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import importlib.util
import io
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHMARKS = ("triad", "launch", "fission", "compile", "checked")
COLUMNS = ("benchmark", "measure", "size", "value", "unit", "goal", "result", "detail")


# ---- shared by every bench/<name>/run.py ------------------------------------------------------

def row(benchmark: str, measure: str, size: str, value: float, unit: str, detail: str = "",
        goal: str = "", result: str = "") -> dict:
    """One measured number. ``result`` is PASS/MISS against ``goal``, FAIL for a wrong answer
    (the run's exit status is then 1), n/a when a measurement could not be taken."""
    return {"benchmark": benchmark, "measure": measure, "size": size, "value": value,
            "unit": unit, "goal": goal, "result": result, "detail": detail}


def format_value(v: float) -> str:
    """Three significant digits, without exponents down to 0.0001: '51.3', '0.00057'."""
    if v != v:
        return "-"
    if v == 0 or 1e-4 <= abs(v) < 1e6:
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v:.3e}"


def print_rows(rows: list[dict], file=None) -> None:
    from manycore.tools.timing import format_table

    table = [[r["benchmark"], r["measure"], r["size"], format_value(r["value"]), r["unit"],
              r["goal"], r["result"], r["detail"]] for r in rows]
    print(format_table(COLUMNS, table, right=(3,)), file=file or sys.stdout)


def parse_size(text: str) -> int:
    """'1048576', '2^20', '2**20', '1M', '64k'."""
    t = text.strip().lower().replace("_", "")
    m = re.fullmatch(r"2(?:\^|\*\*)(\d+)", t)
    if m:
        return 1 << int(m.group(1))
    m = re.fullmatch(r"(\d+)([km]?)", t)
    if not m:
        raise argparse.ArgumentTypeError(f"size '{text}' is not a count, 2^K, or a count with k/M")
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20}[m.group(2)]


def size_label(n: int) -> str:
    return f"2^{n.bit_length() - 1}" if n > 0 and n & (n - 1) == 0 else f"{n}"


def size_arguments(parser: argparse.ArgumentParser, default: int, quick: int) -> None:
    parser.add_argument("--size", type=parse_size, default=None,
                        help=f"elements (default {size_label(default)}; 2^K, 64k, 1M accepted)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs after a warm-up; the best counts (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a small size ({size_label(quick)}) for a smoke test")


def build_reference(source: Path, folder: Path) -> Path:
    """Builds the C++ file ``source`` into ``folder`` with the compiler manycore uses (``-O3
    -march=native -fopenmp``); the executable. Raises RuntimeError saying why it failed."""
    from manycore import _core

    compiler = _core.compiler_info()
    if not compiler.get("available"):
        raise RuntimeError(f"no host compiler: {compiler.get('reason', '')}")
    exe = folder / source.stem
    build = subprocess.run(
        [compiler["path"], "-O3", "-march=native", "-fopenmp", "-std=c++17", str(source),
         "-o", str(exe)],
        capture_output=True, text=True,
    )
    if build.returncode != 0:
        raise RuntimeError(f"building {source.name} failed: {build.stderr.strip()[:400]}")
    return exe


def run_built(exe: Path, args: list[str], threads: int) -> dict:
    """Runs a reference built by build_reference with OMP_NUM_THREADS=``threads``; the JSON
    object it prints."""
    # Threads of the reference stay unpinned, as manycore's pool does not pin its threads.
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{exe.name} failed: {done.stderr.strip()[:400]}")
    return json.loads(done.stdout)


def run_reference(source: Path, args: list[str], threads: int) -> dict:
    """Builds the C++ file ``source`` (build_reference) in a temporary folder, runs it once
    (run_built) and returns the JSON object it prints."""
    with tempfile.TemporaryDirectory(prefix="manycore-bench-") as tmp:
        return run_built(build_reference(source, Path(tmp)), args, threads)


def exit_status(rows: list[dict]) -> int:
    return 1 if any(r["result"] == "FAIL" for r in rows) else 0


def sized_main(doc: str, run, default: int, quick: int, argv: list[str] | None) -> int:
    """The command line of a benchmark over one array size: ``run(size, repeat, quick)``."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    size_arguments(p, default, quick)
    args = p.parse_args(argv)
    rows = run(args.size, args.repeat, args.quick)
    print_rows(rows)
    return exit_status(rows)


# ---- the machine ------------------------------------------------------------------------------

def machine_info() -> dict:
    """What the numbers depend on: CPU, cores, memory, compiler, versions, threads."""
    import numpy as np

    import manycore as mc
    from manycore import _core

    model, cores = platform.processor() or "unknown CPU", set()
    try:
        physical = "0"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (s.strip() for s in line.partition(":"))
            if key == "model name":
                model = value
            elif key == "physical id":
                physical = value
            elif key == "core id":
                cores.add((physical, value))
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    compiler = _core.compiler_info()
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": model,
        "cores": len(cores) or os.cpu_count(),
        "logical_cpus": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory / 2**30, 1),
        "os": platform.platform(),
        "compiler": compiler.get("version", "none") if compiler.get("available") else "none",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "manycore": mc.__version__,
        "manycore_threads": _core.num_threads(),
        "MANYCORE_NUM_THREADS": os.environ.get("MANYCORE_NUM_THREADS", "unset"),
        # Other work on the machine shows up in every number; say how busy it was.
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": _commit(),
    }


def _commit() -> str:
    """The source tree measured: `git describe --always --dirty`, or 'unknown'."""
    try:
        done = subprocess.run(["git", "-C", str(BENCH), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_slug(info: dict) -> str:
    """'amd-epyc-2cpu': the CPU model and CPUs used, safe in a file name."""
    model = re.sub(r"\((?:r|tm)\)|cpu|processor|@.*$", "", info["cpu"], flags=re.I)
    model = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")[:40] or "cpu"
    return f"{model}-{info['nproc']}cpu"


def markdown(rows: list[dict], info: dict, quick: bool, seconds: float) -> str:
    out = io.StringIO()
    out.write("<!--\nSPDX-License-Identifier: BSD-3-Clause\n"
              "SPDX-FileCopyrightText: manycore developers\n-->\n")
    out.write(f"# manycore CPU benchmarks, {info['date'][:10]}\n\n")
    if quick:
        out.write("**Quick run (small sizes): a smoke test, not a measurement.**\n\n")
    out.write("| machine | |\n|---|---|\n")
    for key in ("date", "cpu", "cores", "logical_cpus", "nproc", "memory_gib", "os", "compiler",
                "python", "numpy", "manycore", "manycore_threads", "MANYCORE_NUM_THREADS",
                "load_average_at_start", "commit"):
        out.write(f"| {key} | {info[key]} |\n")
    command = "python bench/run_all.py" + (" --quick" if quick else "")
    out.write(f"\nAll benchmarks ran in one `{command}` ({seconds:.0f} s); each is measured "
              "against its anchors in the same run.\n\n")
    out.write("| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n")
    for r in rows:
        cells = [str(r[c]) if c != "value" else format_value(r[c]) for c in COLUMNS]
        out.write("| " + " | ".join(cells) + " |\n")
    return out.getvalue()


def write_results(rows: list[dict], info: dict, quick: bool, seconds: float,
                  folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{info['date'][:10]}-{machine_slug(info)}{'-quick' if quick else ''}"
    md, csv_path = folder / f"{stem}.md", folder / f"{stem}.csv"
    md.write_text(markdown(rows, info, quick, seconds))
    with csv_path.open("w", newline="") as f:
        # The machine on every row: a CSV row then means something on its own.
        fields = list(COLUMNS) + list(info)
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({**r, "value": repr(r["value"]), **info})
    return md, csv_path


def write_table(rows: list[dict], info: dict, quick: bool, folder: Path, name: str,
                title: str, intro: str) -> tuple[Path, Path]:
    """One benchmark's own results, run alone: <date>-<machine>-<name>.{md,csv}."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{info['date'][:10]}-{machine_slug(info)}-{name}{'-quick' if quick else ''}"
    md, csv_path = folder / f"{stem}.md", folder / f"{stem}.csv"
    lines = ["<!--", "SPDX-License-Identifier: BSD-3-Clause",
             "SPDX-FileCopyrightText: manycore developers", "-->",
             f"# {title}, {info['date'][:10]}", "", intro, "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        lines.append("| " + " | ".join(format_value(r[c]) if c == "value" else str(r[c])
                                       for c in COLUMNS) + " |")
    md.write_text("\n".join(lines) + "\n")
    with csv_path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS) + list(info))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "value": repr(r["value"]), **info})
    return md, csv_path


def standalone_main(doc: str, run, default: int, quick: int, name: str, title: str, intro: str,
                    argv: list[str] | None) -> int:
    """The main() of a benchmark that writes a table of its own (checked/, profile/)."""
    p = argparse.ArgumentParser(description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    size_arguments(p, default, quick)
    p.add_argument("--no-write", action="store_true", help="print only; write no results files")
    p.add_argument("--out", type=Path, default=BENCH / "results")
    args = p.parse_args(argv)
    info = machine_info()
    start = time.perf_counter()
    rows = run(args.size, args.repeat, args.quick)
    print_rows(rows)
    print(f"({time.perf_counter() - start:.1f} s)")
    if not args.no_write:
        md, csv_path = write_table(rows, info, args.quick, args.out, name, title, intro)
        print(f"wrote {md} and {csv_path}")
    return exit_status(rows)


def load(name: str):
    """bench/<name>/run.py as a module (the folders are not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / name / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    p.add_argument("--no-write", action="store_true", help="print only; write no results files")
    p.add_argument("--out", type=Path, default=BENCH / "results",
                   help="folder for the results files (default bench/results)")
    p.add_argument("--only", choices=BENCHMARKS, action="append",
                   help="run only this benchmark (may be repeated)")
    args = p.parse_args(argv)

    info = machine_info()
    print(f"machine: {info['cpu']}, {info['cores']} cores, nproc {info['nproc']}, "
          f"{info['memory_gib']} GiB; {info['compiler']}; manycore {info['manycore']} with "
          f"{info['manycore_threads']} threads; load average {info['load_average_at_start']}")
    start = time.perf_counter()
    rows: list[dict] = []
    for name in args.only or BENCHMARKS:
        print(f"\n== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            got = load(name).run(quick=args.quick)
        except Exception as e:  # one broken benchmark must not hide the others' numbers
            got = [row(name, "error", "", math.nan, "", f"{type(e).__name__}: {e}",
                       result="FAIL")]
        print_rows(got)
        print(f"({time.perf_counter() - t0:.1f} s)", flush=True)
        rows += got
    seconds = time.perf_counter() - start

    print("\n== all benchmarks")
    print_rows(rows)
    if not args.no_write:
        md, csv_path = write_results(rows, info, args.quick, seconds, args.out)
        print(f"\nwrote {md} and {csv_path}")
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())

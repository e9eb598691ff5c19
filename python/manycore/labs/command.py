# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore labs``: the course's labs, listed, run as scripts, or opened as notebooks.

    manycore labs                         one line per lab
    manycore labs run N [--size S] [--device D] [--json FILE]
                                          one lab as a script: its table and verdict
    manycore labs run all|N,N,... [--size S] [--device D] [--out DIR]
                                          every lab (or those listed), then one summary
                                          table; DIR keeps each lab's JSON and log and
                                          labs-results.md, the table of every result there
    manycore labs open N [DIR] [--exercise] [--size S] [--device D]
                                          the notebook (solution, or exercise with blanks)

Sizes: small (a 2-core laptop or CI, seconds), default (a workstation or one GPU, about a
minute), large (half a big GPU), auto (the largest that fits the device's memory).
Exit status: 0 every lab passed; 1 a check failed (the variant is named); 2 a lab could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import LABS, LabInfo, find
from .kit import SIZES

__all__ = ["add_parser", "run_command"]


def _lab_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise LookupError(f"'{text}' is not a lab number (0 to {LABS[-1].number})") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Registers ``labs`` on the ``manycore`` command's subparsers."""
    p = sub.add_parser("labs", help="the course's labs: list, run N|all, open N [DIR]",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="?", default="list", choices=["list", "run", "open"])
    p.add_argument("lab", nargs="?", help="a lab number; with run also `all` or a list: 4,5,6")
    p.add_argument("folder", nargs="?", help="with open: where the notebook goes (default: .)")
    p.add_argument("--size", default=None, choices=SIZES,
                   help="small, default, large or auto (run: default; open: default)")
    p.add_argument("--device", default=None, metavar="D",
                   help="cpu, cuda or cuda:N (default: the first GPU, else the CPU)")
    p.add_argument("--exercise", action="store_true",
                   help="with open: the exercise form, the parts to write left blank")
    p.add_argument("--json", metavar="FILE",
                   help="with run N: write the result there; with open: the notebook does")
    p.add_argument("--out", metavar="DIR", help="with run all: each lab's JSON and log there")
    p.add_argument("--repeat", type=int, default=None, metavar="R",
                   help="timed repetitions per variant (at least 5)")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    try:
        return _dispatch(args)
    except LookupError as e:  # an unknown lab number
        print(f"manycore labs: {e.args[0]}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list()
    if args.lab is None:
        print(f"manycore labs {args.action}: which lab? (a number; `manycore labs` lists them)",
              file=sys.stderr)
        return 2
    if args.action == "run":
        if args.lab == "all" or "," in args.lab:
            chosen = None if args.lab == "all" else [find(_lab_number(x)) for x in args.lab.split(",")]
            return _run_all(args, chosen)
        return _run_one(find(_lab_number(args.lab)), args)
    return _open(find(_lab_number(args.lab)), args)


def _list() -> int:
    from manycore.tools.timing import format_table

    rows = [[lab.number, f"day {lab.day}", lab.title + (" (MPI)" if lab.mpi else ""), lab.summary]
            for lab in LABS if lab.available]
    print(format_table(["lab", "day", "title", "what it shows"], rows, right=(0,)))
    print("\nmanycore labs run N [--size small|default|large]   run one as a script")
    print("manycore labs open N [DIR] [--exercise]            write its notebook for Jupyter")
    print("manycore labs run all --size small                 every lab, with a summary")
    return 0


def _script_command(lab: LabInfo, args: argparse.Namespace, result: Path | None) -> list[str]:
    cmd = [sys.executable, "-m", "manycore.labs.runner", str(lab.path),
           "--size", args.size or "default"]
    if args.device:
        cmd += ["--device", args.device]
    if args.repeat:
        cmd += ["--repeat", str(args.repeat)]
    if result:
        cmd += ["--json", str(result)]
    return cmd


def _run_one(lab: LabInfo, args: argparse.Namespace) -> int:
    if not lab.available:
        print(f"lab {lab.number} is not in this version", file=sys.stderr)
        return 2
    result = Path(args.json) if args.json else None
    return subprocess.call(_script_command(lab, args, result))


def _run_all(args: argparse.Namespace, chosen: list[LabInfo] | None = None) -> int:
    from manycore.tools.timing import format_table

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="manycore-labs-"))
    out.mkdir(parents=True, exist_ok=True)
    labs = [lab for lab in (chosen or LABS) if lab.available]
    progress = _Progress(len(labs))
    rows, worst = [], 0
    for k, lab in enumerate(labs):
        progress.show(k, f"lab {lab.number}: {lab.title}")
        result = out / f"lab{lab.number:02d}.json"
        log = out / f"lab{lab.number:02d}.log"
        result.unlink(missing_ok=True)
        t0 = time.perf_counter()
        with open(log, "w") as f:
            rc = subprocess.call(_script_command(lab, args, result), stdout=f,
                                 stderr=subprocess.STDOUT)
        took = time.perf_counter() - t0
        worst = max(worst, min(rc, 2) if rc >= 0 else 2)
        rows.append(_summary_row(lab, rc, result, log, took))
        progress.done(k, f"lab {lab.number}: {rows[-1][-1]} ({took:.0f} s)")
    progress.finish()
    headers = ["lab", "title", "size", "device", "passed", "failed", "skipped", "claims",
               "time", "verdict"]
    print(format_table(headers, rows, right=(0, 4, 5, 6, 8)))
    table = write_results_table(out)
    print(f"\nresults and logs: {out}; every result there: {table}")
    return worst


def write_results_table(folder: Path) -> Path:
    """Writes ``folder/labs-results.md``: the device, the date and one row per lab result
    (``labNN.json``) in the folder, then each lab's own table. Returns its path."""
    from .kit import format_result

    results = []
    for path in sorted(folder.glob("lab[0-9][0-9].json")):
        try:
            results.append(json.loads(path.read_text()))
        except ValueError:
            continue
    devices = sorted({f"{r['device_name']} ({r['device']})" for r in results})
    dates = sorted(r["date"] for r in results)
    lines = ["# The labs' results", ""]
    if results:
        lines += [f"Device: {', '.join(devices)}. Run from {dates[0]} to {dates[-1]} (UTC) on "
                  f"{results[0]['machine']['node']} ({results[0]['machine']['cpus']} CPUs, Python "
                  f"{results[0]['machine']['python']}, NumPy {results[0]['machine']['numpy']}, "
                  f"manycore {results[0]['machine']['manycore']}).", ""]
    lines += ["| lab | title | size | passed | failed | skipped | claims held | seconds | verdict |",
              "|---:|---|---|---:|---:|---:|---|---:|---|"]
    for r in results:
        count = {s: sum(v["status"] == s for v in r["variants"]) for s in ("passed", "failed", "skipped")}
        held = sum(c["passed"] for c in r["claims"])
        verdict = "PASSED" if r["passed"] else "FAILED: " + ", ".join(r["failed"])
        lines.append(f"| {r['lab']} | {r['title']} | {r['size']} | {count['passed']} | "
                     f"{count['failed']} | {count['skipped']} | {held}/{len(r['claims'])} | "
                     f"{r['seconds']:.0f} | {verdict} |")
    for r in results:
        lines += ["", f"## Lab {r['lab']}: {r['title']}", "", "```", format_result(r), "```"]
    path = folder / "labs-results.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_selection(numbers: list[int], *, size: str = "small", device: str | None = None,
                  out=print) -> int:
    """Runs the labs ``numbers`` as scripts, quietly, and prints one line for each as it ends
    and a table after (the tour's part); returns 0 when every one passed, else 1."""
    from manycore.tools.timing import format_table

    args = argparse.Namespace(size=size, device=device, repeat=None)
    rows, status = [], 0
    with tempfile.TemporaryDirectory(prefix="manycore-tour-") as folder:
        for number in numbers:
            lab = find(number)
            result, log = Path(folder) / f"lab{number}.json", Path(folder) / f"lab{number}.log"
            t0 = time.perf_counter()
            with open(log, "w") as f:
                rc = subprocess.call(_script_command(lab, args, result), stdout=f,
                                     stderr=subprocess.STDOUT)
            row = _summary_row(lab, rc, result, log, time.perf_counter() - t0)
            out(f"  lab {number}: {lab.title}: {row[-1]} ({row[-2]})")
            rows.append(row)
            status = status or (rc != 0)
    out("")
    out(format_table(["lab", "title", "size", "device", "passed", "failed", "skipped", "claims",
                      "time", "verdict"], rows, right=(0, 4, 5, 6, 8)))
    return 1 if status else 0


def _summary_row(lab: LabInfo, rc: int, result: Path, log: Path, took: float) -> list:
    if result.is_file():
        res = json.loads(result.read_text())
        count = {s: sum(v["status"] == s for v in res["variants"])
                 for s in ("passed", "failed", "skipped")}
        held = sum(c["passed"] for c in res["claims"])
        verdict = "PASSED" if res["passed"] and rc == 0 else "FAILED: " + ", ".join(res["failed"])[:80]
        return [lab.number, lab.title, res["size"], res["device"], count["passed"],
                count["failed"], count["skipped"], f"{held}/{len(res['claims'])}",
                f"{took:.0f} s", verdict]
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.is_file() else []
    return [lab.number, lab.title, "-", "-", "-", "-", "-", "-", f"{took:.0f} s",
            f"DID NOT RUN (exit {rc}): {' '.join(tail)[:80]}"]


def _open(lab: LabInfo, args: argparse.Namespace) -> int:
    from . import notebooks

    missing = notebooks.needs()
    if missing:
        print(f"manycore labs open: {missing}", file=sys.stderr)
        return 2
    folder = Path(args.folder or ".")
    params = {"SIZE": args.size or "default", "DEVICE": args.device,
              "RESULT": str(Path(args.json).resolve()) if args.json else ""}
    path = notebooks.write_notebook(lab, folder, exercise=args.exercise, parameters=params)
    print(f"wrote {path}")
    print(f"open it with: jupyter lab {path}   (or run it: manycore labs run {lab.number})")
    return 0


class _Progress:
    """A one-line bar on a terminal; plain lines when the output is not one, or under CI."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stdout.isatty() and not os.environ.get("CI")
        self.start = time.perf_counter()

    def _bar(self, k: int) -> str:
        width = 24
        filled = width * k // max(self.total, 1)
        return f"[{'#' * filled}{'.' * (width - filled)}] {k}/{self.total}"

    def show(self, k: int, text: str) -> None:
        if self.tty:
            sys.stdout.write(f"\r\033[K{self._bar(k)} {text}")
            sys.stdout.flush()

    def done(self, k: int, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
        print(f"[{k + 1:2d}/{self.total}] {text}", flush=True)

    def finish(self) -> None:
        print(f"all {self.total} labs in {time.perf_counter() - self.start:.0f} s\n")

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Scaling studies, the course's "limits and merits of parallel programming": the same work
timed on 1, 2, 4, ... threads or MPI ranks (strong scaling), or with the problem growing with
them (weak scaling), and what the timings say.

- **Speedup** S(p) = T(1) / T(p) and **efficiency** E(p) = S(p) / p (strong); for weak scaling
  the **scaled speedup** S(p) = p T(1) / T(p), the work done in T(p) against one worker's rate.
- **Amdahl's law** S(p) = 1 / (f + (1 - f) / p): the serial fraction f fitted to the
  speedups, and the speedup it allows at most, 1 / f.
- **Gustafson's law** S(p) = p - a (p - 1): the serial share a of the parallel run fitted to
  the scaled speedups.
- The **Karp-Flatt metric** e(p) = (1/S - 1/p) / (1 - 1/p) per point: the serial fraction the
  point implies; growing with p, it shows overheads that Amdahl's constant f does not.

From Python, :func:`scaling` times a function in child processes with ``MANYCORE_NUM_THREADS``
set (the CPU device's threads are fixed when a process starts). ``manycore scale script.py
--threads 1,2,4,8`` (or ``--ranks 1,2,4``, through ``manycore run``; ``--sizes`` for weak
scaling) times a script; a script may time only its parallel part with :func:`region`.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

from ._progress import bar
from .timing import format_seconds, format_table

__all__ = [
    "Point",
    "ScalingResult",
    "ScalingWarning",
    "amdahl",
    "amdahl_fit",
    "cores",
    "gustafson",
    "gustafson_fit",
    "karp_flatt",
    "region",
    "scaling",
    "study",
]

#: Set by ``manycore scale`` for the script it runs: the file :func:`region` appends to.
TIMES_ENV = "MANYCORE_SCALE_TIMES"
#: Set by ``manycore scale --sizes`` and :func:`scaling` with sizes: the point's size.
SIZE_ENV = "MANYCORE_SCALE_SIZE"


class ScalingWarning(UserWarning):
    """A scaling study asked for something that will not show what it should (more threads
    than cores, say)."""


# ---------------------------------------------------------------------------------------------
# The laws and the fits


def amdahl(f: float, p: float) -> float:
    """Amdahl's speedup on ``p`` workers of a program whose serial fraction is ``f``."""
    return 1.0 / (f + (1.0 - f) / p)


def gustafson(a: float, p: float) -> float:
    """Gustafson's scaled speedup on ``p`` workers, ``a`` the serial share of the run."""
    return p - a * (p - 1.0)


def karp_flatt(p: float, speedup: float) -> float:
    """The serial fraction a measured ``speedup`` on ``p`` > 1 workers implies."""
    if p <= 1:
        return math.nan
    return (1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p)


def amdahl_fit(ps: Sequence[float], speedups: Sequence[float]) -> float:
    """The serial fraction f that fits the speedups best, in 1/S = f + (1 - f)/p (least
    squares on 1/S - 1/p = f (1 - 1/p), exact for timings that follow the law); 0 to 1."""
    pairs = [(1.0 - 1.0 / p, 1.0 / s - 1.0 / p) for p, s in zip(ps, speedups, strict=True) if p > 1]
    if not pairs:
        raise ValueError("amdahl_fit(): needs a point with more than one worker")
    f = sum(x * y for x, y in pairs) / sum(x * x for x, _ in pairs)
    return min(max(f, 0.0), 1.0)


def gustafson_fit(ps: Sequence[float], scaled_speedups: Sequence[float]) -> float:
    """The serial share a that fits the scaled speedups best, in S = p - a (p - 1); 0 to 1."""
    pairs = [(p - 1.0, p - s) for p, s in zip(ps, scaled_speedups, strict=True) if p > 1]
    if not pairs:
        raise ValueError("gustafson_fit(): needs a point with more than one worker")
    a = sum(x * y for x, y in pairs) / sum(x * x for x, _ in pairs)
    return min(max(a, 0.0), 1.0)


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Point:
    """One measured point: ``workers`` threads or ranks, the problem ``size`` (None when it
    does not change), and the seconds of each repetition."""

    workers: int
    size: float | None
    times: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


@dataclass
class ScalingResult:
    """A scaling study: its points, and what they say (speedups, fits, Karp-Flatt)."""

    points: list[Point]
    kind: str = "strong"  # "strong": one size; "weak": the size grows with the workers;
    # "size": the size changes on a fixed number of workers (time against size)
    workers: str = "threads"        # "threads" or "ranks"
    use: str = "best"               # which time of each point counts: "best" or "median"
    notes: list[str] = field(default_factory=list)

    def time(self, point: Point) -> float:
        return point.best if self.use == "best" else point.median

    @property
    def _base(self) -> Point:
        return min(self.points, key=lambda pt: pt.workers)

    def speedup(self, point: Point) -> float:
        """Strong: T(base) / T(p) x base workers; weak: the scaled speedup p T(1) / T(p) (the
        work of one worker per worker)."""
        base = self._base
        if self.kind == "weak":
            return point.workers * self.time(base) / self.time(point) / base.workers
        return base.workers * self.time(base) / self.time(point)

    def efficiency(self, point: Point) -> float:
        return self.speedup(point) / point.workers

    def karp_flatt(self, point: Point) -> float:
        return karp_flatt(point.workers, self.speedup(point))

    @property
    def serial_fraction(self) -> float:
        """Amdahl's f (strong) or Gustafson's a (weak), fitted to every point."""
        ps = [pt.workers for pt in self.points]
        speedups = [self.speedup(pt) for pt in self.points]
        return gustafson_fit(ps, speedups) if self.kind == "weak" else amdahl_fit(ps, speedups)

    def rows(self) -> list[dict[str, Any]]:
        if self.kind == "size":
            return [{"workers": pt.workers, "size": pt.size, "best": pt.best,
                     "median": pt.median} for pt in self.points]
        return [{"workers": pt.workers, "size": pt.size, "best": pt.best, "median": pt.median,
                 "speedup": self.speedup(pt), "efficiency": self.efficiency(pt),
                 "karp_flatt": self.karp_flatt(pt)} for pt in self.points]

    def table(self) -> str:
        """The points as text, then the fit."""
        sized = any(pt.size is not None for pt in self.points)
        if self.kind == "size":
            rows = [[_size(pt.size), pt.workers, format_seconds(pt.best),
                     format_seconds(pt.median)] for pt in self.points]
            return format_table(["size", self.workers, "best", "median"], rows,
                                right=(0, 1, 2, 3)) + "\n" + self.summary()
        headers = [self.workers, *(["size"] if sized else []), "best", "median",
                   "scaled speedup" if self.kind == "weak" else "speedup", "efficiency",
                   "Karp-Flatt"]
        rows = [[r["workers"], *([_size(r["size"])] if sized else []), format_seconds(r["best"]),
                 format_seconds(r["median"]), f"{r['speedup']:.2f}", f"{100 * r['efficiency']:.0f}%",
                 "-" if math.isnan(r["karp_flatt"]) else f"{r['karp_flatt']:.3f}"]
                for r in self.rows()]
        text = format_table(headers, rows, right=tuple(range(len(headers))))
        return text + "\n" + self.summary()

    def summary(self) -> str:
        if self.kind == "size":
            return "time against size on a fixed number of workers: no speedup to fit"
        if len(self.points) < 2 or max(pt.workers for pt in self.points) <= 1:
            return "one worker count only: nothing to fit"
        f = self.serial_fraction
        if self.kind == "weak":
            top = max(pt.workers for pt in self.points)
            return (f"Gustafson: serial share a = {f:.3f} of each run; scaled speedup "
                    f"{gustafson(f, top):.2f} on {top} {self.workers} "
                    f"({'the' if top > 1 else ''} ideal {top})")
        limit = "unbounded" if f == 0 else f"{1 / f:.1f}"
        return (f"Amdahl: serial fraction f = {f:.3f}; the speedup can reach {limit} at most, "
                f"however many {self.workers}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "use": self.use,
                "points": [asdict(pt) for pt in self.points], "rows": self.rows(),
                "serial_fraction": (self.serial_fraction if self.kind != "size" and
                                    max(pt.workers for pt in self.points) > 1 else None),
                "notes": self.notes}

    def plot(self, path: str) -> None:
        """Speedup against the ideal and the fitted law, and efficiency, into ``path`` (PNG or
        SVG), with the data beside it as JSON. Needs matplotlib."""
        try:
            import matplotlib
        except ImportError as e:
            raise ImportError("ScalingResult.plot() needs matplotlib: pip install matplotlib") from e
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if self.kind == "size":
            fig, ax = plt.subplots(figsize=(5, 3.8))
            sized = [(float(pt.size), self.time(pt)) for pt in self.points if pt.size is not None]
            ax.plot([size for size, _ in sized], [seconds for _, seconds in sized], "o-")
            ax.set_xlabel("size")
            ax.set_ylabel("seconds")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            fig.tight_layout()
            fig.savefig(path)
            plt.close(fig)
        else:
            self._plot_speedup(plt, path)
        with open(os.path.splitext(path)[0] + ".json", "w", encoding="utf-8") as f_out:
            json.dump(self.to_dict(), f_out, indent=1)

    def _plot_speedup(self, plt: Any, path: str) -> None:
        ps = [pt.workers for pt in self.points]
        speedups = [self.speedup(pt) for pt in self.points]
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
        left.plot(ps, ps, "--", color="gray", label="ideal")
        left.plot(ps, speedups, "o-", label="measured")
        if len(ps) > 1 and max(ps) > 1:
            f = self.serial_fraction
            law = gustafson if self.kind == "weak" else amdahl
            name = "Gustafson" if self.kind == "weak" else "Amdahl"
            left.plot(ps, [law(f, p) for p in ps], ":", label=f"{name}, serial {f:.3f}")
        left.set_xlabel(self.workers)
        left.set_ylabel("scaled speedup" if self.kind == "weak" else "speedup")
        left.legend(fontsize="small")
        right.plot(ps, [100 * self.efficiency(pt) for pt in self.points], "o-")
        right.axhline(100, linestyle="--", color="gray")
        right.set_xlabel(self.workers)
        right.set_ylabel("efficiency (%)")
        right.set_ylim(bottom=0)
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.grid(True, alpha=0.3)
        fig.suptitle(f"{self.kind} scaling")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _size(size: float | None) -> str:
    if size is None:
        return "-"
    return str(int(size)) if float(size).is_integer() else f"{size:g}"


# ---------------------------------------------------------------------------------------------
# Measuring


@contextmanager
def region() -> Iterator[None]:
    """Times the block for ``manycore scale`` (which then counts it instead of the whole
    run); a plain block otherwise."""
    path = os.environ.get(TIMES_ENV)
    start = time.perf_counter()
    try:
        yield
    finally:
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{time.perf_counter() - start!r}\n")


def _warn_cores(workers: Sequence[int], what: str) -> list[str]:
    have = cores()
    over = [w for w in workers if w > have]
    if not over:
        return []
    message = (f"{what} {', '.join(map(str, over))}: more than the {have} cores this process "
               "may use; those points share cores, and their speedup shows that, not the "
               "program's")
    warnings.warn(message, ScalingWarning, stacklevel=3)
    return [message]


def _child(fn: Callable[..., Any], size: Any, repeat: int, warmup: int) -> list[float]:
    call = (lambda: fn(size)) if size is not None else fn
    for _ in range(warmup):
        call()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def scaling(fn: Callable[..., Any], threads: Sequence[int] | None = None,
            sizes: Sequence[Any] | None = None, *, repeat: int = 5, warmup: int = 1,
            use: str = "best") -> ScalingResult:
    """Times ``fn()`` (``fn(size)`` with ``sizes``) after ``warmup`` calls, ``repeat`` times,
    on each thread count in a child process whose CPU device has that many threads
    (``MANYCORE_NUM_THREADS``; ``fn`` must be importable: a function of a module, not a
    lambda). With ``threads`` and ``sizes`` of the same length, the i-th size runs on the i-th
    thread count: weak scaling. With ``sizes`` alone, each size runs here, on this process's
    threads (time against size). A progress bar on a terminal."""
    if repeat < 1 or warmup < 0:
        raise ValueError("scaling(): repeat must be >= 1 and warmup >= 0")
    if use not in ("best", "median"):
        raise ValueError("scaling(): use must be 'best' or 'median'")
    if threads is None and sizes is None:
        raise ValueError("scaling(): give threads=, sizes= or both")
    if threads is not None and (not threads or any(int(t) < 1 for t in threads)):
        raise ValueError(f"scaling(): threads must be counts >= 1, not {list(threads)}")
    if threads is not None and sizes is not None and len(sizes) != len(threads):
        raise ValueError("scaling(): weak scaling pairs sizes with threads: give as many of "
                         f"each ({len(sizes)} sizes, {len(threads)} thread counts)")
    points: list[Point] = []
    if threads is None:
        from manycore import _core

        here = _core.num_threads()
        with bar(len(sizes or []), "scaling") as progress:
            for size in sizes or []:
                progress.update(0, f"size {size}")
                points.append(Point(here, float(size), tuple(_child(fn, size, repeat, warmup))))
                progress.update(1)
        return ScalingResult(points, kind="size", use=use)
    notes = _warn_cores([int(t) for t in threads], "threads=")
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with bar(len(threads), "scaling") as progress:
        for i, t in enumerate(threads):
            size = sizes[i] if sizes is not None else None
            progress.update(0, f"{t} threads")
            saved = os.environ.get("MANYCORE_NUM_THREADS")
            os.environ["MANYCORE_NUM_THREADS"] = str(int(t))  # the child inherits it at start
            try:
                with context.Pool(1) as pool:
                    times = pool.apply(_child, (fn, size, repeat, warmup))
            finally:
                if saved is None:
                    os.environ.pop("MANYCORE_NUM_THREADS", None)
                else:
                    os.environ["MANYCORE_NUM_THREADS"] = saved
            points.append(Point(int(t), None if size is None else float(size), tuple(times)))
            progress.update(1)
    return ScalingResult(points, kind="weak" if sizes is not None else "strong", use=use,
                         notes=notes)


def _run_script(command: list[str], env: dict[str, str], times_file: str) -> float:
    open(times_file, "w").close()
    start = time.perf_counter()
    run = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"manycore scale: `{' '.join(command)}` exited with status "
                           f"{run.returncode}")
    with open(times_file, encoding="utf-8") as f:
        regions = [float(line) for line in f if line.strip()]
    return sum(regions) if regions else wall


def study(script: str, args: Sequence[str], *, threads: Sequence[int] | None = None,
          ranks: Sequence[int] | None = None, sizes: Sequence[str] | None = None,
          repeat: int = 3, warmup: int = 1, use: str = "best") -> ScalingResult:
    """What ``manycore scale`` measures: ``python script args`` run ``warmup + repeat`` times
    per point, each in a new process, with ``MANYCORE_NUM_THREADS`` (and ``OMP_NUM_THREADS``)
    set to each thread count, or through ``manycore run -n`` for each rank count. The time
    of a run is what the script timed with :func:`region`, else the whole run. With
    ``sizes``, ``{size}`` in the script's arguments (else a last argument) and
    ``MANYCORE_SCALE_SIZE`` give each point its size: paired with the counts, weak scaling;
    with one count or none, time against size."""
    if threads is not None and ranks is not None:
        raise ValueError("manycore scale: give --threads or --ranks, not both")
    counts = threads if threads is not None else ranks
    if counts is None and not sizes:
        raise ValueError("manycore scale: give --threads, --ranks or --sizes")
    if counts is not None and (not counts or min(counts) < 1):
        raise ValueError(f"manycore scale: worker counts must be >= 1, not {list(counts)}")
    if sizes and counts is not None and len(counts) > 1 and len(sizes) != len(counts):
        raise ValueError("manycore scale: --sizes pairs with the worker counts for weak "
                         f"scaling: give as many ({len(sizes)} sizes, {len(counts)} counts)")
    n = len(sizes) if sizes else len(counts or [])
    workers = [int(c) for c in counts] if counts is not None else []
    if len(workers) == 1:
        workers = workers * n
    kind = "size" if sizes and len(set(workers)) <= 1 else ("weak" if sizes else "strong")
    what = "threads" if ranks is None else "ranks"
    notes = _warn_cores(workers, "--threads" if ranks is None else "--ranks") if workers else []
    points = []
    with tempfile.TemporaryDirectory(prefix="manycore-scale-") as folder, \
            bar(n * (repeat + warmup), f"manycore scale {script}") as progress:
        times_file = os.path.join(folder, "times")
        for i in range(n):
            w = workers[i] if workers else None
            size = sizes[i] if sizes else None
            script_args = list(args)
            if size is not None:
                if any("{size}" in a for a in script_args):
                    script_args = [a.replace("{size}", str(size)) for a in script_args]
                else:
                    script_args.append(str(size))
            env = dict(os.environ, **{TIMES_ENV: times_file})
            if size is not None:
                env[SIZE_ENV] = str(size)
            command = [sys.executable, script, *script_args]
            if w is not None and ranks is None:
                env["MANYCORE_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(w)
            elif w is not None:
                command = [sys.executable, "-m", "manycore", "run", "-n", str(w), script,
                           *script_args]
            times = []
            for k in range(warmup + repeat):
                progress.update(0, f"{w} {what}" if w is not None else f"size {size}")
                seconds = _run_script(command, env, times_file)
                if k >= warmup:
                    times.append(seconds)
                progress.update(1)
            points.append(Point(w if w is not None else cores(),
                                None if size is None else float(size), tuple(times)))
    return ScalingResult(points, kind=kind, workers=what, use=use, notes=notes)


# ---------------------------------------------------------------------------------------------
# `manycore scale`


def _counts(text: str) -> list[int]:
    import argparse

    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of counts like 1,2,4,8") from None
    if not values:
        raise argparse.ArgumentTypeError("an empty list of counts")
    return values


def add_arguments(parser: Any) -> None:
    """The options of ``manycore scale``."""
    import argparse

    parser.add_argument("--threads", type=_counts, metavar="1,2,4,8",
                        help="the CPU device's threads of each point (MANYCORE_NUM_THREADS)")
    parser.add_argument("--ranks", type=_counts, metavar="1,2,4",
                        help="MPI ranks of each point (through `manycore run -n`)")
    parser.add_argument("--sizes", type=lambda s: [v for v in s.split(",") if v.strip()],
                        metavar="N1,N2,...",
                        help="weak scaling: each point's problem size, paired with the counts "
                             "({size} in the script's arguments, else appended)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per point (default 3)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed runs before them (default 1)")
    parser.add_argument("--median", action="store_true",
                        help="use each point's median time (default: its best)")
    parser.add_argument("--plot", metavar="FILE", help="draw speedup and efficiency (PNG or SVG)")
    parser.add_argument("--json", metavar="FILE", help="write the points and fits as JSON")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")


def command(args: Any) -> int:
    """``manycore scale script.py --threads 1,2,4 | --ranks 1,2,4 [--sizes ...]``."""
    if not os.path.isfile(args.script):
        print(f"manycore scale: no such script: {args.script}", file=sys.stderr)
        return 2
    if args.repeat < 1 or args.warmup < 0:
        print("manycore scale: --repeat must be >= 1 and --warmup >= 0", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingWarning)
        try:
            result = study(args.script, list(args.args), threads=args.threads, ranks=args.ranks,
                           sizes=args.sizes, repeat=args.repeat, warmup=args.warmup,
                           use="median" if args.median else "best")
        except RuntimeError as e:  # the script failed
            print(e, file=sys.stderr)
            return 1
        finally:
            for w in caught:
                print(f"manycore scale: warning: {w.message}", file=sys.stderr)
    print(f"manycore scale: {args.script}, {result.kind} scaling over {result.workers}, "
          f"{args.repeat} timed runs a point after {args.warmup} warm-up, "
          f"{result.use} time of each")
    print(result.table())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result.to_dict(), f, indent=1)
    if args.plot:
        result.plot(args.plot)
        print(f"manycore scale: drew {args.plot}")
    return 0

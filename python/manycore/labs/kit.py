# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What every lab uses to run its variants honestly: sizes, timing, checks, the result.

A lab makes one :class:`Lab` with :func:`start`, runs each variant through
:meth:`Lab.variant` (a warm-up run that is checked by assertion, then timed repetitions whose
median is reported, with compile and copy times apart from the kernel's), states what the lab
teaches with :meth:`Lab.claim`, and ends with :meth:`Lab.finish`, which prints the table,
writes the JSON result and raises :class:`LabFailed` naming every variant that failed.

>>> from manycore.labs import kit
>>> lab = kit.start(4, size="small", device="cpu", quiet=True)
>>> n = lab.pick(small=1003, default=10**6, large=10**8)
>>> import numpy as np
>>> a = np.arange(n); out = np.empty_like(a)
>>> lab.variant("numpy", lambda: np.add(a, a, out=out),
...             check=lambda: kit.assert_equal(out, 2 * np.arange(n))).status
'passed'
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import manycore as mc
from manycore.tools.timing import format_rate, format_seconds, format_table

from . import find

__all__ = [
    "Lab", "LabFailed", "Variant", "Work", "start", "join", "execution_mode", "assert_equal",
    "assert_close", "SIZES", "REPEAT", "PYTHON_CAP", "optional", "cores", "busy",
]

SIZES = ("small", "default", "large", "auto")
#: Timed repetitions of every variant (the median is reported), after one warm-up run.
REPEAT = 5
#: Element operations one timed run of a pure-Python loop may do (about 2 s at 0.4 µs each).
PYTHON_CAP = 5_000_000
#: Environment variable through which a lab tells the MPI programs it starts where it is.
CONTEXT_ENV = "MANYCORE_LAB_CONTEXT"
#: The share of a device's memory the "auto" size may fill.
AUTO_MEMORY_SHARE = 0.6


class LabFailed(AssertionError):
    """A lab's check failed: the message names each failed variant and claim."""


@dataclass(frozen=True)
class Work:
    """What one timed run does, for throughput: bytes moved to and from memory, and
    floating-point operations (or other operations, named by ``unit``)."""

    bytes: float = 0.0
    flops: float = 0.0


@dataclass
class Variant:
    """One variant's record: what ran, whether its check passed, and its times in seconds."""

    name: str
    status: str  # "passed", "failed" or "skipped"
    group: str = ""
    runs_as: str = ""
    workers: int | None = None
    size: str = ""
    reason: str = ""
    execution_mode: str | None = None
    compile: float | None = None
    copy_in: float | None = None
    copy_out: float | None = None
    samples: list[float] = field(default_factory=list)
    work: Work | None = None
    baseline: str | None = None
    speedup: float | None = None
    efficiency: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    def as_dict(self, peak: dict | None) -> dict:
        d: dict[str, Any] = {
            "name": self.name, "status": self.status, "group": self.group,
            "runs_as": self.runs_as, "workers": self.workers, "size": self.size,
        }
        if self.reason:
            d["reason"] = self.reason
        if self.note:
            d["note"] = self.note
        if self.execution_mode:
            d["execution_mode"] = self.execution_mode
        if self.samples:
            d["times"] = {"compile": self.compile, "copy_in": self.copy_in,
                          "kernel": self.median, "copy_out": self.copy_out,
                          "samples": self.samples}
            d["throughput"] = self.throughput(peak)
        if self.speedup is not None:
            d["baseline"] = self.baseline
            d["speedup"] = self.speedup
            d["efficiency"] = self.efficiency
        return d

    def throughput(self, peak: dict | None) -> dict:
        out: dict[str, Any] = {}
        t = self.median
        if not self.work or not t > 0:
            return out
        if self.work.bytes:
            out["GB/s"] = self.work.bytes / t / 1e9
            if peak and peak.get("bandwidth"):
                out["bandwidth_fraction_of_peak"] = self.work.bytes / t / peak["bandwidth"]
        if self.work.flops:
            out["GFLOP/s"] = self.work.flops / t / 1e9
            if peak and peak.get("flops"):
                out["flops_fraction_of_peak"] = self.work.flops / t / peak["flops"]
        return out


def execution_mode(f: mc.Function) -> str:
    """How a kernel runs on its device: "loop" (a block's threads as one plain loop), "fission"
    (a barrier kernel cut into loops at its barriers) or "fibers" (each thread a fiber that
    stops at barriers); "gpu" on a GPU. The one place the labs ask this."""
    return f.execution_mode


def optional(module: str) -> tuple[Any, str]:
    """(the module, "") when ``module`` imports, else (None, why not): for variants that need
    an anchor this machine may not have (Numba, CuPy, line_profiler...)."""
    import importlib

    try:
        return importlib.import_module(module), ""
    except ImportError as e:
        return None, f"{module} is not installed ({e.__class__.__name__}: {e})"


def cores() -> int:
    """The CPUs this process may run on (its affinity mask, as manycore counts them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def busy(workers: int = 2) -> str:
    """Why a claim about ``workers`` running side by side cannot be judged now ("" when it
    can): fewer cores than workers, or a machine already running more than its cores (the
    1-minute load average, this program's own thread included), where parallel workers
    cannot get a core each."""
    n = cores()
    if n < workers:
        return f"{n} core{'s' if n != 1 else ''} here, {workers} workers"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > n + 0.5:
        return f"the machine is busy (load average {load:.1f} on {n} cores)"
    return ""


def assert_equal(actual: Any, expected: Any, what: str = "result") -> None:
    """Exact equality of two arrays (any device), showing the first differences."""
    a = actual.get() if isinstance(actual, mc.Array) else np.asarray(actual)
    e = expected.get() if isinstance(expected, mc.Array) else np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape}, expected {e.shape}")
    bad = np.flatnonzero(a.reshape(-1) != e.reshape(-1))
    if bad.size:
        first = ", ".join(
            f"[{', '.join(map(str, np.unravel_index(i, a.shape)))}] = {a.reshape(-1)[i]!r} "
            f"(expected {e.reshape(-1)[i]!r})" for i in bad[:3])
        raise AssertionError(f"{what}: {bad.size:,} of {a.size:,} elements differ: {first}")


def assert_close(actual: Any, expected: Any, **tolerances: Any) -> None:
    """Equality within tolerances (``rtol``, ``atol``), by :func:`manycore.testing.assert_close`."""
    mc.testing.assert_close(actual, expected, **tolerances)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def _parse_argv(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(add_help=True)
    p.add_argument("--size", choices=SIZES)
    p.add_argument("--device")
    p.add_argument("--json", dest="result")
    p.add_argument("--repeat", type=int)
    return p.parse_args(list(argv))


def start(number: int, *, size: str = "default", device: str | None = None,
          result: str | os.PathLike | None = None, repeat: int = REPEAT,
          quiet: bool = False, argv: Sequence[str] | None = None) -> Lab:
    """The lab numbered ``number`` at ``size`` on ``device`` (None: the default device). Run as a
    script (``manycore labs run``), the command line's --size, --device, --json and --repeat
    override the arguments; in a notebook the parameters cell sets them."""
    if argv is None and not _in_notebook():
        argv = sys.argv[1:]
    if argv:
        a = _parse_argv(argv)
        size = a.size or size
        device = a.device or device
        result = a.result or result
        repeat = a.repeat or repeat
    return Lab(number, size=size, device=device, result=result, repeat=repeat, quiet=quiet)


def join(job: str) -> Lab:
    """In a program the lab starts on MPI ranks (a ``%%mpirun`` cell): the lab's size, device
    and repetitions; rank 0 hands the variants back with :meth:`Lab.finish`, and the lab adds
    them with ``lab.collect(job, ...)``."""
    path = os.environ.get(CONTEXT_ENV)
    if not path or not os.path.isfile(path):
        raise RuntimeError(
            f"kit.join(): no lab context ({CONTEXT_ENV} unset); run this cell from its lab, "
            "after the cell that calls kit.start()")
    ctx = json.loads(Path(path).read_text())
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    lab = Lab(ctx["number"], size=ctx["size"], device=ctx["device"], result=None,
              repeat=ctx["repeat"], quiet=comm.rank != 0, comm=comm)
    lab._parts_dir = Path(ctx["parts"])
    lab.job = job
    lab.peak_cache = ctx.get("peak")
    return lab


class Lab:
    """One run of a lab: its size, device, variants and claims; see the module's doc."""

    def __init__(self, number: int, *, size: str = "default", device: str | mc.Device | None = None,
                 result: str | os.PathLike | None = None, repeat: int = REPEAT,
                 quiet: bool = False, comm: Any = None) -> None:
        if size not in SIZES:
            raise ValueError(f"size '{size}' is not one of {', '.join(SIZES)}")
        if repeat < 5:
            raise ValueError(f"repeat {repeat}: a lab times at least 5 repetitions")
        self.info = find(number)
        self.number = number
        self.requested_size = size
        self.size = size
        self.device = device if isinstance(device, mc.Device) else (
            mc.Device(device) if device else mc.default_device())
        self.on_gpu = self.device.kind != "cpu"
        self.repeat = repeat
        self.quiet = quiet
        self.comm = comm
        self.result_path = Path(result) if result else None
        self.variants: list[Variant] = []
        self.claims: list[dict] = []
        self.compiles: list[dict] = []
        self.notes: dict[str, Any] = {}
        self.started = time.perf_counter()
        self.peak_cache: dict | None = None
        self._parts_dir: Path | None = None
        self._workdir: Path | None = None
        self.job = ""
        if comm is None:
            self._say(f"lab {number}: {self.info.title} -- size {size}, device {self.device} "
                      f"({self.device.name})")

    # --- sizes ---------------------------------------------------------------------------

    def pick(self, *, small: Any, default: Any, large: Any,
             memory: Callable[[Any], float] | None = None) -> Any:
        """The value for this run's size. With size "auto", the largest of the three whose
        ``memory(value)`` bytes fit in 60% of the device's memory (without ``memory``:
        "default")."""
        by_size = {"small": small, "default": default, "large": large}
        if self.requested_size != "auto":
            return by_size[self.requested_size]
        chosen = "default"
        if memory is not None:
            budget = AUTO_MEMORY_SHARE * self.device.total_memory
            fitting = [s for s in ("large", "default", "small") if memory(by_size[s]) <= budget]
            chosen = fitting[0] if fitting else "small"
        self.size = chosen
        self.notes["auto_size"] = chosen
        return by_size[chosen]

    @property
    def workdir(self) -> Path:
        """A private scratch folder for this run (data files, results of MPI programs)."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"manycore-lab{self.number:02d}-"))
        return self._workdir

    # --- compiling ------------------------------------------------------------------------

    def compile(self, source: str, name: str = "kernels", **options: Any) -> mc.SourceModule:
        """``mc.SourceModule(source)`` on the lab's device, its compile (or cache load) timed
        once, apart from any kernel time."""
        options.setdefault("device", self.device)
        t0 = time.perf_counter()
        module = mc.SourceModule(source, **options)
        took = time.perf_counter() - t0
        self.compiles.append({"name": name, "seconds": took, "from_cache": module.from_cache,
                              "device": str(module.device)})
        return module

    def compile_seconds(self, name: str) -> float | None:
        for c in self.compiles:
            if c["name"] == name:
                return c["seconds"]
        return None

    # --- variants -------------------------------------------------------------------------

    def _sync(self) -> None:
        if self.on_gpu:
            mc.synchronize(self.device)

    def _timed(self, fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        fn()
        self._sync()
        return time.perf_counter() - t0

    def variant(self, name: str, run: Callable[[], object], *,
                check: Callable[[], object] | None,
                group: str = "", runs_as: str = "", workers: int | None = None,
                size: str = "", work: Work | None = None,
                kernels: Iterable[mc.Function] = (), compiled: str | None = None,
                copy_in: Callable[[], object] | None = None,
                copy_out: Callable[[], object] | None = None,
                reset: Callable[[], object] | None = None,
                baseline: str | None = None, repeat: int | None = None,
                warmup: int = 1, note: str = "") -> Variant:
        """Runs one variant: ``copy_in``, ``run`` and ``copy_out`` once as a warm-up, then
        ``check()`` (assertions against the reference), then ``repeat`` timed repetitions of
        each phase (``reset`` before each, untimed). A check that fails, or any exception,
        marks the variant failed and the lab goes on. ``compiled`` names the lab.compile whose
        time this variant's table shows; ``kernels`` give the execution mode; ``baseline``
        names the variant whose median gives this one's speedup (and, with ``workers``, its
        efficiency)."""
        if check is None:
            raise ValueError(f"variant '{name}': every variant needs a check (check=...)")
        v = Variant(name=name, status="passed", group=group, runs_as=runs_as, workers=workers,
                    size=size, work=work, baseline=baseline, note=note,
                    compile=self.compile_seconds(compiled) if compiled else None)
        modes = sorted({execution_mode(k) for k in kernels})
        v.execution_mode = "+".join(modes) if modes else None
        if any(x.name == name for x in self.variants):
            raise ValueError(f"variant '{name}' is run twice in lab {self.number}")
        reps = repeat or self.repeat
        try:
            for _ in range(max(warmup, 1)):
                if reset:
                    reset()
                for phase in (copy_in, run, copy_out):
                    if phase:
                        phase()
                self._sync()
            ok, problem = self._agree(check)
            if not ok:
                v.status, v.reason = "failed", problem
            else:
                cin, cout = [], []
                for _ in range(reps):
                    if reset:
                        reset()
                        self._sync()
                    self._barrier()
                    if copy_in:
                        cin.append(self._timed(copy_in))
                    v.samples.append(self._timed(run))
                    if copy_out:
                        cout.append(self._timed(copy_out))
                v.samples = self._slowest(v.samples)
                v.copy_in = statistics.median(self._slowest(cin)) if cin else None
                v.copy_out = statistics.median(self._slowest(cout)) if cout else None
        except Exception as e:  # noqa: BLE001 -- a failing variant is reported, not fatal
            v.status = "failed"
            v.reason = f"{e.__class__.__name__}: {' '.join(str(e).split())[:400]}"
            v.samples = []
            if not self.quiet:
                traceback.print_exc(limit=3, file=sys.stdout)
        self.variants.append(v)
        self._say_variant(v)
        return v

    def _agree(self, check: Callable[[], object]) -> tuple[bool, str]:
        """Runs the check; on MPI ranks every rank learns whether all passed."""
        try:
            check()
            ok, problem = True, ""
        except AssertionError as e:
            ok, problem = False, "check failed: " + " ".join(str(e).split())[:400]
        if self.comm is not None:
            oks = self.comm.allgather((ok, problem))
            bad = [f"rank {r}: {p}" for r, (o, p) in enumerate(oks) if not o]
            return (not bad), "; ".join(bad)
        return ok, problem

    def _barrier(self) -> None:
        if self.comm is not None:
            self.comm.Barrier()

    def _slowest(self, samples: list[float]) -> list[float]:
        """On MPI ranks, each repetition takes as long as its slowest rank."""
        if self.comm is None or not samples:
            return samples
        mine = np.array(samples, dtype=np.float64)
        slowest = np.empty_like(mine)
        self.comm.Allreduce(mine, slowest, op=_mpi_max())
        return [float(x) for x in slowest]

    def skip(self, name: str, reason: str, *, group: str = "", runs_as: str = "") -> Variant:
        """Records a variant that cannot run here, with the reason (a missing package, no GPU)."""
        v = Variant(name=name, status="skipped", group=group, runs_as=runs_as, reason=reason)
        self.variants.append(v)
        self._say_variant(v)
        return v

    def fail(self, name: str, reason: str, *, group: str = "", runs_as: str = "") -> Variant:
        """Records a variant that failed outside :meth:`variant` (an MPI job that died)."""
        v = Variant(name=name, status="failed", group=group, runs_as=runs_as, reason=reason)
        self.variants.append(v)
        self._say_variant(v)
        return v

    def get(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise LookupError(f"no variant '{name}' in lab {self.number}; there are: "
                          + ", ".join(v.name for v in self.variants))

    def median(self, name: str) -> float:
        """The median time of a variant that passed (NaN otherwise)."""
        v = self.get(name)
        return v.median if v.status == "passed" else math.nan

    def best(self, name: str) -> float:
        """The fastest repetition of a variant that passed (NaN otherwise): the run least
        disturbed by the rest of the machine, which is what timing claims compare."""
        v = self.get(name)
        return min(v.samples) if v.status == "passed" and v.samples else math.nan

    # --- claims ---------------------------------------------------------------------------

    def claim(self, text: str, holds: bool, detail: str = "", *,
              skip: str = "") -> bool:
        """What the lab teaches, asserted on this run's numbers: ``text`` holds when ``holds``.
        ``skip`` gives the reason a claim cannot be judged here (one core, a skipped variant)."""
        entry = {"claim": text, "passed": bool(holds) and not skip, "detail": detail}
        if skip:
            entry["skipped"] = skip
        self.claims.append(entry)
        mark = "skipped" if skip else ("holds" if holds else "DOES NOT HOLD")
        self._say(f"  claim {mark}: {text}" + (f" ({skip or detail})" if (skip or detail) else ""))
        return bool(holds)

    # --- peaks ----------------------------------------------------------------------------

    def peak(self) -> dict:
        """The device's measured peak memory bandwidth and floating-point rate."""
        if self.peak_cache is None:
            from .peak import measure_peak

            self.peak_cache = measure_peak(self.device)
        return self.peak_cache

    # --- MPI programs ---------------------------------------------------------------------

    @property
    def parts(self) -> Path:
        """The folder where the lab's MPI programs leave their results (and any files)."""
        return self._parts_dir if self._parts_dir is not None else self.workdir / "mpi-parts"

    def mpi_context(self) -> Path:
        """Writes this lab's context for the MPI programs it starts (``kit.join()`` reads it)
        and returns the folder their results go to."""
        parts = self.workdir / "mpi-parts"
        parts.mkdir(exist_ok=True)
        ctx = {"number": self.number, "size": self.size, "device": str(self.device),
               "repeat": self.repeat, "parts": str(parts), "peak": self.peak_cache}
        path = self.workdir / "context.json"
        path.write_text(json.dumps(ctx))
        os.environ[CONTEXT_ENV] = str(path)
        return parts

    def collect(self, job: str, expected: Sequence[str], *, group: str = "MPI") -> None:
        """Adds the variants that the MPI job ``job`` reported; each of ``expected`` that it did
        not report (the job failed or hung) is a failed variant."""
        parts = self.workdir / "mpi-parts"
        path = parts / f"{job}.json"
        got: dict[str, dict] = {}
        if path.is_file():
            data = json.loads(path.read_text())
            for d in data["variants"]:
                got[d["name"]] = d
            self.claims.extend(data.get("claims", []))
            self.compiles.extend(data.get("compiles", []))
        for name in expected:
            d = got.pop(name, None)
            if d is None:
                self.fail(name, f"the MPI job '{job}' ended without reporting it (see its output "
                                "above)", group=group, runs_as="mpi")
                continue
            self.variants.append(_variant_from_dict(d))
        for d in got.values():
            self.variants.append(_variant_from_dict(d))

    # --- the end --------------------------------------------------------------------------

    def _speedups(self) -> None:
        for v in self.variants:
            if not v.baseline or v.status != "passed":
                continue
            base = next((b for b in self.variants if b.name == v.baseline), None)
            if base is None or base.status != "passed" or not v.median > 0:
                continue
            v.speedup = base.median / v.median
            if v.workers:
                v.efficiency = v.speedup / v.workers

    def result(self) -> dict:
        self._speedups()
        peak = self.peak_cache
        # Ranks leave the peak to the lab that collects their variants.
        if peak is None and self.comm is None and any(v.work for v in self.variants
                                                      if v.status == "passed"):
            peak = self.peak()
        failed = [v.name for v in self.variants if v.status == "failed"]
        broken = [c["claim"] for c in self.claims if not c["passed"] and "skipped" not in c]
        return {
            "lab": self.number,
            "title": self.info.title,
            "size": self.size,
            "requested_size": self.requested_size,
            "device": str(self.device),
            "device_name": self.device.name,
            "date": _now(),
            "machine": {"node": platform.node(), "cpus": os.cpu_count(),
                        "python": platform.python_version(), "numpy": np.__version__,
                        "manycore": mc.__version__},
            "repeat": self.repeat,
            "peak": peak,
            "compile": self.compiles,
            "variants": [v.as_dict(peak) for v in self.variants],
            "claims": self.claims,
            "notes": self.notes,
            "seconds": time.perf_counter() - self.started,
            "failed": failed + [f"claim: {c}" for c in broken],
            "passed": not failed and not broken,
        }

    def finish(self) -> dict:
        """Prints the table, writes the JSON result (to the --json file or RESULT) and raises
        :class:`LabFailed` naming every failed variant and claim; returns the result."""
        if self.comm is not None:
            return self._finish_rank()
        res = self.result()
        if not self.quiet:
            print()
            print(format_result(res))
        if self.result_path:
            self.result_path.parent.mkdir(parents=True, exist_ok=True)
            self.result_path.write_text(json.dumps(res, indent=1, default=_json_default))
        if not res["passed"]:
            raise LabFailed(f"lab {self.number} failed: " + "; ".join(
                [f"variant '{v['name']}': {v.get('reason', '')}" for v in res["variants"]
                 if v["status"] == "failed"]
                + [f"claim '{c['claim']}' does not hold ({c['detail']})" for c in res["claims"]
                   if not c["passed"] and "skipped" not in c]))
        return res

    def _finish_rank(self) -> dict:
        res = self.result()
        if self.comm.rank == 0 and self._parts_dir is not None:
            path = self._parts_dir / f"{self.job}.json"
            path.write_text(json.dumps(res, default=_json_default))
        return res

    # --- output ---------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def _say_variant(self, v: Variant) -> None:
        if v.status == "passed":
            extra = f"median {format_seconds(v.median)}"
            if v.execution_mode:
                extra += f", runs as {v.execution_mode}"
        else:
            extra = v.reason
        self._say(f"  {v.status:7s} {v.name}: {extra}")


def _mpi_max() -> Any:
    from mpi4py import MPI

    return MPI.MAX


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _variant_from_dict(d: dict) -> Variant:
    t = d.get("times") or {}
    v = Variant(name=d["name"], status=d["status"], group=d.get("group", ""),
                runs_as=d.get("runs_as", ""), workers=d.get("workers"), size=d.get("size", ""),
                reason=d.get("reason", ""), execution_mode=d.get("execution_mode"),
                compile=t.get("compile"), copy_in=t.get("copy_in"), copy_out=t.get("copy_out"),
                samples=list(t.get("samples", [])), baseline=d.get("baseline"),
                note=d.get("note", ""))
    tp = d.get("throughput") or {}
    if v.samples and ("GB/s" in tp or "GFLOP/s" in tp):
        med = v.median
        v.work = Work(bytes=tp.get("GB/s", 0.0) * 1e9 * med, flops=tp.get("GFLOP/s", 0.0) * 1e9 * med)
    return v


def _cell(x: float | None, fmt: Callable[[float], str]) -> str:
    return "-" if x is None or x != x else fmt(x)


def _percent(x: float | None) -> str:
    return "-" if x is None or x != x else f"{100 * x:.0f}%"


def format_result(res: dict) -> str:
    """The lab's table, claims and verdict as plain text."""
    rows = []
    for v in res["variants"]:
        t = v.get("times") or {}
        tp = v.get("throughput") or {}
        rate, frac = "-", None
        if "GB/s" in tp:
            rate, frac = f"{tp['GB/s']:.3g} GB/s", tp.get("bandwidth_fraction_of_peak")
        if "GFLOP/s" in tp and ("GB/s" not in tp or "flops_fraction_of_peak" in tp
                                and "bandwidth_fraction_of_peak" not in tp):
            rate, frac = f"{tp['GFLOP/s']:.3g} GFLOP/s", tp.get("flops_fraction_of_peak")
        copies = [x for x in (t.get("copy_in"), t.get("copy_out")) if x is not None]
        rows.append([
            v["name"], v.get("runs_as", ""), v.get("workers") or "",
            v.get("execution_mode") or "",
            _cell(t.get("compile"), format_seconds),
            _cell(sum(copies) if copies else None, format_seconds),
            _cell(t.get("kernel"), format_seconds), rate, _percent(frac),
            _cell(v.get("speedup"), format_rate), _percent(v.get("efficiency")),
            {"passed": "OK", "failed": "FAIL", "skipped": "skip"}[v["status"]],
        ])
    headers = ["variant", "runs as", "workers", "mode", "compile", "copies", "median",
               "throughput", "of peak", "speedup", "efficiency", "check"]
    lines = [format_table(headers, rows, right=(2, 4, 5, 6, 7, 8, 9, 10))]
    peak = res.get("peak")
    if peak:
        lines.append(f"peak ({peak.get('how', 'measured')}): "
                     f"{peak['bandwidth'] / 1e9:.3g} GB/s, {peak['flops'] / 1e9:.3g} GFLOP/s")
    lines.append(f"times: median of {res['repeat']} repetitions after a warm-up; compile and "
                 "copies apart from the kernel")
    for v in res["variants"]:
        if v["status"] == "skipped":
            lines.append(f"skipped {v['name']}: {v['reason']}")
        elif v["status"] == "failed":
            lines.append(f"FAILED {v['name']}: {v['reason']}")
    for c in res["claims"]:
        mark = "skipped" if "skipped" in c else ("holds" if c["passed"] else "DOES NOT HOLD")
        lines.append(f"claim {mark}: {c['claim']}"
                     + (f" -- {c.get('skipped') or c['detail']}" if c.get("skipped") or c["detail"] else ""))
    verdict = "PASSED" if res["passed"] else "FAILED: " + ", ".join(res["failed"])
    lines.append(f"lab {res['lab']} ({res['title']}, {res['size']}, {res['device']}): {verdict} "
                 f"in {res['seconds']:.1f} s")
    return "\n".join(lines)


# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Profiles of kernel launches: time, bandwidth and FLOP rate per kernel against the device's
measured peaks, and, with ``memory=True``, how each kernel would use a GPU's memory system.

>>> import numpy as np, manycore as mc
>>> with mc.profile(memory=True) as p:      # doctest: +SKIP
...     f(n, x, y, grid=..., block=...)
>>> print(p.report())                        # doctest: +SKIP
>>> p.sites("copy")                          # doctest: +SKIP

Every launch made while the profile is open is recorded (:class:`Launch`): kernel, device,
grid, block, shared bytes and time (CUDA events on a GPU; the wall clock around the launch,
which returns when it has run, on the CPU). With ``memory=True`` the first launch of each
kernel with each launch shape also runs instrumented on the CPU (on the CPU device it *is*
that launch; a GPU kernel runs on copies of its arrays first) and counts, per access site,
the warp requests, sectors and bank-conflict passes a GPU would take, and per branch the warp
steps that diverge (:meth:`Profile.sites`, :meth:`Profile.branches`).

The bytes behind GB/s and the roofline are, in order: ``annotate``'s, else the memory
profile's (the sectors the requests move, x 32, for a GPU kernel; the bytes accessed for a CPU
one), else the sizes of the array arguments (those through pointers to const read, the others
written), an estimate. FLOPs are only known when annotated.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

__all__ = ["Branch", "KernelSummary", "Launch", "Profile", "Site", "profile"]

#: A site's line is marked in a listing from this share of a kernel's global sectors or shared
#: passes, when it moves more than the fewest it could.
MARK_SHARE = 0.05


@dataclass(frozen=True)
class Site:
    """One global or shared access site of a kernel and what its warp requests cost."""

    line: int
    variable: str
    space: str          # "global" or "shared"
    access: str         # "load", "store", "atomic" or "record"
    width: int          # bytes each lane accesses
    requests: int       # warp-level requests
    accesses: int       # lane-level accesses
    sectors: int = 0            # global: 32-byte sectors touched
    ideal_sectors: int = 0      # global: the fewest that would hold the bytes
    wavefronts: int = 0         # shared: passes over the banks
    ideal_wavefronts: int = 0   # shared: the fewest passes
    max_ways: int = 0           # shared: the largest n-way bank conflict of one pass
    conflicted: int = 0         # shared: requests that took more passes than the fewest

    @property
    def sectors_per_request(self) -> float:
        return self.sectors / self.requests if self.requests else math.nan

    @property
    def ideal_sectors_per_request(self) -> float:
        return self.ideal_sectors / self.requests if self.requests else math.nan

    @property
    def wavefronts_per_request(self) -> float:
        return self.wavefronts / self.requests if self.requests else math.nan

    @property
    def bank_conflicts(self) -> int:
        """Passes beyond the fewest (Nsight Compute's bank-conflict count)."""
        return self.wavefronts - self.ideal_wavefronts

    @property
    def efficiency(self) -> float:
        """The fewest sectors (passes) over those taken: 1.0 is perfectly coalesced
        (conflict-free)."""
        if self.space == "shared":
            return self.ideal_wavefronts / self.wavefronts if self.wavefronts else math.nan
        return self.ideal_sectors / self.sectors if self.sectors else math.nan

    @property
    def bytes(self) -> int:
        """The bytes the lanes accessed."""
        return self.accesses * self.width

    def _merged(self, other: Site) -> Site:
        return Site(self.line, self.variable, self.space, self.access, self.width,
                    self.requests + other.requests, self.accesses + other.accesses,
                    self.sectors + other.sectors, self.ideal_sectors + other.ideal_sectors,
                    self.wavefronts + other.wavefronts,
                    self.ideal_wavefronts + other.ideal_wavefronts,
                    max(self.max_ways, other.max_ways), self.conflicted + other.conflicted)


@dataclass(frozen=True)
class Branch:
    """One branch site (an if, while, do or for condition) and how often its warps diverged."""

    line: int
    id: int             # the branch's number in the module's source, from 0
    warp_steps: int     # warp-level evaluations
    divergent: int      # of them, where lanes went both ways
    evaluations: int    # lane-level evaluations
    taken: int          # lane-level evaluations that were true

    @property
    def divergence(self) -> float:
        """The share of warp steps where the lanes went different ways."""
        return self.divergent / self.warp_steps if self.warp_steps else math.nan

    def _merged(self, other: Branch) -> Branch:
        return Branch(self.line, self.id, self.warp_steps + other.warp_steps,
                      self.divergent + other.divergent, self.evaluations + other.evaluations,
                      self.taken + other.taken)


@dataclass(frozen=True)
class MemoryCounts:
    """What one instrumented run counted."""

    sites: tuple[Site, ...]
    branches: tuple[Branch, ...]
    out_of_bounds: int

    def moved_bytes(self, gpu: bool) -> int:
        """Global bytes the requests move: sectors x 32 on a GPU, the bytes accessed on a CPU."""
        glob = [s for s in self.sites if s.space == "global"]
        return sum(s.sectors * 32 for s in glob) if gpu else sum(s.bytes for s in glob)


@dataclass(frozen=True)
class Launch:
    """One launch as the profile saw it."""

    index: int
    kernel: str
    device: str
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_bytes: int
    seconds: float
    array_bytes_read: int
    array_bytes_written: int
    instrumented: bool            # ran instrumented: its time is not the kernel's own
    memory: MemoryCounts | None   # the counts of this kernel with this shape
    note: str                     # why there are no counts, with memory profiling
    bytes: float                  # what GB/s and the roofline use (see bytes_source)
    bytes_source: str             # "annotated", "measured" or "estimate"
    flops: float | None           # annotated only

    @property
    def gbs(self) -> float:
        return self.bytes / self.seconds / 1e9 if self.seconds > 0 and not self.instrumented else math.nan

    @property
    def gflops(self) -> float:
        if self.flops is None or self.seconds <= 0 or self.instrumented:
            return math.nan
        return self.flops / self.seconds / 1e9


@dataclass(frozen=True)
class KernelSummary:
    """The launches of one kernel on one device, added up."""

    kernel: str
    device: str
    calls: int
    timed_calls: int          # calls not run instrumented: those behind the times and rates
    total_seconds: float
    mean_seconds: float
    bytes: float              # per timed call, on average
    bytes_source: str
    flops: float | None
    gbs: float
    gflops: float
    peak_bandwidth_share: float   # of the device's measured bandwidth
    peak_flops_share: float       # of its measured FP32 rate (FP64 when annotated so)


@dataclass
class _Annotation:
    bytes: float | Callable[[Launch], float] | None = None
    flops: float | Callable[[Launch], float] | None = None
    dtype: str = "float32"


class Profile:
    """A profile of the launches made while it is open (``with mc.profile() as p:``)."""

    def __init__(self, memory: bool = False) -> None:
        from manycore import _core

        self.memory = bool(memory)
        self._core = _core.Profiler(self.memory)
        self._annotations: dict[str, _Annotation] = {}
        self._cache: tuple[int, list[Launch], list[str]] | None = None
        self._functions: dict[str, Any] = {}
        self._sources: dict[str, str] = {}

    # -- recording ------------------------------------------------------------------------------

    def start(self) -> Profile:
        self._core.start()
        return self

    def stop(self) -> None:
        self._core.stop()

    def __enter__(self) -> Profile:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def annotate(self, kernel: str, bytes: float | Callable[[Launch], float] | None = None,
                 flops: float | Callable[[Launch], float] | None = None,
                 dtype: str = "float32") -> None:
        """The bytes a launch of ``kernel`` moves and the floating-point operations it does,
        per launch (a number, or a function of the :class:`Launch`); ``dtype`` says which of
        the device's FP32 and FP64 rates its FLOPs compare with."""
        if bytes is None and flops is None:
            raise ValueError("annotate(): give bytes=, flops= or both")
        for name, v in (("bytes", bytes), ("flops", flops)):
            if v is not None and not callable(v) and (not isinstance(v, (int, float)) or v < 0):
                raise ValueError(f"annotate(): {name} must be a number >= 0 or a function of "
                                 f"the launch, not {v!r}")
        self._annotations[kernel] = _Annotation(bytes, flops, dtype)
        self._cache = None

    # -- what was recorded --------------------------------------------------------------------

    def _read(self) -> tuple[list[Launch], list[str]]:
        # A stopped profile records nothing more: what was read once stands.
        if self._cache is not None and not self._core.started:
            return self._cache[1], self._cache[2]
        raw, profiles, sources, functions = self._core.launches()
        self._functions = functions
        counts = [MemoryCounts(tuple(Site(**s) for s in sites),
                               tuple(Branch(**b) for b in branches), oob)
                  for sites, branches, oob in profiles]
        self._sources = {}
        launches = []
        for i, (kernel, device, grid, block, shared, seconds, read, written, instrumented,
                memory, note, source) in enumerate(raw):
            if source >= 0:
                self._sources[kernel] = sources[source]
            mem = counts[memory] if memory >= 0 else None
            launch = Launch(i, kernel, str(device), tuple(grid), tuple(block), shared, seconds,
                            read, written, instrumented, mem, note, 0.0, "", None)
            launches.append(self._with_bytes(launch))
        self._cache = (len(raw), launches, list(sources))
        return launches, list(sources)

    def _with_bytes(self, launch: Launch) -> Launch:
        a = self._annotations.get(launch.kernel)

        def value(v: Any) -> float | None:
            return None if v is None else float(v(launch) if callable(v) else v)

        if a is not None and a.bytes is not None:
            moved, source = value(a.bytes), "annotated"
        elif launch.memory is not None:
            moved, source = float(launch.memory.moved_bytes(launch.device != "cpu")), "measured"
        else:
            moved = float(launch.array_bytes_read + launch.array_bytes_written)
            source = "estimate"
        flops = value(a.flops) if a is not None else None
        return Launch(**{**launch.__dict__, "bytes": moved, "bytes_source": source,
                         "flops": flops})

    @property
    def launches(self) -> list[Launch]:
        """Every launch recorded, in the order they began (GPU times waited for)."""
        return list(self._read()[0])

    def function(self, kernel: str) -> Any:
        """The :class:`manycore.Function` of ``kernel`` (its resources, occupancy)."""
        self._read()
        return self._functions.get(kernel)

    def occupancy(self, kernel: str) -> list[Any]:
        """The occupancy of ``kernel`` at each block size and dynamic shared size it was
        launched with (:func:`manycore.occupancy`)."""
        from .occupancy import occupancy

        f = self.function(kernel)
        shapes = dict.fromkeys((math.prod(launch.block), launch.shared_bytes)
                               for launch in self._kernel_launches(kernel))
        static = f.static_shared_bytes if f is not None else 0
        return [occupancy(f, block, max(0, shared - static)) for block, shared in shapes]

    def source(self, kernel: str) -> str | None:
        """The source of the module ``kernel`` came from."""
        self._read()
        return self._sources.get(kernel)

    def _kernel_launches(self, kernel: str) -> list[Launch]:
        found = [launch for launch in self.launches if launch.kernel == kernel]
        if not found:
            names = sorted({launch.kernel for launch in self.launches})
            raise KeyError(f"Profile: no launch of a kernel named '{kernel}' was recorded; "
                           f"kernels recorded: {', '.join(names) or 'none'}")
        return found

    def _counts(self, kernel: str) -> list[MemoryCounts]:
        seen: dict[int, MemoryCounts] = {}
        for launch in self._kernel_launches(kernel):
            if launch.memory is not None:
                seen.setdefault(id(launch.memory), launch.memory)
        if not seen and not self.memory:
            raise ValueError("Profile.sites(): this profile counts no memory accesses; open it "
                             "with mc.profile(memory=True)")
        return list(seen.values())

    def sites(self, kernel: str) -> list[Site]:
        """The access sites of ``kernel``, by line, added up over its instrumented shapes."""
        merged: dict[tuple, Site] = {}
        for counts in self._counts(kernel):
            for s in counts.sites:
                key = (s.line, s.variable, s.space, s.access, s.width)
                merged[key] = merged[key]._merged(s) if key in merged else s
        return sorted(merged.values(), key=lambda s: (s.line, s.variable, s.access, s.width))

    def branches(self, kernel: str) -> list[Branch]:
        """The branch sites of ``kernel``, by line, added up over its instrumented shapes."""
        merged: dict[int, Branch] = {}
        for counts in self._counts(kernel):
            for b in counts.branches:
                merged[b.id] = merged[b.id]._merged(b) if b.id in merged else b
        return sorted(merged.values(), key=lambda b: (b.line, b.id))

    def memory_summary(self, kernel: str) -> dict[str, Any]:
        """Per kernel: global loads and stores (requests, sectors and the fewest), shared loads
        and stores (requests, passes and the fewest), branches (warp steps, divergent)."""
        sites, branches = self.sites(kernel), self.branches(kernel)
        out: dict[str, Any] = {}
        for space, unit in (("global", "sectors"), ("shared", "wavefronts")):
            for access in ("load", "store"):
                chosen = [s for s in sites if s.space == space and s.access == access]
                requests = sum(s.requests for s in chosen)
                taken = sum(getattr(s, unit) for s in chosen)
                fewest = sum(getattr(s, "ideal_" + unit) for s in chosen)
                out[f"{space}_{access}s"] = {
                    "requests": requests, unit: taken, "ideal_" + unit: fewest,
                    f"{unit}_per_request": taken / requests if requests else None,
                    "efficiency": fewest / taken if taken else None}
        steps = sum(b.warp_steps for b in branches)
        divergent = sum(b.divergent for b in branches)
        out["branches"] = {"warp_steps": steps, "divergent": divergent,
                           "divergence": divergent / steps if steps else None}
        out["out_of_bounds"] = sum(c.out_of_bounds for c in self._counts(kernel))
        return out

    def kernels(self, peaks: Any = "cached") -> list[KernelSummary]:
        """One summary per kernel and device, in the order of their first launch. ``peaks``:
        "cached" (those ``manycore peak`` measured, when there are), None, or a dict from
        device name to :class:`manycore.tools.peak.Peaks`."""
        groups: dict[tuple[str, str], list[Launch]] = defaultdict(list)
        for launch in self.launches:
            groups[(launch.kernel, launch.device)].append(launch)
        out = []
        for (kernel, device), launches in groups.items():
            timed = [launch for launch in launches if not launch.instrumented]
            total = sum(launch.seconds for launch in timed)
            sources = {launch.bytes_source for launch in timed} or {launches[0].bytes_source}
            moved = statistics.fmean(launch.bytes for launch in timed) if timed else math.nan
            flop_values = [launch.flops for launch in timed if launch.flops is not None]
            flops = statistics.fmean(flop_values) if flop_values else None
            gbs = sum(launch.bytes for launch in timed) / total / 1e9 if total > 0 else math.nan
            gflops = (sum(flop_values) / total / 1e9
                      if flop_values and total > 0 and len(flop_values) == len(timed) else math.nan)
            p = self._peaks_for(device, peaks)
            dtype = self._annotations[kernel].dtype if kernel in self._annotations else "float32"
            bw_share = gbs * 1e9 / p.bandwidth if p is not None else math.nan
            flop_share = gflops * 1e9 / p.flops(dtype) if p is not None else math.nan
            out.append(KernelSummary(kernel, device, len(launches), len(timed), total,
                                     total / len(timed) if timed else math.nan, moved,
                                     "/".join(sorted(sources)), flops, gbs, gflops, bw_share,
                                     flop_share))
        return out

    @staticmethod
    def _peaks_for(device: str, peaks: Any) -> Any:
        if peaks is None:
            return None
        if peaks == "cached":
            from . import peak

            try:
                return peak.cached(device)
            except Exception:  # noqa: BLE001  (a device that is gone: no peaks to compare)
                return None
        return peaks.get(device)

    # -- output ---------------------------------------------------------------------------------

    def report(self, format: str = "text", *, launches: int = 20, peaks: Any = "cached",
               listing: bool = True) -> str:
        """The profile as text (``format="text"``: per kernel, launch by launch up to
        ``launches`` rows, and the memory profile with a listing of each kernel's source,
        costly lines marked) or JSON (``"json"``: everything)."""
        if format == "json":
            return json.dumps(self.to_dict(peaks=peaks), indent=1)
        if format != "text":
            raise ValueError(f"report(): format must be 'text' or 'json', not {format!r}")
        from ._report import text_report

        return text_report(self, launches=launches, peaks=peaks, listing=listing)

    def to_dict(self, peaks: Any = "cached") -> dict[str, Any]:
        """Everything the profile holds, as plain data (what ``report("json")`` writes)."""
        kernels = self.kernels(peaks)
        devices = sorted({k.device for k in kernels})
        out: dict[str, Any] = {
            "peaks": {d: (asdict(p) if (p := self._peaks_for(d, peaks)) is not None else None)
                      for d in devices},
            "kernels": [_plain(asdict(k)) for k in kernels],
            "launches": [_plain({k: v for k, v in asdict(launch).items() if k != "memory"})
                         for launch in self.launches],
        }
        if self.memory:
            out["memory"] = {}
            for name in dict.fromkeys(launch.kernel for launch in self.launches):
                if not self._counts(name):
                    continue
                out["memory"][name] = {
                    "summary": self.memory_summary(name),
                    "sites": [asdict(s) for s in self.sites(name)],
                    "branches": [asdict(b) for b in self.branches(name)],
                }
        return out

    def listing(self, kernel: str) -> str:
        """The source of ``kernel``'s module, numbered, with the lines of costly access sites
        (more sectors or passes than the fewest, from a notable share of the kernel's) and of
        divergent branches marked."""
        from ._report import source_listing

        return source_listing(self, kernel)

    def roofline(self, path: str, peaks: Any = "cached", title: str | None = None) -> list[str]:
        """Draws each kernel with annotated FLOPs as a point (FLOPs per byte, GFLOP/s) under its
        device's measured roofs, into ``path`` (PNG or SVG, by its suffix), with the data next to
        it as JSON; returns notes on the kernels left out. Needs matplotlib."""
        from ._report import draw_roofline

        return draw_roofline(self, path, peaks=peaks, title=title)

    def __repr__(self) -> str:
        state = "open" if self._core.started else "closed"
        return (f"<manycore.Profile {state}, {len(self._core.launches()[0])} launches"
                f"{', memory' if self.memory else ''}>")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """NaN as None, tuples as lists: JSON's own types."""
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and math.isnan(v):
            v = None
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def profile(memory: bool = False) -> Profile:
    """A profile of the launches made in a ``with`` block (see :mod:`manycore.tools.profile`)."""
    return Profile(memory)


# ---------------------------------------------------------------------------------------------
# `manycore profile`


def add_arguments(parser: Any) -> None:
    """The options of ``manycore profile``."""
    import argparse

    parser.add_argument("--pycuda", action="store_true",
                        help="run a PyCUDA script: `import pycuda...` gets manycore.pycuda")
    parser.add_argument("--memory", action="store_true",
                        help="also run each kernel's first launch of each shape instrumented on "
                             "the CPU: sectors, bank conflicts and divergence per source line")
    parser.add_argument("--json", metavar="FILE", help="write the whole profile as JSON")
    parser.add_argument("--roofline", metavar="FILE",
                        help="draw the roofline (PNG or SVG by the suffix; needs matplotlib)")
    parser.add_argument("--launches", type=int, default=20, metavar="N",
                        help="launches listed one by one (default 20)")
    parser.add_argument("--no-listing", action="store_true",
                        help="leave the source listings out of the memory report")
    parser.add_argument("--measure-peaks", action="store_true",
                        help="measure the peaks of devices that have none cached (as "
                             "`manycore peak`), for %% of peak")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")


def run_script(script: str, args: list[str], memory: bool = False) -> tuple[Profile, int]:
    """Runs ``script`` (as ``python script args`` would, in this process) inside a profile;
    returns the profile and the script's exit status."""
    import os
    import runpy
    import sys
    import traceback

    p = Profile(memory)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    status = 0
    try:
        with p:
            runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception:  # noqa: BLE001  (the script's own error: shown, and what ran is reported)
        traceback.print_exc()
        status = 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return p, status


def command(args: Any) -> int:
    """``manycore profile [options] script.py [args]``."""
    import os
    import sys

    if not os.path.isfile(args.script):
        print(f"manycore profile: no such script: {args.script}", file=sys.stderr)
        return 2
    if args.pycuda:
        try:
            from manycore import pycuda
        except ImportError:
            print("manycore profile --pycuda: this manycore has no PyCUDA layer "
                  "(manycore.pycuda)", file=sys.stderr)
            return 2
        try:
            pycuda.install()
        except RuntimeError as e:  # a real PyCUDA was imported first
            print(f"manycore profile --pycuda: {e}", file=sys.stderr)
            return 2
    p, status = run_script(args.script, list(args.args), memory=args.memory)
    sys.stdout.flush()
    if args.measure_peaks:
        from . import peak

        for device in dict.fromkeys(launch.device for launch in p.launches):
            if peak.cached(device) is None:
                peak.measure(device)
    print(p.report(launches=args.launches, listing=not args.no_listing))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(p.report("json"))
        print(f"manycore profile: wrote {args.json}")
    if args.roofline:
        for note in p.roofline(args.roofline):
            print(f"manycore profile: roofline: {note}")
        print(f"manycore profile: drew {args.roofline}")
    if status != 0:
        print(f"manycore profile: the script itself exited with status {status}")
    return status

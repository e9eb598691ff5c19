# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Every array operation and generator of manycore against the same call of its anchor, one table.

On a GPU the anchor is CuPy on the same GPU; on the CPU it is NumPy, single-threaded and, where
NumPy can use threads (its BLAS: ``dot``), with the CPU device's thread count. All in one
process. Each row is counted in GB/s of the bytes a perfect implementation must move (every
input element read once, every output element written once), and the ratio is manycore's
GB/s over the anchor's (above 1.0: manycore is faster). A second table at 2^16 elements gives
the time per call, where launch and allocation overhead dominate. Every manycore result is
checked against the anchor's before it is timed (``check``: ok, or what differed).

    python bench/arrays/sweep.py                   every device here (CPU: 2^24, GPU: 2^28)
    python bench/arrays/sweep.py --device cuda     one device
    python bench/arrays/sweep.py --size 2^20 --small 2^12 --repeat 3   smaller, quicker
    python bench/arrays/sweep.py --only cumsum     rows whose name contains a word

Writes ``<date>-<machine>-sweep.md`` and ``.csv`` into ``--out`` (default bench/results).
GPU times are CUDA events around the call on the default stream (the median of the repeats);
CPU times are host clocks (the best of the repeats); the repeats of a row take turns, one
call of each contender per round. Outputs are allocated by every call, as
users call these functions; the scan kernel row writes into an array allocated once, as that
API takes one.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import manycore as mc

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from run_all import machine_info, machine_slug, parse_size, size_label  # noqa: E402

F32, F64, I32, I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64)

# Why a row stays below its anchor, where the cause lies outside manycore's reach. The table
# prints the note beside any row under 1.0; a row under 1.0 without one is a defect to find.
_ROOF = ("at the memory bandwidth: one core of this machine already streams memory at its full "
         "bandwidth, so manycore's threads and NumPy's one both read the input once at the same "
         "speed, and the ratio moves around 1.0 with the other work on the machine")
WHY_BELOW: dict[tuple[str, str], str] = {
    ("cpu", name): _ROOF
    for name in ("a < b -> bool", "where(c, a, b) float32", "sum float32", "max float32", "min float32",
                 "argmax float32", "sum axis=0 float32", "max axis=0 float32", "min axis=0 float32",
                 "mean axis=0 float32", "sum axis=1 float32", "max axis=1 float32", "min axis=1 float32",
                 "argmax axis=1 float32", "mean float32", "mean axis=1 float32", "dot float32",
                 "ReductionKernel dot float32")
}


# ---- the libraries, behind one small interface ----------------------------------------------


class _Kernels:
    """The generated-kernel rows, the same calls on manycore and CuPy (``axpy`` and ``rdot`` are
    each library's ElementwiseKernel and ReductionKernel)."""

    def ew_axpy(self, x, y):
        self.axpy(np.float32(0.5), x, y)
        return y

    def red_dot(self, x, y):
        return self.rdot(x, y)


class Manycore(_Kernels):
    name = "manycore"

    def __init__(self, device: mc.Device) -> None:
        self.device = device
        self.gpu = device.kind == "cuda"
        self.axpy = mc.ElementwiseKernel("float a, const float *x, float *y", "y[i] = a * x[i] + y[i]",
                                         name="sweep_axpy")
        self.rdot = mc.ReductionKernel(np.float32, "0", "a + b", "x[i] * y[i]",
                                       "const float *x, const float *y", name="sweep_dot")
        self.scan = mc.InclusiveScanKernel(np.int32, "a + b", "0", name="sweep_scan")

    def put(self, h: np.ndarray) -> Any:
        return mc.to_device(h, self.device)

    def host(self, x: Any) -> np.ndarray:
        return x.get() if isinstance(x, mc.Array) else np.asarray(x)

    def sync(self) -> None:
        mc.synchronize(self.device)

    def where(self, c, a, b):
        return mc.math.where(c, a, b)

    def cumsum(self, a):
        return mc.cumsum(a)

    def dot(self, a, b):
        return mc.dot(a, b)

    def uniform(self, n):
        return mc.random.uniform(n, dtype=np.float32, seed=7, device=self.device)

    def normal(self, n):
        return mc.random.normal(n, dtype=np.float32, seed=7, device=self.device)

    def integers(self, n):
        return mc.random.integers(0, 1000, n, dtype=np.int32, seed=7, device=self.device)

    def scan_into(self, x, out):
        return self.scan(x, out)

    def events(self):
        return mc.Event(self.device), mc.Event(self.device)


class CuPy(_Kernels):
    name = "CuPy"

    def __init__(self, device: mc.Device) -> None:
        import cupy

        self.cp = cupy
        self.device = device
        self.gpu = True
        cupy.cuda.Device(device.index).use()
        self.axpy = cupy.ElementwiseKernel("float32 a, float32 x", "float32 y", "y = a * x + y", "sweep_axpy")
        self.rdot = cupy.ReductionKernel("float32 x, float32 y", "float32 z", "x * y", "a + b", "z = a", "0",
                                         "sweep_dot")

    def put(self, h):
        return self.cp.asarray(h)

    def host(self, x):
        return self.cp.asnumpy(x)

    def sync(self):
        self.cp.cuda.get_current_stream().synchronize()

    def where(self, c, a, b):
        return self.cp.where(c, a, b)

    def cumsum(self, a):
        return self.cp.cumsum(a)

    def dot(self, a, b):
        return self.cp.dot(a, b)

    def uniform(self, n):
        return self.cp.random.uniform(0.0, 1.0, n, dtype=np.float32)

    def normal(self, n):
        return self.cp.random.standard_normal(n, dtype=np.float32)

    def integers(self, n):
        return self.cp.random.randint(0, 1000, n, dtype=np.int32)

    def scan_into(self, x, out):
        return self.cp.cumsum(x, dtype=np.int32, out=out)

    def events(self):
        return self.cp.cuda.Event(), self.cp.cuda.Event()


class NumPy:
    """NumPy on the host; ``threads`` limits its BLAS (the only part of NumPy that uses threads)."""

    gpu = False

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.name = "NumPy" if threads is None else f"NumPy ({threads} threads)"
        self.rng = np.random.default_rng(7)

    def put(self, h):
        return h.copy()

    def host(self, x):
        return np.asarray(x)

    def sync(self):
        pass

    where = staticmethod(np.where)
    cumsum = staticmethod(np.cumsum)
    dot = staticmethod(np.dot)

    def uniform(self, n):
        return self.rng.random(n, dtype=np.float32)

    def normal(self, n):
        return self.rng.standard_normal(n, dtype=np.float32)

    def integers(self, n):
        return self.rng.integers(0, 1000, n, dtype=np.int32)

    def ew_axpy(self, x, y):
        y += np.float32(0.5) * x
        return y

    def red_dot(self, x, y):
        return np.dot(x, y)

    def scan_into(self, x, out):
        return np.cumsum(x, dtype=np.int32, out=out)


HAVE_THREADPOOLCTL = importlib.util.find_spec("threadpoolctl") is not None


def blas_limits(threads: int):
    """NumPy's BLAS limited to ``threads`` from now until the context's exit (threadpoolctl)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


# ---- the rows ---------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    inputs: list[tuple[str, Any]]  # (kind, dtype) each: "u" uniform [0,1), "s" signs -1/0/1, "i" ints, "b" bools, "row" a row of a 2-D input, "o" an output to fill
    shape2d: bool  # inputs are (rows, cols) instead of (n,)
    bytes: Callable[[int, int, int], float]  # (n, rows, cols) -> bytes a perfect implementation moves
    run: Callable[..., Any]  # (lib, *inputs) -> result
    check: str = "close"  # "exact", "close", "stats" (random: range and mean), "none"
    threads: bool = False  # NumPy can use threads here (BLAS)
    rtol: float = 1e-3
    tags: list[str] = field(default_factory=list)


def cases() -> list[Case]:
    u, s, i, b, o = ("u", F32), ("s", F32), ("i", I32), ("b", np.dtype(bool)), ("o", I32)
    c = []
    add = c.append
    add(Case("a + b float32", [u, u], False, lambda n, r, k: 12 * n, lambda L, a, b_: a + b_))
    add(Case("a * 2.5 (scalar) float32", [u], False, lambda n, r, k: 8 * n, lambda L, a: a * 2.5))
    add(Case("a - row (2-D broadcast) float32", [u, ("row", F32)], True, lambda n, r, k: 8 * n + 4 * k,
             lambda L, a, row: a - row))
    add(Case("a < b -> bool", [u, u], False, lambda n, r, k: 9 * n, lambda L, a, b_: a < b_, "exact"))
    add(Case("where(c, a, b) float32", [b, u, u], False, lambda n, r, k: 13 * n,
             lambda L, cnd, a, b_: L.where(cnd, a, b_), "exact"))
    add(Case("astype float32 -> float64", [u], False, lambda n, r, k: 12 * n,
             lambda L, a: a.astype(np.float64), "exact"))
    add(Case("astype int32 -> float32", [i], False, lambda n, r, k: 8 * n,
             lambda L, a: a.astype(np.float32), "exact"))
    add(Case("copy contiguous float32", [u], False, lambda n, r, k: 8 * n, lambda L, a: a.copy(), "exact"))
    add(Case("copy strided a[:, ::2] float32", [u], True, lambda n, r, k: 4 * n,
             lambda L, a: a[:, ::2].copy(), "exact"))
    add(Case("copy transposed a.T float32", [u], True, lambda n, r, k: 8 * n, lambda L, a: a.T.copy(), "exact"))
    for op in ("sum", "max", "min", "mean", "argmax"):
        exact = "exact" if op in ("max", "min", "argmax") else "close"
        add(Case(f"{op} float32", [u], False, lambda n, r, k: 4 * n, _method(op), exact))
        add(Case(f"{op} axis=0 float32", [u], True, lambda n, r, k: 4 * n + 4 * k, _method(op, 0), exact))
        add(Case(f"{op} axis=1 float32", [u], True, lambda n, r, k: 4 * n + 4 * r, _method(op, 1), exact))
    add(Case("sum int32 -> int64", [i], False, lambda n, r, k: 4 * n, _method("sum"), "exact"))
    add(Case("cumsum int32 -> int64", [i], False, lambda n, r, k: 12 * n, lambda L, a: L.cumsum(a), "exact"))
    add(Case("cumsum float32", [s], False, lambda n, r, k: 8 * n, lambda L, a: L.cumsum(a), "exact"))
    add(Case("dot float32", [s, s], False, lambda n, r, k: 8 * n, lambda L, a, b_: L.dot(a, b_), "exact",
             threads=True))
    add(Case("random uniform float32", [], False, lambda n, r, k: 4 * n, lambda L, n: L.uniform(n), "stats"))
    add(Case("random normal float32", [], False, lambda n, r, k: 4 * n, lambda L, n: L.normal(n), "stats"))
    add(Case("random integers int32", [], False, lambda n, r, k: 4 * n, lambda L, n: L.integers(n), "stats"))
    add(Case("ElementwiseKernel axpy float32", [u, u], False, lambda n, r, k: 12 * n,
             lambda L, x, y: L.ew_axpy(x, y), "none"))
    add(Case("ReductionKernel dot float32", [s, s], False, lambda n, r, k: 8 * n,
             lambda L, x, y: L.red_dot(x, y), "exact", threads=True))
    add(Case("InclusiveScanKernel int32 (into out)", [i, o], False, lambda n, r, k: 8 * n,
             lambda L, x, out: L.scan_into(x, out), "exact"))
    return c


def _method(op: str, axis: int | None = None):
    def run(L, a):
        return getattr(a, op)() if axis is None else getattr(a, op)(axis=axis)

    return run


def shape_2d(n: int) -> tuple[int, int]:
    rows = 1 << ((n.bit_length() - 1) // 2)
    return rows, n // rows


_host_inputs: dict[Any, np.ndarray] = {}


def host_input(kind: str, dt: np.dtype, n: int, shape: tuple[int, ...]) -> np.ndarray:
    key = (kind, dt, n, shape)
    h = _host_inputs.get(key)
    if h is None:
        rng = np.random.default_rng(abs(hash(key)) % 2**32)
        count = shape[-1] if kind == "row" else n
        if kind in ("u", "row"):
            h = rng.random(count, dtype=np.float32)
        elif kind == "s":  # -1, 0, 1: every sum and prefix exact in float32, in any order
            h = (rng.integers(0, 3, count, dtype=np.int8) - 1).astype(dt)
        elif kind == "i":
            h = rng.integers(-1000, 1000, count, dtype=np.int32)
        elif kind == "b":
            h = rng.random(count, dtype=np.float32) < 0.5
        else:
            h = np.zeros(count, dt)
        h = h.reshape(shape[-1:] if kind == "row" else shape)
        if len(_host_inputs) >= 4:  # a few at a time: 2^28 elements are large
            _host_inputs.pop(next(iter(_host_inputs)))
        _host_inputs[key] = h
    return h


# ---- timing -----------------------------------------------------------------------------------


def sample(lib, fn: Callable[[], Any], per_call: bool, calls: int) -> float:
    """Seconds per call, once: CUDA events around the call on a GPU, the host clock on the CPU;
    for per-call rows, a loop of ``calls`` back-to-back calls to the device's end."""
    if per_call:
        lib.sync()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        lib.sync()
        return (time.perf_counter() - t0) / calls
    if lib.gpu:
        start, end = lib.events()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return _elapsed(lib, start, end) / 1e3
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _elapsed(lib, start, end) -> float:
    if isinstance(lib, CuPy):
        return lib.cp.cuda.get_elapsed_time(start, end)
    return start.elapsed_time(end)


# ---- checking ---------------------------------------------------------------------------------


def compare(case: Case, got: np.ndarray, want: np.ndarray, n: int) -> str:
    got, want = np.asarray(got), np.asarray(want)
    if case.check == "none":
        return "ok"
    if case.check == "stats":
        lo, hi = (0, 1000) if got.dtype.kind == "i" else ((0.0, 1.0) if "uniform" in case.name else (-np.inf, np.inf))
        if got.shape != want.shape or got.dtype != want.dtype:
            return f"shape/dtype {got.shape} {got.dtype} vs {want.shape} {want.dtype}"
        if got.size and (got.min() < lo or got.max() >= hi):
            return f"values outside [{lo}, {hi})"
        m, w = float(got.mean(dtype=np.float64)), float(want.mean(dtype=np.float64))
        spread = float(want.std(dtype=np.float64)) or 1.0
        return "ok" if abs(m - w) <= 6 * spread / np.sqrt(max(n, 1)) + 1e-6 else f"mean {m} vs {w}"
    if got.shape != want.shape:
        return f"shape {got.shape} vs {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} vs {want.dtype}"
    if case.check == "exact":
        bad = int(np.count_nonzero(got != want))
        return "ok" if bad == 0 else f"{bad} elements differ"
    ok = np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=case.rtol, atol=1e-6)
    return "ok" if ok else "differs beyond rtol %g" % case.rtol


# ---- the sweep --------------------------------------------------------------------------------


def inputs_for(case: Case, lib, n: int) -> list[Any]:
    rows, cols = shape_2d(n)
    shape = (rows, cols) if case.shape2d else (n,)
    if not case.inputs:
        return [n]
    return [lib.put(host_input(kind, np.dtype(dt), n, shape)) for kind, dt in case.inputs]


def sweep(device: mc.Device, n: int, small: int, repeat: int, only: list[str]) -> list[dict]:
    gpu = device.kind == "cuda"
    ours = Manycore(device)
    if gpu:
        try:
            anchors = [CuPy(device)]
        except ImportError:
            print("CuPy is not installed: the GPU rows have no anchor", file=sys.stderr)
            anchors = []
    else:
        anchors = [NumPy(None), NumPy(int(device.compute_units))]
    rows = []
    for case in cases():
        if only and not any(w in case.name for w in only):
            continue
        rows.append(measure_case(case, ours, anchors, n, repeat, device, per_call=False))
        rows.append(measure_case(case, ours, anchors, small, repeat, device, per_call=True))
        print(_line(rows[-2]), flush=True)
        print(_line(rows[-1]), flush=True)
        free_pools(device)
    return rows


def measure_case(case: Case, ours, anchors, n: int, repeat: int, device: mc.Device, per_call: bool) -> dict:
    rows_, cols = shape_2d(n)
    nbytes = case.bytes(n, rows_, cols)
    row = {"device": str(device), "operation": case.name, "elements": n, "bytes": nbytes,
           "per_call": per_call, "check": "", "note": ""}
    results, ready = {}, []
    calls = max(20, min(2000, (1 << 24) // max(n, 1)))
    for lib in [ours] + anchors:
        numpy_threads = isinstance(lib, NumPy) and lib.threads is not None
        if numpy_threads and not case.threads:
            row[lib.name] = None  # NumPy runs this single-threaded whatever the setting
            continue
        limit = (lambda lib=lib: blas_limits(lib.threads or 1)) if isinstance(lib, NumPy) and case.threads else None
        if limit is not None and not HAVE_THREADPOOLCTL:
            row["note"] = "threadpoolctl missing: NumPy's BLAS ran with its default threads"
            limit = None
            if numpy_threads:
                row[lib.name] = None
                continue
        try:
            with limit() if limit is not None else contextlib.nullcontext():
                args = inputs_for(case, lib, n)
                results[lib.name] = lib.host(case.run(lib, *args))
                args = inputs_for(case, lib, n)  # fresh inputs: in-place rows changed them
                fn = (lambda lib=lib, args=args: case.run(lib, *args))
                fn()
                lib.sync()
            ready.append((lib, fn, limit))
        except Exception as e:  # an anchor that lacks the call: say so in the table
            row[lib.name] = None
            row["note"] = f"{lib.name}: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    # Rounds that take one sample of each in turn: a burst of other work on the machine then
    # falls on every contender alike, not on whichever was being timed.
    samples: dict[str, list[float]] = {lib.name: [] for lib, _, _ in ready}
    for _ in range(3 if per_call else repeat):
        for lib, fn, limit in ready:
            with limit() if limit is not None else contextlib.nullcontext():
                samples[lib.name].append(sample(lib, fn, per_call, calls))
    for lib, _, _ in ready:
        got = samples[lib.name]
        row[lib.name] = statistics.median(got) if lib.gpu and not per_call else min(got)
    anchor_results = [results[a.name] for a in anchors if a.name in results]
    if ours.name in results and anchor_results:
        row["check"] = compare(case, results[ours.name], anchor_results[0], n)
    times = [row.get(a.name) for a in anchors if row.get(a.name)]
    mine = row.get(ours.name)
    row["anchor"] = min(times) if times else None
    row["ratio"] = (row["anchor"] / mine) if mine and row["anchor"] else None
    if row["ratio"] is not None and row["ratio"] < 1.0 and not per_call and not row["note"]:
        row["note"] = WHY_BELOW.get((device.kind, case.name),
                                    "no known cause outside manycore: a defect to find")
    return row


def free_pools(device: mc.Device) -> None:
    if device.kind == "cuda":
        mc.synchronize(device)
        mc.cuda.memory_pool(device).free_all_blocks()
        try:
            import cupy

            cupy.get_default_memory_pool().free_all_blocks()
        except ImportError:
            pass


def _line(r: dict) -> str:
    mine = r.get("manycore")
    if mine is None:
        return f"{r['operation']:<40} {size_label(r['elements'])}: manycore failed: {r['note']}"
    rate = f"{r['bytes'] / mine / 1e9:8.1f} GB/s" if not r["per_call"] else f"{mine * 1e6:8.2f} us/call"
    ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "-"
    return f"{r['operation']:<40} {size_label(r['elements']):>5} {rate} {ratio:>7} check {r['check']} {r['note']}"


# ---- the table --------------------------------------------------------------------------------


def anchor_names(device: mc.Device) -> list[str]:
    if device.kind == "cuda":
        return ["CuPy"]
    return ["NumPy", f"NumPy ({int(device.compute_units)} threads)"]


def markdown(rows: list[dict], devices: list[mc.Device], info: dict, command: str) -> str:
    out = ["<!--\nSPDX-License-Identifier: BSD-3-Clause\nSPDX-FileCopyrightText: manycore developers\n-->",
           f"# The array layer against its anchors, {info['date'][:10]}", "",
           "| machine | |", "|---|---|"]
    for key in ("date", "cpu", "nproc", "memory_gib", "os", "compiler", "python", "numpy", "manycore",
                "manycore_threads", "load_average_at_start", "commit"):
        out.append(f"| {key} | {info[key]} |")
    for d in devices:
        if d.kind == "cuda":
            out.append(f"| {d} | {d.name}, {d.compute_units} multiprocessors |")
            try:
                import cupy

                out.append(f"| CuPy | {cupy.__version__} |")
            except ImportError:
                pass
    try:
        import threadpoolctl

        out.append(f"| threadpoolctl | {threadpoolctl.__version__} |")
    except ImportError:
        pass
    out += ["", f"`{command}`, one process. GB/s count the bytes a perfect implementation must move "
            "(each input element read once, each output element written once); ratio = manycore / "
            "anchor (the faster anchor where there are two); `check` compares manycore's result with "
            "the anchor's. Per-call rows: microseconds per call in a loop of back-to-back calls.", ""]
    for d in devices:
        names = anchor_names(d)
        for per_call in (False, True):
            sel = [r for r in rows if r["device"] == str(d) and r["per_call"] == per_call]
            if not sel:
                continue
            size = size_label(sel[0]["elements"])
            unit = "µs per call" if per_call else "GB/s"
            out += [f"## {d}, {size} elements ({'per-call time' if per_call else 'throughput'})", "",
                    "| operation | bytes/element | manycore | " + " | ".join(names) + " | ratio | check | why below 1.0 |",
                    "|---|---:|---:|" + "---:|" * len(names) + "---:|---|---|"]
            for r in sel:
                def cell(t):
                    if t is None:
                        return "—"
                    return f"{t * 1e6:.2f}" if per_call else f"{r['bytes'] / t / 1e9:.1f}"
                ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "—"
                note = r["note"] if (r["ratio"] is not None and r["ratio"] < 1.0) or not r["ratio"] else ""
                out.append(f"| {r['operation']} | {r['bytes'] / r['elements']:g} | {cell(r.get('manycore'))} | "
                           + " | ".join(cell(r.get(nm)) for nm in names)
                           + f" | {ratio} | {r['check']} | {note} |")
            out += ["", f"Unit: {unit}."]
            out.append("")
    return "\n".join(out) + "\n"


def write(rows: list[dict], devices: list[mc.Device], folder: Path, command: str) -> Path:
    info = machine_info()
    gpus = [d for d in devices if d.kind == "cuda"]
    slug = machine_slug(info)
    if gpus:
        name = gpus[0].name.lower()
        slug = "-".join(w for w in name.replace("nvidia", "nvidia ").split()[:2]) + "-gpu"
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{info['date'][:10]}-{slug}-sweep.md"
    md.write_text(markdown(rows, devices, info, command))
    columns = ["device", "operation", "elements", "bytes", "per_call", "manycore", "CuPy", "NumPy"] + \
        sorted({k for r in rows for k in r if k.startswith("NumPy (")}) + ["anchor", "ratio", "check", "note"]
    with md.with_suffix(".csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns + ["date", "cpu", "commit"], extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "date": info["date"], "cpu": info["cpu"], "commit": info["commit"]})
    return md


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", action="append", help="cpu, cuda, cuda:N (repeatable; default: every device)")
    p.add_argument("--size", type=parse_size, default=None, help="elements (default 2^28 on a GPU, 2^24 on the CPU)")
    p.add_argument("--small", type=parse_size, default=1 << 16, help="elements of the per-call table (default 2^16)")
    p.add_argument("--repeat", type=int, default=10, help="timed runs per row (default 10)")
    p.add_argument("--only", action="append", default=[], help="rows whose name contains this (repeatable)")
    p.add_argument("--out", type=Path, default=HERE.parent / "results", help="folder of the results")
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args(argv)
    devices = [mc.Device(d) for d in args.device] if args.device else mc.devices()
    rows = []
    for d in devices:
        n = args.size or ((1 << 28) if d.kind == "cuda" else (1 << 24))
        print(f"== {d} ({d.name}), {size_label(n)} and {size_label(args.small)} elements", flush=True)
        rows += sweep(d, n, args.small, args.repeat, args.only)
    if not args.no_write:
        command = "python bench/arrays/sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
        print("wrote", write(rows, devices, args.out, command.strip()))
    bad = [r for r in rows if r["check"] not in ("ok", "")]
    for r in bad:
        print(f"FAIL: {r['device']} {r['operation']} {size_label(r['elements'])}: {r['check']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

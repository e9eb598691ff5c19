# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What a device can do, measured here: memory bandwidth (STREAM's copy and triad) and the
FP32 and FP64 FMA rates, so that "% of peak" is against this machine, not a datasheet.

On the CPU the measures are hand-written C++ loops (``peak_cpu.cpp``, OpenMP), built with the
host compiler manycore uses and run on the CPU device's threads: manycore's own kernels are
never their own yardstick. On a GPU they are kernels of their own (a vectorised copy and
triad, independent FMA chains), timed with CUDA events. Results are kept in the manycore cache
folder (``peaks/``), keyed by the device and the machine; ``manycore peak --refresh`` measures
again.

>>> from manycore.tools import peak
>>> p = peak.peaks("cpu")          # doctest: +SKIP
>>> print(p.bandwidth / 1e9, "GB/s")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._progress import bar

__all__ = ["Peaks", "cached", "measure", "peaks", "cache_path", "format_peaks"]

#: Elements per array of the CPU's STREAM loops (3 arrays of float64: 384 MiB, far past any
#: cache) and of the GPU's (float32, 3 arrays: 768 MiB).
CPU_ELEMENTS = 1 << 24
GPU_ELEMENTS = 1 << 26


@dataclass(frozen=True)
class Peaks:
    """A device's measured peaks: bytes and floating-point operations per second."""

    device: str          # "cpu", "cuda:0"
    name: str            # the device's name
    machine: str         # the host it was measured on
    threads: int         # CPU threads (0 on a GPU)
    copy: float          # bytes/s, STREAM copy (2 x 8 bytes an element)
    triad: float         # bytes/s, STREAM triad (3 x 8 bytes an element)
    fp32: float          # FLOP/s, FMAs counted as 2
    fp64: float
    measured: str        # ISO date and time
    method: str          # how, in words

    @property
    def bandwidth(self) -> float:
        """The memory roof: the faster of copy and triad."""
        return max(self.copy, self.triad)

    def flops(self, dtype: str = "float32") -> float:
        return self.fp64 if dtype in ("float64", "fp64", "double") else self.fp32


def _device(device: Any) -> Any:
    import manycore as mc

    if device is None:
        return mc.default_device()
    return device if isinstance(device, mc.Device) else mc.Device(str(device))


def _machine_key(device: Any) -> dict[str, Any]:
    from manycore import _core

    key = {"device": str(device), "name": device.name, "machine": platform.node()}
    if device.kind == "cpu":
        key["threads"] = _core.num_threads()
        key["compiler"] = _core.compiler_info().get("version", "")
    else:
        key["compute_capability"] = list(device.compute_capability)
    return key


def cache_path(device: Any = None) -> Path:
    """Where the peaks of ``device`` on this machine are kept."""
    from manycore import _core

    device = _device(device)
    root = Path(_core.cache_info()["directory"]).parent / "peaks"
    digest = hashlib.sha256(json.dumps(_machine_key(device), sort_keys=True).encode()).hexdigest()
    return root / f"{str(device).replace(':', '-')}-{digest[:16]}.json"


def cached(device: Any = None) -> Peaks | None:
    """The peaks measured earlier for ``device`` on this machine, or None."""
    path = cache_path(device)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Peaks(**data)
    except (OSError, ValueError, TypeError):
        return None


def _store(p: Peaks, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".peak-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(p), f, indent=1)
    os.replace(tmp, path)


def peaks(device: Any = None, *, refresh: bool = False) -> Peaks:
    """The peaks of ``device``: from the cache, else (or with ``refresh``) measured now."""
    if not refresh:
        found = cached(device)
        if found is not None:
            return found
    return measure(device)


def measure(device: Any = None, *, elements: int | None = None, repeat: int = 5) -> Peaks:
    """Measures the peaks of ``device`` now (a progress bar on a terminal) and caches them."""
    device = _device(device)
    if device.kind == "cpu":
        p = _measure_cpu(device, elements or CPU_ELEMENTS, repeat)
    else:
        p = _measure_gpu(device, elements or GPU_ELEMENTS, repeat)
    _store(p, cache_path(device))
    return p


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# CPU: hand-written loops


def _measure_cpu(device: Any, elements: int, repeat: int) -> Peaks:
    from manycore import _core

    compiler = _core.compiler_info()
    if not compiler.get("available"):
        raise RuntimeError(f"manycore peak: no host compiler: {compiler.get('reason', '')}")
    threads = _core.num_threads()
    source = Path(__file__).with_name("peak_cpu.cpp")
    iterations = 1 << 24
    values: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="manycore-peak-") as folder, \
            bar(5, "manycore peak cpu") as progress:
        binary = os.path.join(folder, "peak_cpu")
        progress.update(0, "compiling")
        build = subprocess.run(
            [compiler["path"], "-std=gnu++17", "-O3", "-march=native", "-ffp-contract=fast",
             "-fopenmp", str(source), "-o", binary],
            capture_output=True, text=True, check=False)
        if build.returncode != 0:
            raise RuntimeError(f"manycore peak: building {source.name} failed:\n{build.stderr}")
        progress.update(1, "copy")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="spread",
                   OMP_PLACES="cores")
        with subprocess.Popen([binary, str(elements), str(repeat), str(iterations)],
                              stdout=subprocess.PIPE, text=True, env=env) as run:
            assert run.stdout is not None
            following = {"copy": "triad", "triad": "fp32", "fp32": "fp64", "fp64": "done"}
            for line in run.stdout:
                name, _, value = line.partition(" ")
                values[name] = float(value)
                if name in following:
                    progress.update(1, following[name])
        if run.returncode != 0 or not {"copy", "triad", "fp32", "fp64"} <= values.keys():
            raise RuntimeError(f"manycore peak: the measuring program failed (status "
                               f"{run.returncode})")
    return Peaks(str(device), device.name, platform.node(), threads, values["copy"],
                 values["triad"], values["fp32"], values["fp64"], _now(),
                 f"C++ loops ({Path(compiler['path']).name} -O3 -march=native, OpenMP, "
                 f"{threads} threads), STREAM over 3 x {elements} float64, best of {repeat}")


# ---------------------------------------------------------------------------------------------
# GPU: kernels of their own, timed with events

_GPU_SOURCE = r"""
__global__ void peak_copy(long n, const float4* __restrict__ a, float4* __restrict__ c) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        c[i] = a[i];
}
__global__ void peak_triad(long n, float s, const float4* __restrict__ b,
                           const float4* __restrict__ c, float4* __restrict__ a) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
        float4 x = b[i], y = c[i];
        a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
    }
}
template <class T>
__device__ void fma_chains(T* out, int iterations) {
    T m = (T)0.9999999, add = (T)1e-7;
    T x0 = threadIdx.x, x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3, x4 = x0 + 4, x5 = x0 + 5,
      x6 = x0 + 6, x7 = x0 + 7;
    for (int i = 0; i < iterations; ++i) {
        x0 = x0 * m + add; x1 = x1 * m + add; x2 = x2 * m + add; x3 = x3 * m + add;
        x4 = x4 * m + add; x5 = x5 * m + add; x6 = x6 * m + add; x7 = x7 * m + add;
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}
__global__ void peak_fp32(float* out, int iterations) { fma_chains(out, iterations); }
__global__ void peak_fp64(double* out, int iterations) { fma_chains(out, iterations); }
"""


def _measure_gpu(device: Any, elements: int, repeat: int) -> Peaks:
    import numpy as np

    import manycore as mc

    mod = mc.SourceModule(_GPU_SOURCE, device=device)
    n4 = elements // 4
    a = mc.zeros(elements, np.float32, device=device)
    b = mc.zeros(elements, np.float32, device=device)
    c = mc.zeros(elements, np.float32, device=device)
    block = 256
    grid = device.compute_units * 32
    stream = mc.Stream(device)
    start, end = mc.Event(device), mc.Event(device)

    def best(launch: Any) -> float:
        launch()  # warm-up
        times = []
        for _ in range(repeat):
            start.record(stream)
            launch()
            end.record(stream)
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return min(times)

    iterations = 1 << 14
    fma_grid = device.compute_units * 64
    out32 = mc.empty(fma_grid * block, np.float32, device=device)
    out64 = mc.empty(fma_grid * block, np.float64, device=device)
    with bar(4, f"manycore peak {device}") as progress:
        progress.update(0, "copy")
        t = best(lambda: mod.get_function("peak_copy")(n4, a, c, grid=grid, block=block,
                                                      stream=stream))
        copy = 2 * 4 * elements / t
        progress.update(1, "triad")
        t = best(lambda: mod.get_function("peak_triad")(n4, np.float32(3), b, c, a, grid=grid,
                                                       block=block, stream=stream))
        triad = 3 * 4 * elements / t
        progress.update(1, "fp32")
        flops = 2 * 8 * iterations * fma_grid * block
        fp32 = flops / best(lambda: mod.get_function("peak_fp32")(
            out32, iterations, grid=fma_grid, block=block, stream=stream))
        progress.update(1, "fp64")
        fp64 = flops / best(lambda: mod.get_function("peak_fp64")(
            out64, iterations, grid=fma_grid, block=block, stream=stream))
        progress.update(1)
    return Peaks(str(device), device.name, platform.node(), 0, copy, triad, fp32, fp64, _now(),
                 f"manycore GPU kernels, STREAM over 3 x {elements} float32 (float4 loads), "
                 f"8 FMA chains a thread, CUDA events, best of {repeat}")


def format_peaks(p: Peaks) -> str:
    """The peaks as a few aligned lines."""
    from .timing import format_table

    rows = [
        ["memory bandwidth, copy", f"{p.copy / 1e9:.1f} GB/s"],
        ["memory bandwidth, triad", f"{p.triad / 1e9:.1f} GB/s"],
        ["FP32 (FMA)", f"{p.fp32 / 1e9:.1f} GFLOP/s"],
        ["FP64 (FMA)", f"{p.fp64 / 1e9:.1f} GFLOP/s"],
    ]
    head = f"{p.device} ({p.name}) on {p.machine}, measured {p.measured}"
    return head + "\n" + format_table(["measure", "peak"], rows, right=(1,)) + f"\n{p.method}"


# ---------------------------------------------------------------------------------------------
# `manycore peak`


def add_arguments(parser: Any) -> None:
    """The options of ``manycore peak``."""
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or cuda:N (default: the default device)")
    parser.add_argument("--refresh", action="store_true",
                        help="measure again even when peaks are cached")
    parser.add_argument("--json", action="store_true", help="print the peaks as JSON")


def command(args: Any) -> int:
    """``manycore peak [--device D] [--refresh] [--json]``."""
    p = peaks(args.device, refresh=args.refresh)
    print(json.dumps(asdict(p), indent=1) if args.json else format_peaks(p))
    return 0

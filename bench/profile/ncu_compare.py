# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The memory profile against Nsight Compute: the same kernels, counted by manycore on the CPU
and measured by ``ncu`` on a GPU.

Kernels: a coalesced and a strided copy, a naive transpose, a shared-memory transpose without
and with padding, and the interleaved-addressing and sequential-addressing tree reductions.
Each runs once on the GPU under ``ncu`` (global load and store requests and sectors, shared
load and store wavefronts and bank conflicts, and the share of uniform branches), and once on
the CPU inside ``mc.profile(memory=True)`` with the same sizes; the table gives both and their
difference. Branch divergence is not compared (ncu counts it on machine code, whose branches
are not the source's), only shown.

    python bench/profile/ncu_compare.py [--out FILE.md] [--ncu PATH]
    python bench/profile/ncu_compare.py --gpu-run     (what ncu runs: the kernels on the GPU)

Needs a GPU, ncu (on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin) and permission to read
the GPU's counters. tools/run_gpu_tests.sh runs it as its `profile` step.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

SOURCE = r"""
__global__ void copy_coalesced(int n, const float* in, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i];
}
__global__ void copy_strided(int n, const float* in, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[(2 * i) % n];
}
__global__ void transpose_naive(int side, const float* in, float* out) {
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 32 + threadIdx.y;
    for (int j = 0; j < 32; j += 8)
        out[x * side + y + j] = in[(y + j) * side + x];
}
TILED_TRANSPOSE
__global__ void reduce_interleaved(const float* in, float* out) {
    __shared__ float s[256];
    unsigned t = threadIdx.x;
    s[t] = in[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (unsigned stride = 1; stride < blockDim.x; stride *= 2) {
        unsigned index = 2 * stride * t;
        if (index < blockDim.x) s[index] += s[index + stride];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
__global__ void reduce_sequential(const float* in, float* out) {
    __shared__ float s[256];
    unsigned t = threadIdx.x;
    s[t] = in[blockIdx.x * blockDim.x + t];
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) s[t] += s[t + stride];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}
"""

# The shared-memory transpose, without padding (32 columns) and with (33).
TILED = r"""
__global__ void NAME(int side, const float* in, float* out) {
    __shared__ float tile[32][COLUMNS];
    int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 32 + threadIdx.y;
    for (int j = 0; j < 32; j += 8)
        tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * side + x];
    __syncthreads();
    x = blockIdx.y * 32 + threadIdx.x;
    y = blockIdx.x * 32 + threadIdx.y;
    for (int j = 0; j < 32; j += 8)
        out[(y + j) * side + x] = tile[threadIdx.x][threadIdx.y + j];
}
"""
SOURCE = SOURCE.replace("TILED_TRANSPOSE", "".join(
    TILED.replace("NAME", name).replace("COLUMNS", columns)
    for name, columns in (("transpose_shared", "32"), ("transpose_padded", "33"))))

N = 1 << 20
SIDE = 1024
BLOCK = 256

#: (ncu metric, what manycore counts: (space, access, field)), in the table's order.
METRICS = [
    ("l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum", ("global", "load", "requests")),
    ("l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum", ("global", "load", "sectors")),
    ("l1tex__t_requests_pipe_lsu_mem_global_op_st.sum", ("global", "store", "requests")),
    ("l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum", ("global", "store", "sectors")),
    ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum", ("shared", "load", "wavefronts")),
    ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum", ("shared", "load", "conflicts")),
    ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum", ("shared", "store", "wavefronts")),
    ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum", ("shared", "store", "conflicts")),
]
BRANCH_METRIC = "smsp__sass_average_branch_targets_threads_uniform.pct"


def launches(device):
    """Each kernel's launch on ``device``: (name, function, args, grid, block)."""
    import manycore as mc

    mod = mc.SourceModule(SOURCE, device=device)
    rng = np.random.default_rng(1)
    x = mc.to_device(rng.random(N, dtype=np.float32), device)
    y = mc.zeros(N, np.float32, device=device)
    partial = mc.zeros(N // BLOCK, np.float32, device=device)
    tiles = (SIDE // 32, SIDE // 32)
    return [
        ("copy_coalesced", (N, x, y), N // BLOCK, BLOCK),
        ("copy_strided", (N, x, y), N // BLOCK, BLOCK),
        ("transpose_naive", (SIDE, x, y), tiles, (32, 8)),
        ("transpose_shared", (SIDE, x, y), tiles, (32, 8)),
        ("transpose_padded", (SIDE, x, y), tiles, (32, 8)),
        ("reduce_interleaved", (x, partial), N // BLOCK, BLOCK),
        ("reduce_sequential", (x, partial), N // BLOCK, BLOCK),
    ], mod


def gpu_run() -> int:
    """The kernels on the GPU, once each (ncu measures this process)."""
    import manycore as mc

    device = mc.Device("cuda")
    cases, mod = launches(device)
    for name, args, grid, block in cases:
        mod.get_function(name)(*args, grid=grid, block=block)
    mc.synchronize(device)
    return 0


def counted() -> dict[str, dict[str, float]]:
    """manycore's counts of each kernel, on the CPU."""
    import manycore as mc

    cases, mod = launches(mc.Device("cpu"))
    out: dict[str, dict[str, float]] = {}
    with mc.profile(memory=True) as p:
        for name, args, grid, block in cases:
            mod.get_function(name)(*args, grid=grid, block=block)
    for name, *_ in cases:
        sites = p.sites(name)
        values: dict[str, float] = {}
        for metric, (space, access, field) in METRICS:
            chosen = [s for s in sites if s.space == space and s.access == access]
            if field == "conflicts":
                values[metric] = sum(s.bank_conflicts for s in chosen)
            else:
                values[metric] = sum(getattr(s, field) for s in chosen)
        branches = p.branches(name)
        steps = sum(b.warp_steps for b in branches)
        values[BRANCH_METRIC] = (100.0 * (1 - sum(b.divergent for b in branches) / steps)
                                 if steps else 100.0)
        out[name] = values
    return out


def find_ncu(given: str | None) -> str | None:
    if given:
        return given
    found = shutil.which("ncu")
    if found:
        return found
    for folder in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if folder and os.access(os.path.join(folder, "bin", "ncu"), os.X_OK):
            return os.path.join(folder, "bin", "ncu")
    return None


def measured(ncu: str) -> tuple[dict[str, dict[str, float]], str]:
    """ncu's values of each kernel, and its output when something went wrong."""
    metrics = [m for m, _ in METRICS] + [BRANCH_METRIC]
    run = subprocess.run(
        [ncu, "--csv", "--print-units", "base", "--metrics", ",".join(metrics),
         sys.executable, str(Path(__file__).resolve()), "--gpu-run"],
        capture_output=True, text=True, check=False, timeout=420)
    lines = [line for line in run.stdout.splitlines() if line.startswith('"')]
    out: dict[str, dict[str, float]] = {}
    for record in csv.DictReader(io.StringIO("\n".join(lines))):
        kernel = record.get("Kernel Name", "").split("(")[0].split("<")[0].strip()
        try:
            value = float(record.get("Metric Value", "").replace(",", ""))
        except ValueError:
            continue
        out.setdefault(kernel, {})[record.get("Metric Name", "")] = value
    problem = "" if out else (run.stdout[-2000:] + run.stderr[-2000:])
    return out, problem


def table(ours: dict, theirs: dict) -> tuple[list[str], int]:
    rows = ["| kernel | metric | manycore (CPU) | ncu (GPU) | difference |", "|---|---|---:|---:|---:|"]
    misses = 0
    for kernel, values in ours.items():
        for metric, _ in METRICS:
            mine, measured_value = values[metric], theirs.get(kernel, {}).get(metric)
            if measured_value is None:
                diff = "not measured"
            elif mine == measured_value == 0:
                diff = "0%"
            else:
                rel = (mine - measured_value) / max(abs(measured_value), 1.0)
                diff = f"{100 * rel:+.1f}%"
                misses += abs(rel) > 0.02
            shown = "-" if measured_value is None else f"{measured_value:.0f}"
            rows.append(f"| {kernel} | `{metric}` | {mine:.0f} | {shown} | {diff} |")
        uniform = theirs.get(kernel, {}).get(BRANCH_METRIC)
        rows.append(f"| {kernel} | uniform branches (shown, not compared) | "
                    f"{values[BRANCH_METRIC]:.1f}% of source-level warp steps | "
                    f"{'-' if uniform is None else f'{uniform:.1f}%'} of machine-code branches | |")
    return rows, misses


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu-run", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ncu", help="the ncu program (default: found on PATH or in CUDA's bin)")
    p.add_argument("--out", type=Path, help="write the comparison as Markdown here")
    args = p.parse_args(argv)
    if args.gpu_run:
        return gpu_run()
    ncu = find_ncu(args.ncu)
    ours = counted()
    if ncu is None:
        theirs, problem = {}, "ncu not found (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin)"
    else:
        theirs, problem = measured(ncu)
    import manycore as mc

    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    rows, misses = table(ours, theirs)
    head = [f"# The memory profile against Nsight Compute, {datetime.date.today()}", "",
            f"GPU: {gpus[0].name if gpus else 'none'}; ncu: {ncu or 'not found'}; manycore "
            f"{mc.__version__}. Sizes: copies and reductions {N} float32 (block {BLOCK}), "
            f"transposes {SIDE} x {SIDE} float32 (tiles of 32 x 32, blocks of 32 x 8). "
            "manycore's counts come from `mc.profile(memory=True)` on the CPU; ncu's from the "
            "GPU. Bank conflicts are passes beyond one per request (8- and 16-byte accesses: "
            "beyond the 2 and 4 they need).", ""]
    if problem:
        head += ["ncu gave no values:", "", "```", problem.strip(), "```", ""]
    text = "\n".join(head + rows + ["", f"{misses} values differ by more than 2%."]) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if not problem and misses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The GPU scan's tile shape: warps per block, steps (32 lanes x 16 bytes) per warp and threads
per multiprocessor (launch bounds), timed on 2**28 int32 (random, checked against NumPy first),
counted as 2 passes of bytes like bench/arrays.

    python bench/arrays/scan_tiles.py [--n N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import manycore as mc
import manycore.scan as scan_module


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2**28)
    args = p.parse_args()
    dev = next((d for d in mc.devices() if d.kind == "cuda"), None)
    if dev is None:
        print("no GPU on this machine")
        return
    n = args.n
    host = np.random.default_rng(1).integers(-1000, 1000, n, dtype=np.int32)
    x, out = mc.to_device(host, dev), mc.empty(n, np.int32, dev)
    want = np.cumsum(host, dtype=np.int32)
    default = scan_module.WARPS, scan_module.STEPS, scan_module.OCCUPANCY
    print("| warps per block | steps per warp | threads per SM | ms | GB/s (2 passes) |\n|---:|---:|---:|---:|---:|")
    for warps in (16, 32):
        for steps in (4, 8):
            for occupancy in (1024, 2048):
                scan_module.WARPS, scan_module.STEPS, scan_module.OCCUPANCY = warps, steps, occupancy
                kernel = mc.InclusiveScanKernel(np.int32, "a + b")
                kernel(x, out)
                assert np.array_equal(out.get(), want), (warps, steps, occupancy)
                best = float("inf")
                for _ in range(10):
                    mc.synchronize(dev)
                    t0 = time.perf_counter()
                    kernel(x, out)
                    mc.synchronize(dev)
                    best = min(best, time.perf_counter() - t0)
                print(f"| {warps} | {steps} | {occupancy} | {best * 1e3:.3f} | {8 * n / best / 1e9:.0f} |")
    scan_module.WARPS, scan_module.STEPS, scan_module.OCCUPANCY = default


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The measured peaks the labs compare their throughput with: never a number from a data sheet.

They are `manycore peak`'s (:mod:`manycore.tools.peak`): on the CPU hand-written C++ loops (a
STREAM copy and triad, independent FMA chains, OpenMP) built with the compiler manycore uses and
run on the CPU device's threads; on a GPU kernels of their own timed with events. Measured once
per device and machine and kept beside the compile cache, so a course running lab after lab
does not measure again; `manycore peak --refresh` measures anew.
"""

from __future__ import annotations

import manycore as mc

__all__ = ["measure_peak"]

_measured: dict[str, dict] = {}


def measure_peak(device: mc.Device) -> dict:
    """The peaks of ``device``: ``bandwidth`` (bytes/s), ``flops`` (FP32 FLOP/s), ``how`` and
    ``measured`` (kept for the process, and on disk by `manycore peak`)."""
    key = str(device)
    if key not in _measured:
        from manycore.tools.peak import peaks

        p = peaks(device)
        _measured[key] = {"bandwidth": p.bandwidth, "flops": p.fp32, "fp64": p.fp64,
                          "how": p.method, "measured": p.measured}
    return _measured[key]

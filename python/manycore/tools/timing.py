# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Timing small pieces of code the way the tour and the benchmarks report them, and the plain
text tables they print.

>>> from manycore.tools.timing import measure, format_seconds
>>> t = measure(lambda: sum(range(1000)), repeat=5, warmup=1)
>>> t.best <= t.median
True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Timing", "measure", "format_seconds", "format_rate", "format_bytes", "format_table"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one measured function, over ``repeat`` samples."""

    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        """The fastest sample: the run least disturbed by the rest of the machine."""
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def repeat(self) -> int:
        return len(self.samples)

    def __str__(self) -> str:
        return (
            f"best {format_seconds(self.best)}, median {format_seconds(self.median)} "
            f"of {self.repeat}"
        )


def measure(
    fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1, number: int = 1
) -> Timing:
    """Calls ``fn`` ``warmup`` times untimed, then takes ``repeat`` samples of ``number`` calls
    each; every sample is the seconds per call.

    The warm-up runs pay for what only the first call pays (page faults on fresh arrays, lazy
    loading, the thread pool starting), which is not what a steady-state number should show.
    ``number > 1`` is for calls so short that one ``perf_counter`` pair would dominate them.
    """
    if repeat < 1 or number < 1 or warmup < 0:
        raise ValueError("measure(): repeat and number must be >= 1 and warmup >= 0")
    for _ in range(warmup):
        fn()
    clock = time.perf_counter
    samples = []
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - start) / number)
    return Timing(tuple(samples))


def format_seconds(seconds: float) -> str:
    """A duration with three significant digits in the unit that suits it: '812 µs'."""
    if seconds != seconds:  # NaN: a measurement that did not happen
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{_three_digits(seconds / scale)} {unit}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def format_rate(ratio: float) -> str:
    """A speedup or ratio: '1.23x', '187x'."""
    if ratio != ratio:
        return "-"
    return f"{_three_digits(ratio)}x"


def format_bytes(count: float) -> str:
    """A size in binary units: '1.5 GiB'."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _three_digits(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.1 or x == 0:
        return f"{x:.2f}"
    return f"{x:.2g}"  # 0.0031x: significant digits, never a bare 0.00


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()
) -> str:
    """Rows as plain aligned text under a header and a rule; columns listed in ``right`` are
    right-aligned (numbers), the others left-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])

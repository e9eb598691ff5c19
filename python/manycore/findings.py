# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What checked mode reports: one :class:`Finding` per distinct bug found in a launch.

Checked launches on the CPU, bounds checks on a GPU and the summaries of compute-sanitizer's
reports all produce the same records, so a student reads one format whichever tool found the
bug. ``KernelFault.findings`` holds them; ``manycore check`` prints them grouped by kernel.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "KINDS"]

#: The kinds of bug checked mode tells apart, exactly as they appear in ``Finding.kind``.
KINDS = ("out-of-bounds", "race", "barrier-divergence", "uninitialized-read", "arithmetic",
         "spin-wait")

Dim3 = tuple[int, int, int]


@dataclass(frozen=True)
class Finding:
    """One distinct bug: what, where in the source, in which array, by which thread.

    ``space`` is ``"global"`` (a pointer parameter) or ``"shared"`` (a ``__shared__`` array);
    ``variable`` is the parameter's or shared array's name. ``index`` and ``extent`` are in
    elements of the array's type; ``access`` is ``"read"`` or ``"write"``. For a race the
    ``other_*`` fields describe the second access; for barrier divergence ``line`` is where the
    waiting threads wait and ``other_line`` where the others went (``None`` when they returned
    early or never reached a barrier). Fields a tool could not know are ``None``.
    """

    kind: str
    kernel: str
    message: str
    variable: str | None = None
    space: str | None = None
    index: int | None = None
    extent: int | None = None
    access: str | None = None
    line: int | None = None
    block: Dim3 | None = None
    thread: Dim3 | None = None
    other_access: str | None = None
    other_line: int | None = None
    other_block: Dim3 | None = None
    other_thread: Dim3 | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Finding.kind must be one of {KINDS}, not {self.kind!r}")

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (coordinates as lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`; unknown keys are an error, missing ones ``None``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"Finding.from_dict: unknown fields {sorted(unknown)}")
        values = dict(data)
        for key in ("block", "thread", "other_block", "other_thread"):
            if values.get(key) is not None:
                values[key] = tuple(int(v) for v in values[key])
        return cls(**values)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's streams and events, and what a timed region should not contain.

Between two events a program means to time its kernels. The layer notes, with host times, what
else ran in between that PyCUDA's programs often put there by mistake: compiling a
``SourceModule`` and the copies of ``In``/``Out``/``InOut``. ``time_till`` then warns (a
``CompatWarning``) with how long those took, and also when the host never waited for the end
event (on a GPU the kernel may still run, and PyCUDA then raises "not ready").
"""

from __future__ import annotations

import itertools
import time
import warnings
from typing import Any

from .. import _core
from ..errors import CompatWarning
from ._context import current_device

__all__ = ["Stream", "Event", "note_compile", "note_handler_copy", "host_waited"]

_sequence = itertools.count(1)
_last_wait = 0  # sequence number of the last host wait: events recorded before it are reached
_log: list[tuple[float, float, str]] = []  # (start, seconds, "compile" | "copy") of costly steps
_LOG_KEPT = 1000
_warned: set[tuple[str, int, int]] = set()  # (kind, start, end) already warned about


def host_waited() -> None:
    """The host waited for all work queued so far (a synchronize, a blocking copy)."""
    global _last_wait
    _last_wait = next(_sequence)


def _note(start: float, what: str) -> None:
    _log.append((start, time.perf_counter() - start, what))
    if len(_log) > _LOG_KEPT:
        del _log[: _LOG_KEPT // 2]


def note_compile(start: float) -> None:
    """A SourceModule was built from ``start`` (perf_counter) until now."""
    _note(start, "compile")


def note_handler_copy(start: float) -> None:
    """A copy of In/Out/InOut ran from ``start`` until now."""
    _note(start, "copy")


class Stream(_core.Stream):
    """A stream of the current context's device (PyCUDA's ``driver.Stream``)."""

    def __init__(self, flags: int = 0) -> None:
        super().__init__(current_device())

    @property
    def mc_stream(self) -> Stream:
        return self

    def synchronize(self) -> None:
        super().synchronize()
        host_waited()

    def is_done(self) -> bool:
        return self.query()

    def wait_for_event(self, event: Event) -> None:
        self.wait_event(event)


class Event(_core.Event):
    """An event of the current context's device (PyCUDA's ``driver.Event``): ``record``,
    ``synchronize``, ``query``, ``time_till``/``time_since`` in milliseconds."""

    def __init__(self, flags: int = 0) -> None:
        super().__init__(current_device(), True)
        self._recorded_at: float | None = None
        self._sequence = 0

    def record(self, stream: Any = None) -> Event:
        super().record(stream)
        self._recorded_at = time.perf_counter()
        self._sequence = next(_sequence)
        return self

    def synchronize(self) -> Event:
        super().synchronize()
        host_waited()
        return self

    def time_till(self, end: Event) -> float:
        """Milliseconds from this event to ``end``."""
        _check_region(self, end)
        return self.elapsed_time(end)

    def time_since(self, start: Event) -> float:
        """Milliseconds from ``start`` to this event."""
        _check_region(start, self)
        return start.elapsed_time(self)

    def ipc_handle(self) -> bytes:
        raise NotImplementedError("Event.ipc_handle(): inter-process events are not supported")


def _warn(kind: str, message: str) -> None:
    w = CompatWarning(message)
    w.kind = kind
    warnings.warn(w, stacklevel=4)  # the user's time_till / time_since


def _check_region(start: Event, end: Event) -> None:
    if start._recorded_at is None or end._recorded_at is None:
        return  # the driver's own error follows
    pair = (id(start), id(end))
    if end._sequence > _last_wait and ("event-not-reached", *pair) not in _warned:
        _warned.add(("event-not-reached", *pair))
        _warn("event-not-reached",
              "time_till()/time_since(): the host never waited for the end event after it was "
              "recorded, so on a GPU the kernels before it may still be running, and PyCUDA then "
              "raises LogicError (cuEventElapsedTime: device not ready) or times too little. "
              "Call end.synchronize() (or pycuda.driver.Context.synchronize()) after "
              "end.record() and before time_till(); manycore waited for it here")
    if end._sequence > _last_wait:
        end.synchronize()
    spent = {"compile": 0.0, "copy": 0.0}
    for at, seconds, what in _log:
        if start._recorded_at <= at and at + seconds <= end._recorded_at:
            spent[what] += seconds
    if (spent["compile"] or spent["copy"]) and ("timed-region", *pair) not in _warned:
        _warned.add(("timed-region", *pair))
        parts = []
        if spent["compile"]:
            parts.append(f"compiling a SourceModule ({spent['compile'] * 1e3:.1f} ms)")
        if spent["copy"]:
            parts.append(f"the copies of In/Out/InOut arguments ({spent['copy'] * 1e3:.1f} ms)")
        _warn("timed-region",
              "time_till()/time_since(): the time between these events includes "
              + " and ".join(parts)
              + ", not only the kernels. Build the SourceModule and copy the data to the device "
              "(gpuarray.to_gpu, memcpy_htod) before recording the start event, and pass the "
              "device arrays to the kernel, so that the events time the kernels alone")

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Progress bars for long measurements: tqdm (or rich) on a terminal, silence elsewhere.

A bar is drawn only when standard error is a terminal, ``CI`` is not set and tqdm or rich is
installed (``pip install tqdm``); otherwise :func:`bar` gives an object with the same methods
that draws nothing, so measuring code never asks whether it is watched.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

__all__ = ["bar", "enabled"]


def enabled() -> bool:
    """Whether a bar would be drawn here (a terminal, no ``CI``, tqdm or rich installed)."""
    if os.environ.get("CI") or not _isatty(sys.stderr):
        return False
    return _backend() is not None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _backend() -> str | None:
    import importlib.util

    for name in ("tqdm", "rich"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class _Silent:
    def update(self, n: int = 1, note: str | None = None) -> None:
        pass

    def close(self) -> None:
        pass


class _Tqdm:
    def __init__(self, total: int, description: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=description, leave=False, file=sys.stderr)

    def update(self, n: int = 1, note: str | None = None) -> None:
        if note is not None:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


class _Rich:
    def __init__(self, total: int, description: str) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)

    def update(self, n: int = 1, note: str | None = None) -> None:
        self._progress.update(self._task, advance=n,
                              **({"description": note} if note is not None else {}))

    def close(self) -> None:
        self._progress.stop()


class Bar:
    """A progress bar of ``total`` steps; a context manager that closes it."""

    def __init__(self, total: int, description: str = "") -> None:
        backend = _backend() if enabled() else None
        self._impl: _Silent | _Tqdm | _Rich
        if backend == "tqdm":
            self._impl = _Tqdm(total, description)
        elif backend == "rich":
            self._impl = _Rich(total, description)
        else:
            self._impl = _Silent()

    @property
    def drawn(self) -> bool:
        """Whether this bar draws anything."""
        return not isinstance(self._impl, _Silent)

    def update(self, n: int = 1, note: str | None = None) -> None:
        """Advances by ``n`` steps; ``note`` says what is being measured now."""
        self._impl.update(n, note)

    def close(self) -> None:
        self._impl.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def bar(total: int, description: str = "") -> Bar:
    """A progress bar of ``total`` steps (silent without a terminal)."""
    return Bar(total, description)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore.copyto(dst, src)``: copies between any two devices and NumPy, under NumPy's name
for copying one array's values into another; ``manycore.copy`` is its deprecated old name."""

from __future__ import annotations

import warnings
from typing import Any

from . import _core

__all__ = ["copyto", "copy"]


def copyto(dst: Any, src: Any, stream: _core.Stream | None = None) -> str:
    """Copies the values of ``src`` into ``dst``: ``mc.Array``s on any device or NumPy arrays,
    the same number of bytes, both contiguous. Without a stream the copy has finished when this
    returns. With one it is queued on that stream (of a device the copy involves) and returns
    at once; host memory should then be pinned (``mc.pinned_empty``), and both arrays must
    stay alive until the stream has passed the copy. Returns the way the copy went:
    ``'host'``, ``'host_to_device'``, ``'device_to_host'``, ``'device'`` (within a GPU),
    ``'peer'`` or ``'staged'`` (GPU to GPU, directly or through host memory). Raises
    ``mc.InvalidArgument`` for arrays of different sizes, non-contiguous or read-only
    destinations."""
    return _core.copy(dst, src, stream)


def copy(dst: Any, src: Any, stream: _core.Stream | None = None) -> str:
    """Deprecated: ``manycore.copyto(dst, src, stream)``, which it calls. (The old name read
    like NumPy's ``copy(a)`` and ``Array.copy()``, which make a new array.)"""
    warnings.warn("manycore.copy(dst, src) is deprecated; use manycore.copyto(dst, src), NumPy's "
                  "name for copying src's values into dst (manycore.copy will be removed)",
                  DeprecationWarning, stacklevel=2)
    return copyto(dst, src, stream)

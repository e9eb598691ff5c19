# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Creating arrays: the NumPy-style factories of the public API."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._core import Array, Device

__all__ = ["empty", "zeros", "empty_like", "zeros_like", "to_device", "pinned_empty"]

DeviceLike = Device | str | None


def _dtype_args(dtype: Any) -> tuple[str, int]:
    dt = np.dtype(dtype)
    if dt.kind == "V":
        return "void", dt.itemsize
    if not dt.isnative:
        raise _core_errors().InvalidArgument(
            f"dtype {dt} is not in native byte order; use {dt.newbyteorder('=')}"
        )
    return dt.name, dt.itemsize


def _core_errors():  # imported lazily: errors is a leaf module, this keeps import order simple
    from . import errors

    return errors


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def empty(shape: Any, dtype: Any = np.float64, device: DeviceLike = None) -> Array:
    """An uninitialised array of ``shape`` and ``dtype`` on ``device`` (default device if None)."""
    name, itemsize = _dtype_args(dtype)
    return _core.empty(_shape(shape), name, itemsize, device)


def pinned_empty(shape: Any, dtype: Any = np.float64) -> Array:
    """An uninitialised CPU array in page-locked memory: copies between it and a GPU run at
    full bandwidth and, with ``stream=``, return before they finish (as ``cudaMemcpyAsync``).
    Without a GPU driver it is ordinary host memory."""
    name, _ = _dtype_args(dtype)
    if name == "void":
        raise TypeError("pinned_empty(): structured dtypes are not supported; use bytes (uint8)")
    return _core.pinned_empty(list(_shape(shape)), name)


def zeros(shape: Any, dtype: Any = np.float64, device: DeviceLike = None) -> Array:
    """A zero-filled array of ``shape`` and ``dtype`` on ``device``."""
    name, itemsize = _dtype_args(dtype)
    return _core.zeros(_shape(shape), name, itemsize, device)


def empty_like(a: Any, dtype: Any = None, device: DeviceLike = None) -> Array:
    """An uninitialised array with the shape (and dtype, device) of ``a``."""
    return empty(a.shape, a.dtype if dtype is None else dtype, _device_of(a, device))


def zeros_like(a: Any, dtype: Any = None, device: DeviceLike = None) -> Array:
    """A zero-filled array with the shape (and dtype, device) of ``a``."""
    return zeros(a.shape, a.dtype if dtype is None else dtype, _device_of(a, device))


def to_device(array: Any, device: DeviceLike = None) -> Array:
    """A copy of the NumPy array (or array-like) ``array`` on ``device``; a manycore Array is
    copied device to device (``Array.to``)."""
    if isinstance(array, Array):
        return array.to(device if device is not None else _core.default_device())
    if array is None:
        raise TypeError("to_device(None): give the array to copy (a NumPy array or a "
                        "sequence of numbers)")
    return _core.to_device(np.ascontiguousarray(array), device)


def _device_of(a: Any, device: DeviceLike) -> DeviceLike:
    if device is not None:
        return device
    return a.device if isinstance(a, Array) else None

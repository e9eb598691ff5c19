# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Arguments of manycore's generated kernels from PyCUDA's objects: GPUArrays become the
manycore arrays they are, streams stay streams; PyCUDA's argument objects become declarations."""

from __future__ import annotations

from typing import Any

__all__ = ["unwrap_args", "declarations"]


def unwrap_args(args: Any) -> list:
    from .gpuarray import GPUArray

    return [a.mc_array if isinstance(a, GPUArray) else a for a in args]


def declarations(arguments: Any) -> Any:
    """PyCUDA's VectorArg/ScalarArg lists as the declaration strings manycore parses."""
    if arguments is None or isinstance(arguments, str):
        return arguments
    return [a.declarator() if hasattr(a, "declarator") else a for a in arguments]

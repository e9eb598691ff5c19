# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.characterize``: what a device supports. Every device manycore runs on has
double precision; the rest of PyCUDA's module is not provided."""

from __future__ import annotations

import numpy as np

__all__ = ["has_double_support", "platform_bits", "has_stack", "sizeof"]


def has_double_support() -> bool:
    return True


def platform_bits() -> int:
    return 64


def has_stack() -> bool:
    return True


def sizeof(type_name: str, preamble: str = "") -> int:
    from .tools import parse_c_arg

    return parse_c_arg(f"{type_name} x").dtype.itemsize if "*" not in type_name else np.dtype(np.intp).itemsize

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.curandom`` on manycore's Philox generator (``manycore.random``): the same
numbers for a seed on every device, not cuRAND's numbers. ``rand`` and the generator classes
(XORWOW, MRG32k3a names kept) draw uniform, normal and log-normal floats."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as mc_random
from ._context import current_device
from ._errors import translated
from .gpuarray import GPUArray

__all__ = ["rand", "get_curand_version", "seed_getter_uniform", "seed_getter_unique", "XORWOWRandomNumberGenerator",
           "MRG32k3aRandomNumberGenerator", "PseudoRandomNumberGenerator"]


def _float_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise NotImplementedError(f"random numbers of {dt}: manycore.pycuda draws float32 and float64")
    return dt


def get_curand_version() -> None:
    """None: manycore.pycuda has no cuRAND (its generators draw from Philox)."""
    return None


def rand(shape: Any, dtype: Any = np.float32, stream: Any = None) -> GPUArray:
    """Uniform numbers of ``shape`` on the current device: floats in [0, 1), integers over the
    type's whole range."""
    dt = np.dtype(dtype)
    with translated():
        if dt.kind in "iu":
            info = np.iinfo(dt)
            return GPUArray._wrap(mc_random.integers(int(info.min), int(info.max) + 1, shape,
                                                     dtype=dt, device=current_device()))
        return GPUArray._wrap(mc_random.uniform(shape, dtype=_float_dtype(dt),
                                                device=current_device()))


def seed_getter_uniform(n: int) -> GPUArray:
    value = int(np.random.default_rng().integers(0, 2**31))
    return GPUArray._wrap(_fill_int(n, value))


def seed_getter_unique(n: int) -> GPUArray:
    return GPUArray._wrap(mc_random.integers(0, 2**31, n, dtype=np.int32, device=current_device()))


def _fill_int(n: int, value: int) -> Any:
    from .gpuarray import empty

    a = empty((n,), np.int32)
    a.fill(value)
    return a.mc_array


class PseudoRandomNumberGenerator:
    """A stream of random numbers: each draw continues where the last left off."""

    def __init__(self, seed_getter: Any = None, offset: int = 0) -> None:
        seed = int(np.random.default_rng().integers(0, 2**63))
        if seed_getter is not None:
            seeds = seed_getter(1)
            seed = int(np.asarray(seeds.get() if hasattr(seeds, "get") else seeds).ravel()[0])
        self._seed = seed
        self._draws = offset

    def _next_seed(self) -> int:
        self._draws += 1
        return (self._seed * 0x9E3779B97F4A7C15 + self._draws) % 2**64

    def gen_uniform(self, shape: Any, dtype: Any, stream: Any = None) -> GPUArray:
        with translated():
            return GPUArray._wrap(mc_random.uniform(shape, dtype=_float_dtype(dtype),
                                                    seed=self._next_seed(), device=current_device()))

    def gen_normal(self, shape: Any, dtype: Any, stream: Any = None) -> GPUArray:
        with translated():
            return GPUArray._wrap(mc_random.normal(shape, dtype=_float_dtype(dtype),
                                                   seed=self._next_seed(), device=current_device()))

    def gen_log_normal(self, shape: Any, dtype: Any, mean: float, stddev: float,
                       stream: Any = None) -> GPUArray:
        from . import cumath

        with translated():
            z = mc_random.normal(shape, mean, stddev, dtype=_float_dtype(dtype),
                                 seed=self._next_seed(), device=current_device())
        return cumath.exp(GPUArray._wrap(z))

    def fill_uniform(self, data: GPUArray, stream: Any = None) -> GPUArray:
        data.mc_array[...] = self.gen_uniform(data.shape, data.dtype).mc_array
        return data

    def fill_normal(self, data: GPUArray, stream: Any = None) -> GPUArray:
        data.mc_array[...] = self.gen_normal(data.shape, data.dtype).mc_array
        return data

    def fill_log_normal(self, data: GPUArray, mean: float, stddev: float,
                        stream: Any = None) -> GPUArray:
        data.mc_array[...] = self.gen_log_normal(data.shape, data.dtype, mean, stddev).mc_array
        return data

    def call_skip_ahead_kernel(self, *args: Any, **kwargs: Any) -> None:
        """Philox is counter-based: every draw is already independent."""


class XORWOWRandomNumberGenerator(PseudoRandomNumberGenerator):
    """PyCUDA's XORWOW generator's interface, drawing from Philox."""


class MRG32k3aRandomNumberGenerator(PseudoRandomNumberGenerator):
    """PyCUDA's MRG32k3a generator's interface, drawing from Philox."""

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Random numbers that are the same on every device: Philox4x32-10, counter-based.

Element ``i`` of a draw with ``seed`` is computed from (counter ``i``, key ``seed``) alone
(float32 draws: counter ``i // 4``, four numbers a block; integers: ``i // 2``, two), so
``uniform(n, seed=s, device=d)`` is bitwise the same on the CPU and on every GPU, and kernels get
the same numbers through ``#include <manycore/random.h>`` (``mc_uniform_double(seed, i)``...).
The mapping from bits to values is documented in that header: float64 uses 53 bits, float32
24 bits, ``normal`` is Box-Muller (float64: equal across devices up to a few ulp of the
devices' log/cos/sqrt; float32: four numbers from each Philox block, with the header's own
log, sin and cos, bitwise equal everywhere), ``integers`` is a multiply-shift of 64 bits (bias
below range/2**64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _codegen as cg
from . import _core
from ._core import Array

__all__ = ["uniform", "normal", "integers", "HEADER"]

HEADER = "#include <manycore/prelude/manycore/random.h>\n"  # the form both compilers resolve


def _shape(size: Any) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(s) for s in size)


def _seed(seed: Any) -> int:
    if seed is None:
        seed = int.from_bytes(np.random.default_rng().bytes(8), "little")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed {seed} must lie in [0, 2**64)")
    return seed


def _draw(kind: str, expr: str, shape: tuple[int, ...], dt: np.dtype, device: Any,
          scalars: list[tuple[str, str, Any]]) -> Array:
    dev = _core.default_device() if device is None else (device if isinstance(device, _core.Device) else _core.Device(str(device)))
    out = _core.empty(shape, dt.name, dt.itemsize, dev)
    facts = cg.facts(dev)
    ct = cg.c_type(dt)
    key = ("random", kind, dt, facts.key)

    def build():
        params = ", ".join(f"{t} {n}" for t, n, _ in scalars)
        src = (HEADER + f"__global__ void mc_random_{kind}(long long n, long long mc_chunk, {params}, "
               f"{ct}* __restrict__ out) {{\n    {cg.loop_header(facts)} {{ out[i] = {expr}; }}\n}}\n")
        return src, f"mc_random_{kind}"

    fn = cg.cached_function(key, build, dev)
    n = out.size
    if n:
        grid, block, chunk = cg.launch_1d(facts, n)
        fn(n, chunk, *[v for _, _, v in scalars], out, grid=grid, block=block)
    return out


def _by_blocks(kind: str, shape: tuple[int, ...], dt: np.dtype, device: Any, scalars: list[tuple[str, str, Any]],
               per: int, value: tuple[str, str]) -> Array:
    """Numbers ``per`` (2 or 4) at a time, one Philox block each: ``value[0]`` fills the array
    ``z[per]`` (of the C type ``value[2]``) from the group index ``g`` (a statement), and element
    ``per * g + k`` is ``value[1]`` with ``V`` standing for ``z[k]``."""
    dev = _core.default_device() if device is None else (device if isinstance(device, _core.Device) else _core.Device(str(device)))
    out = _core.empty(shape, dt.name, dt.itemsize, dev)
    facts = cg.facts(dev)
    ct, zt = cg.c_type(dt), value[2]
    key = ("random", kind, dt, facts.key)

    def build():
        params = ", ".join(f"{t} {n}" for t, n, _ in scalars)

        def store(k: str) -> str:
            return f"out[{per} * g + {k}] = {value[1].replace('V', f'z[{k}]')};"

        # The whole groups on every thread, then the last partial group on one.
        src = (HEADER + f"__global__ void mc_random_{kind}(long long n, long long mc_chunk, {params}, "
               f"{ct}* __restrict__ out) {{\n"
               f"    const long long groups = n / {per};\n"
               "    { const long long n = groups;\n"
               f"    {cg.loop_header(facts)} {{ const unsigned long long g = (unsigned long long)i; {zt} z[{per}]; {value[0]}\n"
               f"        {' '.join(store(str(k)) for k in range(per))} }} }}\n"
               f"    if (n % {per} && blockIdx.x == 0 && threadIdx.x == 0) {{\n"
               f"        const unsigned long long g = (unsigned long long)groups; {zt} z[{per}]; {value[0]}\n"
               f"        for (int k = 0; k < (int)(n % {per}); ++k) {store('k')}\n    }}\n}}\n")
        return src, f"mc_random_{kind}"

    fn = cg.cached_function(key, build, dev)
    n = out.size
    if n:
        grid, block, chunk = cg.launch_1d(facts, max(1, n // per))
        fn(n, chunk, *[v for _, _, v in scalars], out, grid=grid, block=block)
    return out


def uniform(size: Any, low: float = 0.0, high: float = 1.0, dtype: Any = np.float64,
            seed: Any = None, device: Any = None) -> Array:
    """Uniform numbers in [low, high): ``fma(high - low, u, low)`` with u in [0, 1)."""
    dt = np.dtype(dtype)
    if dt == np.float64:
        expr = "fma(mc_hi - mc_lo, mc_uniform_double(mc_seed, (unsigned long long)i), mc_lo)"
        t = "double"
    elif dt == np.float32:
        return _by_blocks("uniform", _shape(size), dt, device,
                          [("unsigned long long", "mc_seed", _seed(seed)), ("float", "mc_lo", float(low)),
                           ("float", "mc_hi", float(high))],
                          4, ("mc_uniform_float4(mc_seed, g, z);", "fmaf(mc_hi - mc_lo, V, mc_lo)", "float"))
    else:
        raise TypeError(f"uniform: dtype must be float32 or float64, not {dt}")
    return _draw("uniform", expr, _shape(size), dt, device,
                 [("unsigned long long", "mc_seed", _seed(seed)), (t, "mc_lo", float(low)), (t, "mc_hi", float(high))])


def normal(size: Any, loc: float = 0.0, scale: float = 1.0, dtype: Any = np.float64,
           seed: Any = None, device: Any = None) -> Array:
    """Normal numbers: ``loc + scale * z`` with z from Box-Muller in double precision."""
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize not in (4, 8):
        raise TypeError(f"normal: dtype must be float32 or float64, not {dt}")
    if dt == np.float32:
        return _by_blocks("normal", _shape(size), dt, device,
                          [("unsigned long long", "mc_seed", _seed(seed)), ("double", "mc_loc", float(loc)),
                           ("double", "mc_scale", float(scale))],
                          4, ("mc_normal_float4(mc_seed, g, z);", "(float)fma(mc_scale, (double)V, mc_loc)", "float"))
    expr = f"({cg.c_type(dt)})(mc_loc + mc_scale * mc_normal_double(mc_seed, (unsigned long long)i))"
    return _draw("normal", expr, _shape(size), dt, device,
                 [("unsigned long long", "mc_seed", _seed(seed)), ("double", "mc_loc", float(loc)),
                  ("double", "mc_scale", float(scale))])


def integers(low: int, high: int | None = None, size: Any = 1, dtype: Any = np.int64,
             seed: Any = None, device: Any = None) -> Array:
    """Integers in [low, high) (or [0, low) when ``high`` is None)."""
    if high is None:
        low, high = 0, low
    low, high = int(low), int(high)
    if high <= low:
        raise ValueError(f"integers: high ({high}) must be greater than low ({low})")
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        raise TypeError(f"integers: dtype must be an integer type, not {dt}")
    info = np.iinfo(dt)
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"integers: [{low}, {high}) does not fit in {dt}")
    return _by_blocks("integers", _shape(size), dt, device,
                      [("unsigned long long", "mc_seed", _seed(seed)), ("unsigned long long", "mc_low", low % 2**64),
                       ("unsigned long long", "mc_range", (high - low) % 2**64)],
                      2, ("mc_random_below2(mc_seed, g, mc_range, z);", f"({cg.c_type(dt)})(mc_low + V)",
                          "unsigned long long"))

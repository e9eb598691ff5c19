# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore: one CUDA C++ kernel source, run on every CPU core (and, where present, GPUs).

>>> import numpy as np, manycore as mc
>>> mod = mc.SourceModule('''
... __global__ void axpy(int n, float a, const float* x, float* y) {
...     int i = blockIdx.x * blockDim.x + threadIdx.x;
...     if (i < n) y[i] += a * x[i];
... }''')
>>> x = np.ones(1000, np.float32); y = np.zeros_like(x)
>>> mod.get_function("axpy")(np.int32(1000), np.float32(2), x, y, grid=(4,), block=(256,))
>>> float(y[0])
2.0
"""

from __future__ import annotations

from . import _core
from ._arrays import empty, empty_like, pinned_empty, to_device, zeros, zeros_like
from ._core import Array, Device, Event, Function, Stream, default_device, devices
from ._core import is_pinned, synchronize
from ._module import SourceModule, cpu_scheme, lints_enabled, set_cpu_scheme, set_lints
from . import _array_ops, reduction as _reduction
from ._array_ops import arange, asarray, full, linspace, ones
from .elementwise import ElementwiseKernel
from .reduction import ReductionKernel, sum, prod, min, max, mean, dot, argmin, argmax, any, all
from .scan import ExclusiveScanKernel, InclusiveScanKernel, cumsum
from . import cuda, math, random, testing, tools
from .tools._api import occupancy, profile, suggest_block
from ._resources import KernelResources, emulated_arch
from . import _flags, _resources
from ._copyto import copy, copyto
from .findings import Finding
from .errors import (
    ArgumentRangeError,
    ArgumentTypeError,
    CompatWarning,
    CompileError,
    CudaError,
    DeviceUnavailable,
    Error,
    InvalidArgument,
    InvalidLaunch,
    KernelFault,
    KernelNotFound,
    LaunchWarning,
    MpiError,
    OutOfMemory,
)

__version__: str = _core.__version__

# Operators, indexing and reductions become methods of the nanobind class, once.
_array_ops.install()
_reduction.install()
_resources.install()
_flags.install()

__all__ = [
    "Array",
    "ArgumentRangeError",
    "ArgumentTypeError",
    "CompatWarning",
    "CompileError",
    "CudaError",
    "Device",
    "DeviceUnavailable",
    "Error",
    "Finding",
    "Function",
    "InvalidArgument",
    "InvalidLaunch",
    "KernelFault",
    "KernelNotFound",
    "LaunchWarning",
    "MpiError",
    "OutOfMemory",
    "SourceModule",
    "lints_enabled",
    "set_lints",
    "cpu_scheme",
    "set_cpu_scheme",
    "default_device",
    "devices",
    "empty",
    "empty_like",
    "to_device",
    "zeros",
    "zeros_like",
    "arange",
    "asarray",
    "full",
    "linspace",
    "ones",
    "ElementwiseKernel",
    "ReductionKernel",
    "InclusiveScanKernel",
    "ExclusiveScanKernel",
    "cumsum",
    "sum",
    "prod",
    "min",
    "max",
    "mean",
    "dot",
    "argmin",
    "argmax",
    "any",
    "all",
    "math",
    "random",
    "cuda",
    "Stream",
    "Event",
    "synchronize",
    "copyto",
    "copy",
    "pinned_empty",
    "is_pinned",
    "testing",
    "tools",
    "profile",
    "occupancy",
    "suggest_block",
    "KernelResources",
    "emulated_arch",
]

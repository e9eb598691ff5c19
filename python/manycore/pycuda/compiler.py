# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``pycuda.compiler``: ``SourceModule`` compiled by manycore for the current device.

On a GPU the source goes to NVRTC, on the CPU to the host C++ compiler; either way the module
is cached on disk by manycore (``manycore cache info``). PyCUDA's ``nvcc``, ``keep``, ``arch``,
``code``, ``cache_dir`` and ``no_extern_c`` are accepted and have nothing to do here: kernels
are found by name whether or not they are ``extern "C"``. Of ``options``, the ones both
compilers read the same way are kept (``-D``, ``-U``, ``-I``, and on a GPU ``-use_fast_math``,
``-lineinfo``); ``include_dirs`` become ``-I`` options.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .. import _core
from .._module import SourceModule as _McSourceModule
from ._context import current_device
from ._errors import CompileError, LogicError, translated
from ._function import Function
from ._memory import DeviceAllocation
from ._timing import note_compile

__all__ = ["SourceModule", "DynamicSourceModule", "DynamicModule", "CompileError", "compile",
           "DEFAULT_NVCC_FLAGS"]

DEFAULT_NVCC_FLAGS: list[str] = []

# Options of nvcc that NVRTC takes too (spelled as NVRTC wants them).
_GPU_OPTIONS = {"-use_fast_math": "--use_fast_math", "--use_fast_math": "--use_fast_math",
                "-lineinfo": "-lineinfo", "--generate-line-info": "-lineinfo", "-G": "-G"}


def _options(options: Iterable[str] | None, include_dirs: Iterable[str], gpu: bool) -> list[str]:
    kept = [] if gpu else ["-O3", "-march=native"]  # on the CPU, options replace these
    for o in list(options or []):
        if o.startswith(("-D", "-U", "-I")):
            kept.append(o)
        elif gpu and o in _GPU_OPTIONS:
            kept.append(_GPU_OPTIONS[o])
    kept += [f"-I{d}" for d in include_dirs]
    return kept


_warned: dict[tuple, set] = {}


class SourceModule:
    """Compiles ``source`` for the current context's device: ``get_function(name)``."""

    def __init__(self, source: str, nvcc: str = "nvcc", options: Iterable[str] | None = None,
                 keep: bool = False, no_extern_c: bool = False, arch: str | None = None,
                 code: str | None = None, cache_dir: Any = None,
                 include_dirs: Iterable[str] = ()) -> None:
        device = current_device()
        start = time.perf_counter()
        with translated():
            self.module = _McSourceModule(source, device=device,
                                          options=_options(options, include_dirs, device.kind != "cpu"))
        note_compile(start)
        self.source = source
        # (kernel, parameter, kind) warned about, shared by every SourceModule of this source
        key = (str(device), source, tuple(self.module.options))
        self._warned: set[tuple[str, int, str]] = _warned.setdefault(key, set())
        self._functions: dict[str, Function] = {}

    def get_function(self, name: str) -> Function:
        f = self._functions.get(name)
        if f is None:
            with translated():
                f = self._functions[name] = Function(self.module.get_function(name), self)
        return f

    def get_global(self, name: str) -> tuple[Any, int]:
        """(pointer, size in bytes) of a ``__constant__`` or ``__device__`` variable at namespace
        scope: ``memcpy_htod(pointer, host)`` sets what the kernels read."""
        with translated():
            raw = _core.module_global(self.module._module, name)
        return DeviceAllocation(raw), raw.nbytes

    def get_texref(self, name: str) -> Any:
        raise LogicError("texture references are not supported by manycore.pycuda")

    def get_surfref(self, name: str) -> Any:
        raise LogicError("surface references are not supported by manycore.pycuda")


DynamicSourceModule = SourceModule


class DynamicModule:
    """PyCUDA's linker of several sources (relocatable device code, cudadevrt) is not provided:
    manycore compiles each SourceModule on its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise LogicError("DynamicModule: linking separately compiled device code is not supported "
                         "by manycore.pycuda; put the kernels in one SourceModule")


def compile(source: str, nvcc: str = "nvcc", options: Any = None, keep: bool = False,
            no_extern_c: bool = False, arch: str | None = None, code: str | None = None,
            cache_dir: Any = None, include_dirs: Iterable[str] = (), target: str = "cubin") -> bytes:
    """The compiled image for the current GPU (or, on the CPU, for ``MANYCORE_EMULATED_ARCH``):
    NVRTC's cubin, or PTX for ``target="ptx"``."""
    from .. import cuda
    from .._resources import emulated_arch

    device = current_device()
    if arch is None:
        arch = emulated_arch() if device.kind == "cpu" else "sm_%d%d" % tuple(device.compute_capability)
    with translated():
        return cuda.compile(source, arch=arch, options=_options(options, include_dirs, True)).image

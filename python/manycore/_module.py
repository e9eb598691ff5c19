# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""SourceModule: a module of CUDA C++ kernels compiled for one device at run time."""

from __future__ import annotations

from collections.abc import Iterable

from . import _core
from ._core import Device, Function

__all__ = ["SourceModule", "cpu_scheme", "lints_enabled", "set_cpu_scheme", "set_lints"]


def _calibrate_temporaries() -> None:
    """Tells the launch lints the reference count of an argument that only the call holds (it
    differs between Python versions); where a named variable looks the same, that lint is off."""
    import dis

    import numpy as np

    probe = _core._RefcountProbe()
    named = np.empty(1)
    counts = []
    for call in (probe, probe.lints):
        # With keywords, as launches have (grid=, block=): they take a reference of their own.
        held, temporary = call(named, grid=1)[0], call(np.empty(1), grid=1)[0]
        counts.append(temporary if temporary < held else 0)
    _core._set_temporary_refcounts(*counts, dis.opmap.get("CALL_FUNCTION_EX", -1))


_calibrate_temporaries()


def set_lints(enabled: bool) -> None:
    """Turns the launch lints (:class:`manycore.LaunchWarning`) of every later launch on or off.

    They are on unless ``MANYCORE_LINTS=0`` was set when manycore started; ``f(..., lint=False)``
    silences one launch, and ``Function.lints(...)`` reports them whatever this says.
    """
    _core.set_launch_lints_enabled(bool(enabled))


def lints_enabled() -> bool:
    """Whether launches check their lints (see :func:`set_lints`)."""
    return _core.launch_lints_enabled()


def set_cpu_scheme(scheme: str) -> None:
    """How modules built from now on run kernels that synchronise on the CPU: ``"auto"`` (the
    default: loop fission splits each kernel at its barriers into loops over the block's
    threads, and what it cannot take runs as fibers) or ``"fibers"`` (every thread of a block is
    a fiber, as ``MANYCORE_CPU_SCHEME=fibers`` does from the start). Modules built before keep
    their scheme; ``Function.execution_mode`` says which a kernel got, and
    ``Function.execution_reason`` why.
    """
    _core.set_cpu_scheme(str(scheme))


def cpu_scheme() -> str:
    """The scheme modules built from now on use: ``"auto"`` or ``"fibers"``."""
    return _core.cpu_scheme()


def _check_source(source: object) -> None:
    """A TypeError or ValueError that says what a source must be, before the binding's own."""
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("SourceModule(source): source must be a str of CUDA C++, not "
                        f"{type(source).__name__}; decode it first, e.g. source.decode('utf-8')")
    if not isinstance(source, str):
        raise TypeError("SourceModule(source): source must be a str of CUDA C++; got "
                        f"{type(source).__name__}")
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as e:
        line = source.count("\n", 0, e.start) + 1
        column = e.start - (source.rfind("\n", 0, e.start) + 1) + 1
        raise ValueError(f"SourceModule(source): the source is not valid text at line {line}, "
                         f"column {column} ({source[e.start]!r} cannot be written as UTF-8, "
                         "as from a file read with errors='surrogateescape'); read the file "
                         "with its real encoding, e.g. open(path, encoding='latin-1')") from None


class SourceModule:
    """Compiles ``source`` (CUDA C++) for ``device`` and gives access to its kernels.

    ``options`` are passed to the compiler (on the CPU they replace the default
    ``-O3 -march=native``). ``name_expressions`` instantiates template kernels, e.g.
    ``["reduce<float, 256>"]``, which ``get_function`` then accepts by the same text.
    ``checked=True`` (or ``MANYCORE_CHECK=1`` for every module) instruments the kernels: on
    the CPU for out-of-bounds accesses, races, barrier divergence and uninitialized shared
    reads, on a GPU for out-of-bounds accesses (``manycore check --sanitizer`` finds the rest
    there); a launch that finds any raises ``KernelFault`` with ``findings``.
    A module already built in this process (same source, device and options) is reused, and
    compiled code is cached on disk across processes (``manycore cache info``).
    """

    def __init__(
        self,
        source: str,
        device: Device | str | None = None,
        options: Iterable[str] = (),
        checked: bool = False,
        name_expressions: Iterable[str] = (),
        *,
        _follow_environment: bool = True,
    ) -> None:
        _check_source(source)
        if isinstance(options, str):
            raise TypeError("options must be a sequence of strings, e.g. ['-O2'], not one string")
        self._module = _core.Module(
            source, device, [str(o) for o in options], [str(n) for n in name_expressions], checked,
            _follow_environment,
        )
        self.source = source
        self.options = tuple(options)

    def get_function(self, name: str) -> Function:
        """The kernel ``name``; a ``KernelNotFound`` (a ``LookupError``) lists the kernels there are."""
        if not isinstance(name, str):
            raise TypeError(f"SourceModule.get_function(name): name must be a str, the kernel's "
                            f"name such as 'saxpy'; got {type(name).__name__}; kernels here: "
                            f"{', '.join(repr(k) for k in self.kernel_names) or 'none'}")
        return self._module.get_function(name)

    def get_global(self, name: str):
        """The bytes of the module's ``__constant__`` or ``__device__`` variable ``name`` (at
        namespace scope), as a uint8 ``Array`` on the module's device: ``mc.copy(g, host)`` sets
        what the kernels read. A ``KernelNotFound`` when there is none."""
        return _core.module_global(self._module, name)

    @property
    def kernel_names(self) -> list[str]:
        """Every name ``get_function`` accepts."""
        return self._module.kernel_names

    @property
    def device(self) -> Device:
        return self._module.device

    @property
    def cache_path(self) -> str:
        """The compiled module's file in the disk cache."""
        return self._module.cache_path

    @property
    def from_cache(self) -> bool:
        """True when this module was loaded from the disk cache instead of compiled now."""
        return self._module.from_cache

    def __repr__(self) -> str:
        return f"<manycore.SourceModule on {self.device!s}: {', '.join(self.kernel_names)}>"

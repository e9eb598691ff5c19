# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The exceptions manycore raises (docs/errors.md lists when each is raised).

Each class derives from :class:`Error` and from the Python exception a user would expect, so
``except TypeError`` keeps working around a kernel launch with a wrong argument.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "DeviceUnavailable",
    "CompileError",
    "KernelFault",
    "ArgumentTypeError",
    "ArgumentRangeError",
    "InvalidArgument",
    "InvalidLaunch",
    "KernelNotFound",
    "OutOfMemory",
    "MpiError",
    "LaunchWarning",
    "CompatWarning",
]


class Error(Exception):
    """Root of every error manycore raises."""


class DeviceUnavailable(Error, RuntimeError):
    """A device, or a library it needs (a compiler, the CUDA driver), is not present."""


class CompileError(Error, RuntimeError):
    """The kernel source did not compile.

    Attributes: ``log`` (the compiler's messages, with line numbers of the user's source),
    ``source`` (the source as given) and ``options`` (the compiler options used).
    """

    log: str = ""
    source: str = ""
    options: list[str] = []

    def dump(self) -> str:
        """The source with line numbers, followed by the compiler's log."""
        numbered = "\n".join(f"{i:4d}  {line}" for i, line in enumerate(self.source.splitlines(), 1))
        return f"{numbered}\n\n{self.log}"


class KernelFault(Error, RuntimeError):
    """A kernel failed while running (a device-side assert, __trap, a barrier deadlock), or a
    checked launch found bugs.

    Attributes: ``kernel``, the kernel's name; ``findings``, for a checked launch, the distinct
    bugs found (:class:`manycore.findings.Finding`, at most 100 kept); ``findings_total``, how
    many distinct bugs there were in all.
    """

    kernel: str = ""
    findings: list = []  # noqa: RUF012 - a read-only default; instances get their own list
    findings_total: int = 0


class ArgumentTypeError(Error, TypeError):
    """A launch argument whose type does not fit the kernel parameter, or a wrong count."""


class ArgumentRangeError(Error, OverflowError):
    """A scalar launch argument outside the range of the parameter's type."""


class InvalidArgument(Error, ValueError):
    """A value of the right type that cannot be used (non-contiguous or read-only array)."""


class InvalidLaunch(Error, ValueError):
    """A launch configuration outside the device's limits."""


class KernelNotFound(Error, LookupError):
    """get_function() of a name the module does not have."""


class OutOfMemory(Error, MemoryError):
    """An allocation the device could not satisfy. Attributes ``requested`` and ``free``."""

    requested: int = 0
    free: int = 0


class MpiError(Error, RuntimeError):
    """An MPI call made by manycore failed. Attributes ``error_class`` (MPI's error class) and
    ``error_string`` (MPI_Error_string's text)."""

    error_class: int = 0
    error_string: str = ""


class LaunchWarning(UserWarning):
    """A launch that is legal but probably not what was meant (a launch lint).

    Attribute ``kind``: ``"index-overflow"`` (an array longer than the kernel's 32-bit index or
    size can reach), ``"grid-too-small"`` (a one-element-per-thread kernel without a
    grid-stride loop, launched with fewer threads than elements), ``"past-end"`` (the bound
    that guards the index is larger than an array it subscripts), ``"temporary-array"`` (a
    temporary array for a non-const pointer: what the kernel writes into it is lost) or
    ``"block-size"`` (threads per block not a multiple of 32). Silence one launch with ``f(..., lint=False)``, every
    launch with ``manycore.set_lints(False)`` or ``MANYCORE_LINTS=0``, or a kind with
    ``warnings.filterwarnings``.
    """

    kind: str = ""


class CompatWarning(UserWarning):
    """A bug PyCUDA lets through, seen in a program run through ``manycore.pycuda``: the program
    runs as it does under PyCUDA, and this says what is wrong and how to fix it.

    Attribute ``kind``: ``"element-type"`` (an array whose element type differs from the
    pointer parameter's), ``"scalar-type"`` (a NumPy scalar whose type differs from the
    parameter's), ``"timed-region"`` (the time between two events includes compiling a
    ``SourceModule`` or the copies of ``In``/``Out``/``InOut``) or ``"event-not-reached"``
    (``time_till``/``time_since`` with an event the host has not waited for). Each is given once
    per kernel and parameter (or per pair of events). It is not a :class:`LaunchWarning`:
    ``lint=False`` and ``set_lints(False)`` leave it on; Python's ``warnings`` filters silence
    it (``warnings.simplefilter("ignore", manycore.CompatWarning)``).
    """

    kind: str = ""

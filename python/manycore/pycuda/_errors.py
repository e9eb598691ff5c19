# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's exception classes, and the translation of manycore's errors into them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .. import errors as mc_errors

__all__ = ["Error", "LogicError", "LaunchError", "MemoryError", "RuntimeError", "CompileError",
           "translated"]

_builtin_memory_error = MemoryError
_builtin_runtime_error = RuntimeError


class Error(Exception):
    """Root of PyCUDA's errors (``pycuda.driver.Error``)."""


class LogicError(Error):
    """A call that cannot work as made (a bad launch configuration, a freed allocation)."""


class LaunchError(Error):
    """A kernel failed while running (manycore's ``KernelFault``)."""


class MemoryError(Error, _builtin_memory_error):  # noqa: A001 - PyCUDA's name
    """An allocation the device could not satisfy."""


class RuntimeError(Error, _builtin_runtime_error):  # noqa: A001 - PyCUDA's name
    """Anything else the device refused."""


class CompileError(Error):
    """The kernel source did not compile; ``msg``, ``stdout``, ``stderr`` as PyCUDA gives them,
    plus manycore's ``log`` with the line numbers of your source."""

    def __init__(self, msg: str, command_line: object = None, stdout: str | None = None,
                 stderr: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.command_line = command_line
        self.stdout = stdout
        self.stderr = stderr
        self.log = stderr or ""


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raises manycore's device errors as PyCUDA's (argument errors stay TypeError/OverflowError)."""
    try:
        yield
    except mc_errors.CompileError as e:
        raise CompileError(str(e), stderr=e.log) from e
    except mc_errors.InvalidLaunch as e:
        raise LogicError(str(e)) from e
    except mc_errors.KernelFault as e:
        raise LaunchError(str(e)) from e
    except mc_errors.OutOfMemory as e:
        raise MemoryError(str(e)) from e

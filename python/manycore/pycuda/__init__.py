# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA on manycore: PyCUDA's modules and names, on every device manycore has.

``manycore pycuda script.py`` (or ``python -m manycore pycuda script.py``) runs a PyCUDA program
unmodified, with ``import pycuda...`` resolved here; in a notebook, ``manycore.pycuda.install()``
does the same before the first ``import pycuda``. Without a GPU, the program's kernels run on
every CPU core. Bugs PyCUDA lets through (an array or a NumPy scalar of another type than the
kernel's parameter, a timed region that includes compiling or copying) are pointed out as
``manycore.CompatWarning``, while the program computes what it computes under PyCUDA.

Modules: ``autoinit``, ``driver``, ``compiler``, ``gpuarray``, ``cumath``, ``elementwise``,
``reduction``, ``scan``, ``curandom``, ``tools`` (and a small ``characterize``). Not provided:
textures and surfaces, OpenGL interop, ``sparse``, more than one context per device.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from typing import Any

from .. import __version__ as _manycore_version

__all__ = ["install", "installed", "VERSION", "VERSION_STATUS", "VERSION_TEXT"]

#: PyCUDA's version numbers: the PyCUDA release this layer follows.
VERSION = (2025, 1, 0)
VERSION_STATUS = f"manycore {_manycore_version}"
VERSION_TEXT = ".".join(str(v) for v in VERSION)


class _Loader(importlib.abc.Loader):
    """Gives manycore.pycuda.X for pycuda.X (the same module object, not a copy)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return importlib.import_module(self.target)

    def exec_module(self, module: Any) -> None:
        """Already executed when imported under its own name."""


class _Finder(importlib.abc.MetaPathFinder):
    """Resolves ``pycuda`` and ``pycuda.*`` to ``manycore.pycuda`` and its modules."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "pycuda" and not fullname.startswith("pycuda."):
            return None
        real = "manycore." + fullname
        if importlib.util.find_spec(real) is None:
            return None  # ImportError names pycuda.X, as for any missing module
        return importlib.util.spec_from_loader(fullname, _Loader(real),
                                               is_package=fullname == "pycuda")


def installed() -> bool:
    """True when ``import pycuda`` gives this package."""
    return any(isinstance(f, _Finder) for f in sys.meta_path) or \
        sys.modules.get("pycuda") is sys.modules[__name__]


def install() -> None:
    """Makes ``import pycuda`` (and ``pycuda.driver``, ``pycuda.autoinit``, ...) give
    ``manycore.pycuda``, in this process, from now on. Call it before the first ``import
    pycuda``: when a real PyCUDA is already imported, this refuses (``RuntimeError``) rather than
    mix the two; restart the interpreter (the notebook's kernel) and call it first."""
    existing = sys.modules.get("pycuda")
    if existing is not None and existing is not sys.modules[__name__]:
        where = getattr(existing, "__file__", None) or repr(existing)
        raise RuntimeError(
            f"manycore.pycuda.install(): PyCUDA is already imported from {where}, and its "
            "objects cannot be mixed with manycore's; restart the interpreter (or the "
            "notebook's kernel) and call manycore.pycuda.install() before any `import pycuda`")
    if not installed():
        sys.meta_path.insert(0, _Finder())


def shadowed_pycuda() -> str | None:
    """Where a real PyCUDA is installed (which ``install()`` takes the place of), else None."""
    for finder in sys.meta_path:
        if isinstance(finder, _Finder):
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find("pycuda", None)
        except Exception:  # noqa: BLE001 - a broken finder is not ours to report
            continue
        if spec is not None:
            return spec.origin or str(spec.submodule_search_locations)
    return None

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""PyCUDA's ``Function``: a kernel launched with PyCUDA's argument rules.

PyCUDA passes what it is given: NumPy scalars by their bytes, allocations and arrays by their
address, whatever the kernel declares. A launch here passes the same (manycore's core does it,
``ArgumentRules::pycuda``), so a program computes what it computes under PyCUDA; where PyCUDA
lets a type mismatch through, a ``CompatWarning`` says so, once per kernel and parameter.
Python ints and floats, which PyCUDA refuses, are converted by the kernel's parameter types.
The common launch (arrays, allocations and scalars that fit) goes straight to the core; only
``In``/``Out``/``InOut``, pointers given as numbers and foreign arrays take the slower path here.
"""

from __future__ import annotations

import time
import types
import warnings
from typing import Any

import numpy as np

from .. import _core
from .._resources import KernelResources
from ..errors import CompatWarning
from ._context import Context, function_attribute
from ._errors import LogicError, translated
from ._memory import ArgumentHandler, DeviceAllocation, PointerHolderBase, device_bytes, pointer_of
from ._timing import Event

__all__ = ["Function"]


class _Arg:
    """An argument converted here, in the form the core's launch takes it."""

    __slots__ = ("_mc_kernel_arg",)

    def __init__(self, array: Any, typed: bool) -> None:
        self._mc_kernel_arg = (array, typed)


# prepare()'s format characters (Python's struct codes) and the C types they pack.
_FORMAT_TYPES = {
    "b": "signed char", "B": "unsigned char", "h": "short", "H": "unsigned short", "i": "int",
    "I": "unsigned int", "l": "long", "L": "unsigned long", "q": "long long",
    "Q": "unsigned long long", "f": "float", "d": "double", "?": "bool", "P": "*",
}
_C_TYPES = {
    "int": "i", "signed int": "i", "unsigned int": "I", "unsigned": "I", "short": "h",
    "unsigned short": "H", "char": "b", "signed char": "b", "unsigned char": "B", "long": "l",
    "unsigned long": "L", "long long": "q", "unsigned long long": "Q", "float": "f",
    "double": "d", "bool": "?", "int32_t": "i", "uint32_t": "I", "int64_t": "q",
    "uint64_t": "Q", "size_t": "Q",
}


def _format_char(spelling: str) -> str | None:
    """The struct code of a parameter's C spelling ("const float* __restrict__" -> "P")."""
    if "*" in spelling:
        return "P"
    words = [w for w in spelling.replace("const", " ").replace("volatile", " ").split()
             if not w.startswith("__")]
    return _C_TYPES.get(" ".join(words))


def _format_of(arg_types: Any) -> str:
    if isinstance(arg_types, str):
        return arg_types
    out = []
    for t in arg_types:
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, np.dtype) and t.kind == "V":
            out.append(f"{t.itemsize}s")
        elif isinstance(t, type) and issubclass(t, np.number) or isinstance(t, np.dtype):
            out.append(np.dtype(t).char)
        else:
            out.append("P")
    return "".join(out)


def _split_format(fmt: str) -> list[str]:
    """"iP12sf" -> ["i", "P", "12s", "f"]."""
    out, count = [], ""
    for c in fmt:
        if c.isdigit():
            count += c
            continue
        if c in "@=<>! ":
            continue
        out.append(count + c if c == "s" else c)
        count = ""
    return out


class Function(_core.Function):
    """A kernel of a ``SourceModule``: ``f(*args, grid=(gx, gy), block=(bx, by, bz),
    shared=0, stream=None, time_kernel=False)``, or ``prepare`` and ``prepared_call``.

    It is a ``manycore.Function`` whose call takes PyCUDA's argument rules: the common launch
    runs in the core with no Python in between; ``_launch`` below does the rest."""

    # The core's launch with PyCUDA's rules; it hands anything else to _launch.
    __call__ = _core.Function._pycuda_call

    def __init__(self, mc_function: Any, module: Any) -> None:
        super().__init__(mc_function)
        self._mc_function = mc_function
        self._module = module
        self._pointer_params: list[bool] | None = None
        self._prepared: list[Any] | None = None
        self.arg_format = ""

    @property
    def mc_function(self) -> Any:
        """The plain manycore ``Function`` (manycore's own argument rules)."""
        return self._mc_function

    # ---- launching

    def _launch(self, args: tuple, kwargs: dict, notes: Any = None) -> Any:
        """Everything the core's launch hands back: PyCUDA's keywords, arguments to convert,
        and the warnings of a launch PyCUDA's rules let a mismatch through."""
        kwargs = dict(kwargs)
        grid = kwargs.pop("grid", (1, 1))
        block = kwargs.pop("block", None)
        shared = kwargs.pop("shared", None) or 0
        stream = kwargs.pop("stream", None)
        time_kernel = kwargs.pop("time_kernel", False)
        texrefs = kwargs.pop("texrefs", None)
        if kwargs:
            raise ValueError(f"extra keyword arguments: {','.join(kwargs)}")
        if block is None:
            raise ValueError("must specify block size")
        if texrefs:
            raise LogicError("texture references are not supported by manycore.pycuda")
        handlers: list[ArgumentHandler] = []
        converted = self._convert(args, stream, handlers)
        if time_kernel:
            if stream is not None:
                raise LogicError("Can't time the kernel on an asynchronous invocation")
            Context.synchronize()
            start = time.perf_counter()
        self._launch_converted(converted, grid, block, shared, stream)
        for h in handlers:
            h.post_call(stream)
        if time_kernel:
            Context.synchronize()
            return time.perf_counter() - start
        return None

    def _launch_converted(self, args: list, grid: Any, block: Any, shared: int, stream: Any) -> None:
        with translated():
            notes = self._pycuda_notes(*args)
            if notes is not None:
                self._warn(notes)
            self._pycuda_call(*args, grid=grid, block=block, shared=shared, stream=stream,
                              noted=True)

    def _pointer_flags(self) -> list[bool]:
        if self._pointer_params is None:
            self._pointer_params = ["*" in spelling for _, spelling in self.params]
        return self._pointer_params

    def _convert(self, args: tuple, stream: Any, handlers: list) -> list:
        """The arguments the core's launch takes: In/Out/InOut copied to the device, pointers
        given as numbers or foreign objects mapped to the allocation they point into."""
        pointers = self._pointer_flags()
        out = list(args)
        for i, a in enumerate(args):
            if isinstance(a, ArgumentHandler):
                handlers.append(a)
                out[i] = _Arg(a.pre_call(stream), True)
            elif isinstance(a, DeviceAllocation):
                a._check()
            elif hasattr(a, "_mc_kernel_arg"):
                continue
            elif i < len(pointers) and pointers[i] and (
                    isinstance(a, (int, np.integer, PointerHolderBase))
                    or hasattr(a, "__cuda_array_interface__") or hasattr(a, "gpudata")):
                out[i] = _Arg(device_bytes(pointer_of(a)), False)
        return out

    def _warn(self, notes: list) -> None:
        warned = self._module._warned
        for param, kind, message in notes:
            key = (self.name, param, kind)
            if key in warned:
                continue
            warned.add(key)
            w = CompatWarning(message)
            w.kind = kind
            warnings.warn(w, stacklevel=self._user_stacklevel())

    @staticmethod
    def _user_stacklevel() -> int:
        """The warnings stack level of the first frame outside manycore.pycuda."""
        import sys

        frame, level = sys._getframe(1), 1
        while frame is not None and frame.f_globals.get("__name__", "").startswith("manycore.pycuda"):
            frame, level = frame.f_back, level + 1
        return level

    # ---- prepared calls

    def prepare(self, arg_types: Any, block: Any = None, shared: Any = None, texrefs: Any = None) -> Function:
        """Fixes the argument types (PyCUDA's struct codes, "iPf", or a list of NumPy types):
        ``prepared_call`` then converts each argument to its code's type, as PyCUDA packs it."""
        if texrefs:
            raise LogicError("texture references are not supported by manycore.pycuda")
        self.arg_format = _format_of(arg_types)
        codes = _split_format(self.arg_format)
        params = self.params
        converters: list[Any] = []
        for k, code in enumerate(codes):
            param = _format_char(params[k][1]) if k < len(params) else None
            if code == "P" or code == param or code.endswith("s"):
                converters.append(None)  # the core converts it as this code would
            else:
                converters.append(np.dtype(code).type)
        self._prepared = converters
        self.__dict__.pop("prepared_call", None)
        if all(c is None for c in converters):
            # The kernel's own types: the core's prepared launch, no Python in between.
            self.prepared_call = types.MethodType(_core.Function._pycuda_prepared_call, self)
        return self

    def _prepared_args(self, args: tuple) -> tuple:
        if self._prepared is None:
            raise LogicError(f"{self.name}: call prepare(arg_types) before prepared_call")
        return tuple(a if c is None else c(a) for a, c in zip(args, self._prepared))

    def prepared_call(self, grid: Any, block: Any, *args: Any, shared_size: int = 0) -> None:
        """Launches with the types ``prepare`` fixed, converting each argument to its type."""
        self._launch(self._prepared_args(args), {"grid": grid, "block": block, "shared": shared_size})

    def _prepared_launch(self, args: tuple, kwargs: dict) -> None:
        """What the core's prepared launch hands back (see ``_launch``)."""
        grid, block, *rest = args
        self._launch(tuple(rest), {"grid": grid, "block": block,
                                   "shared": kwargs.get("shared_size", 0)})

    def prepared_async_call(self, grid: Any, block: Any, stream: Any, *args: Any,
                            shared_size: int = 0) -> None:
        """Queues the launch on ``stream`` (None: the default stream)."""
        a = self._prepared_args(args)
        self._launch(a, {"grid": grid, "block": block, "shared": shared_size, "stream": stream})

    def prepared_timed_call(self, grid: Any, block: Any, *args: Any, shared_size: int = 0):
        """Launches between two events; returns a function that gives the launch's time in
        seconds (waiting for it to finish)."""
        start, end = Event(), Event()
        start.record()
        self.prepared_call(grid, block, *args, shared_size=shared_size)
        end.record()

        def get_call_time() -> float:
            end.synchronize()
            return end.time_since(start) * 1e-3

        return get_call_time

    # ---- attributes

    @property
    def resources(self) -> KernelResources:
        """What the kernel needs of a GPU (``manycore.KernelResources``): the driver's numbers
        on a GPU, on the CPU NVRTC's for ``MANYCORE_EMULATED_ARCH``; ``reason`` says why a
        number is None."""
        return self.resource_usage()

    @property
    def num_regs(self) -> int | None:
        return self.resources.registers

    @property
    def shared_size_bytes(self) -> int | None:
        return self.resources.shared_bytes

    @property
    def local_size_bytes(self) -> int | None:
        return self.resources.local_bytes

    @property
    def const_size_bytes(self) -> int | None:
        return self.resources.const_bytes

    @property
    def max_threads_per_block(self) -> int | None:
        return self.resources.max_threads_per_block

    def get_attribute(self, attribute: int) -> int | None:
        a, r = function_attribute(int(attribute)), self.resources
        values = {
            function_attribute.MAX_THREADS_PER_BLOCK: r.max_threads_per_block,
            function_attribute.SHARED_SIZE_BYTES: r.shared_bytes,
            function_attribute.CONST_SIZE_BYTES: r.const_bytes,
            function_attribute.LOCAL_SIZE_BYTES: r.local_bytes,
            function_attribute.NUM_REGS: r.registers,
            function_attribute.PTX_VERSION: int(r.arch[3:]),
            function_attribute.BINARY_VERSION: int(r.arch[3:]),
            function_attribute.CACHE_MODE_CA: 0,
            function_attribute.MAX_DYNAMIC_SHARED_SIZE_BYTES:
                None if r.shared_bytes is None else 48 * 1024 - r.shared_bytes,
            function_attribute.PREFERRED_SHARED_MEMORY_CARVEOUT: -1,
        }
        return values[a]

    def set_attribute(self, attribute: int, value: int) -> None:
        """Accepted; manycore launches with the driver's defaults."""

    def set_cache_config(self, config: int) -> None:
        """Accepted; manycore leaves the L1/shared split to the driver."""

    def set_shared_config(self, config: int) -> None:
        """Accepted; manycore leaves shared-memory banks to the driver."""

    def __repr__(self) -> str:
        return f"<manycore.pycuda Function {self.signature} on {self.device}>"

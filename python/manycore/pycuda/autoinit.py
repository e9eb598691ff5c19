# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``import pycuda.autoinit``: a current context on the default device (the first GPU, else the
CPU), popped at exit; ``device`` and ``context`` as PyCUDA names them."""

from __future__ import annotations

import atexit

from . import driver as cuda
from .tools import clear_context_caches, make_default_context

cuda.init()
context = make_default_context()
device = context.get_device()


def _finish_up() -> None:
    global context
    if context is not None and cuda.Context.get_current() is context:
        context.pop()
    context = None
    clear_context_caches()


atexit.register(_finish_up)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What the manycore.pycuda tests share: a context on each device, and child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import manycore as mc
import manycore.pycuda.driver as drv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "pycuda"


@pytest.fixture
def ctx(device: mc.Device):
    """A PyCUDA context made current on ``device`` (each device of the machine in turn)."""
    context = drv.Device(device).make_context()
    try:
        yield context
    finally:
        context.detach()


def run_python(*args: str, code: str | None = None, timeout: int = 300,
               **env: str) -> subprocess.CompletedProcess:
    """``python args`` (or ``python -c code``) in a child process, with extra environment."""
    cmd = [sys.executable, *args] if code is None else [sys.executable, "-c", textwrap.dedent(code)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **env})

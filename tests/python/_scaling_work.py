# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Work for test_scaling.py's child processes (a function they can import)."""

from __future__ import annotations

import os


def threads_seen(size=None) -> None:
    """Writes the CPU device's threads of this process where the test reads them."""
    from manycore import _core

    with open(os.environ["SCALING_TEST_OUT"], "a") as f:
        f.write(f"{_core.num_threads()} {size}\n")

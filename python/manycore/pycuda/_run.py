# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore pycuda script.py [args]``: a PyCUDA program run unmodified on manycore."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence

USAGE = """usage: manycore pycuda script.py [args ...]

Runs a PyCUDA program with `import pycuda` (pycuda.autoinit, pycuda.driver, pycuda.compiler,
pycuda.gpuarray, ...) resolved to manycore.pycuda: on the first GPU, else on every CPU core.
Bugs PyCUDA lets through are shown as manycore.CompatWarning. Everything after the script is
the script's own arguments. In a notebook: import manycore.pycuda; manycore.pycuda.install().
"""


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    script = argv[0]
    if not os.path.isfile(script):
        print(f"manycore pycuda: no such script: {script}", file=sys.stderr)
        return 2
    import manycore.pycuda as layer
    from manycore.pycuda._context import mc_devices

    try:
        layer.install()
    except RuntimeError as e:
        print(f"manycore pycuda: {e}", file=sys.stderr)
        return 2
    shadowed = layer.shadowed_pycuda()
    note = f"; the PyCUDA installed at {shadowed} is not used" if shadowed else ""
    print(f"manycore pycuda: `import pycuda` gives manycore.pycuda ({layer.VERSION_STATUS}) on "
          f"{mc_devices()[0]}{note}", file=sys.stderr)
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0

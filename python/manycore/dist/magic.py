# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The IPython cell magic ``%%mpirun``: runs a notebook cell as an MPI job and shows its output.

    %load_ext manycore.dist.magic
    %%mpirun -n 4 --tag-output --timeout 60
    from manycore import dist
    print(dist.world().rank)

The cell is written to a temporary script and started with ``manycore run`` (so an exception
on any rank ends the job, never a hang). Variables do not come back into the notebook: each
rank is a separate process.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

from .launcher import RunOptions, build_command, parse_args

__all__ = ["build_cell_command", "run_cell", "load_ipython_extension"]


def build_cell_command(line: str, script_path: str) -> tuple[RunOptions, list[str]]:
    """The options and launcher command for the magic line ``line`` (e.g. "-n 4 --timeout 30")
    running ``script_path``. Raises ValueError for a bad line."""
    o = parse_args([*shlex.split(line), script_path])
    if o.module is not None or o.script != script_path or o.args:
        raise ValueError("%%mpirun takes launcher options only (-n N, --tag-output, --timeout S, "
                         "--launcher L, --mpi-arg ARG); the cell is the program")
    return o, build_command(o)


def run_cell(line: str, cell: str, *, echo: bool = True) -> subprocess.CompletedProcess:
    """Runs ``cell`` on the ranks that ``line`` asks for; prints the output when ``echo``;
    returns the completed process (its ``returncode`` is the job's status)."""
    with tempfile.TemporaryDirectory(prefix="manycore-mpirun-") as folder:
        script = os.path.join(folder, "cell.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(cell)
        o, cmd = build_cell_command(line, script)
        timeout = None if o.timeout is None else o.timeout + 30
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            # What the child wrote before it was killed comes as bytes, even with text=True.
            out, err = (s.decode() if isinstance(s, bytes) else s or "" for s in (e.stdout, e.stderr))
            done = subprocess.CompletedProcess(cmd, 124, out, err + "\n(killed)")
    if echo:
        sys.stdout.write(done.stdout if isinstance(done.stdout, str) else done.stdout.decode())
        if done.stderr:
            sys.stderr.write(done.stderr if isinstance(done.stderr, str) else done.stderr.decode())
        if done.returncode != 0:
            print(f"%%mpirun: the job ended with status {done.returncode}", file=sys.stderr)
    return done


def _mpirun_magic(line: str, cell: str) -> None:
    try:
        run_cell(line, cell)
    except ValueError as e:
        print(f"%%mpirun: {e}", file=sys.stderr)


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext manycore.dist.magic``."""
    ipython.register_magic_function(_mpirun_magic, magic_kind="cell", magic_name="mpirun")

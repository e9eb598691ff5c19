# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Runs a lab's source as a script: its code cells in order, in one namespace, as a notebook
would, with ``%%mpirun`` cells started on MPI ranks (``manycore.dist.magic``). It needs
neither Jupyter nor jupytext, so labs run as scripts wherever manycore runs.

    python -m manycore.labs.runner lab04_vector_add.py --size small --json out.json

Exit status: 0 when the lab passed, 1 when a check failed (the message names the variant),
2 when the lab could not run.
"""

from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cell", "cells", "run_source", "main"]

# A cell starts at "# %%" followed by a space or the line's end; "# %%mpirun" is not a start
# but a commented cell magic (jupytext's spelling of one).
_CELL_START = re.compile(r"^# %%(?:\s|$)")
_MAGIC = re.compile(r"^# %%(\w+)\s*(.*)$")


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    source: str
    line: int  # the first line of source in the file (1-based)
    tags: tuple[str, ...] = ()

    @property
    def cell_magic(self) -> tuple[str, str] | None:
        """(name, arguments) of a cell magic on the first line ("mpirun", "-n 2"), else None."""
        first = self.source.split("\n", 1)[0]
        m = _MAGIC.match(first)
        return (m.group(1), m.group(2)) if m else None


def cells(text: str) -> list[Cell]:
    """The cells of a jupytext percent-format source; lines before the first cell (the
    licence header) belong to none."""
    out: list[Cell] = []
    lines = text.split("\n")
    current: Cell | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            while body and not body[-1].strip():
                body.pop()
            current.source = "\n".join(body)
            out.append(current)

    for i, line in enumerate(lines, start=1):
        if _CELL_START.match(line):
            close()
            header = line[4:].strip()
            kind = "markdown" if header.startswith("[markdown]") else "code"
            tags = tuple(re.findall(r'"([^"]+)"', header.split("tags=", 1)[1])) if "tags=" in header else ()
            current, body = Cell(kind, "", i + 1, tags), []
        elif current is not None:
            body.append(line)
    close()
    return out


def _run_mpi_cell(cell: Cell) -> None:
    from manycore.dist.magic import run_cell

    _, args = cell.cell_magic  # type: ignore[misc]
    code = cell.source.split("\n", 1)[1] if "\n" in cell.source else ""
    # Line numbers in the job's tracebacks match the lab's source.
    run_cell(args, "\n" * cell.line + code)


def run_source(path: Path, argv: list[str]) -> int:
    """Runs the lab at ``path`` with ``argv`` as its command line; returns the exit status."""
    from .kit import LabFailed

    text = path.read_text(encoding="utf-8")
    namespace = {"__name__": "__main__", "__file__": str(path)}
    old_argv = sys.argv
    sys.argv = [str(path), *argv]
    try:
        for cell in cells(text):
            if cell.kind != "code" or not cell.source.strip():
                continue
            magic = cell.cell_magic
            if magic and magic[0] == "mpirun":
                _run_mpi_cell(cell)
                continue
            if magic:
                raise SystemExit(f"{path.name}:{cell.line}: cell magic %%{magic[0]} cannot run "
                                 "as a script")
            code = compile("\n" * (cell.line - 1) + cell.source, str(path), "exec")
            exec(code, namespace)  # noqa: S102 -- running the lab is the point
    except LabFailed as e:
        print(f"\n{e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        if e.code in (None, 0):
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 -- the lab's own error, shown as Python would
        traceback.print_exc()
        return 2
    finally:
        sys.argv = old_argv
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"no such lab source: {path}", file=sys.stderr)
        return 2
    return run_source(path, argv[1:])


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""A lab's source as a notebook: its solution or exercise form, the parameters set, written
with jupytext and executed with nbclient (an IPython kernel of this Python).

The parts a student writes are marked in the source by comment lines, in Python or in a
kernel's C++::

    # BEGIN SOLUTION: compute the global index, and guard it
    ...
    # END SOLUTION

The exercise form replaces each marked part by a ``TODO`` line with the hint (and, in Python,
a ``raise NotImplementedError`` so the cell says what is missing); the solution form keeps
the code and the markers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import LabInfo

__all__ = ["solution_text", "exercise_text", "blanks", "notebook", "write_notebook",
           "execute_notebook", "needs", "notebook_name"]

_BEGIN = re.compile(r"^(?P<indent>\s*)(?P<mark>#|//) BEGIN SOLUTION(?::\s*(?P<hint>.*))?$")
_END = re.compile(r"^\s*(#|//) END SOLUTION\s*$")


def needs() -> str:
    """Why notebooks cannot be made or run here ("" when they can)."""
    import importlib.util

    missing = [m for m in ("jupytext", "nbformat", "nbclient", "ipykernel")
               if importlib.util.find_spec(m) is None]
    if missing:
        return (f"{', '.join(missing)} not installed: pip install jupytext nbclient ipykernel "
                "(tools/dev.sh installs them)")
    return ""


def blanks(text: str) -> list[tuple[int, int, str, str, str]]:
    """The marked parts of a source: (first line, last line (the END marker), indent, comment
    mark, hint), 0-based; a marker without its pair is a ValueError naming the line."""
    out = []
    open_at: tuple[int, str, str, str] | None = None
    for i, line in enumerate(text.split("\n")):
        m = _BEGIN.match(line)
        if m:
            if open_at is not None:
                raise ValueError(f"line {i + 1}: BEGIN SOLUTION inside the one of line {open_at[0] + 1}")
            open_at = (i, m.group("indent"), m.group("mark"), (m.group("hint") or "").strip())
        elif _END.match(line):
            if open_at is None:
                raise ValueError(f"line {i + 1}: END SOLUTION without a BEGIN SOLUTION")
            out.append((open_at[0], i, open_at[1], open_at[2], open_at[3]))
            open_at = None
    if open_at is not None:
        raise ValueError(f"line {open_at[0] + 1}: BEGIN SOLUTION is never ended")
    return out


def solution_text(info: LabInfo) -> str:
    return info.path.read_text(encoding="utf-8")


def exercise_text(text: str) -> str:
    """``text`` with every marked part replaced by what the student is asked to write."""
    lines = text.split("\n")
    out: list[str] = []
    at = 0
    for first, last, indent, mark, hint in blanks(text):
        out.extend(lines[at:first])
        hint = hint or "your code here"
        out.append(f"{indent}{mark} TODO: {hint}")
        if mark == "#":
            out.append(f"{indent}raise NotImplementedError({('exercise: ' + hint)!r})")
        at = last + 1
    out.extend(lines[at:])
    return "\n".join(out)


def _body(text: str) -> str:
    """The source from its first cell on (the licence header is no cell)."""
    m = re.search(r"^# %%", text, flags=re.M)
    return text[m.start():] if m else text


def _set_parameters(nb: Any, parameters: dict[str, Any], name: str) -> None:
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ValueError(f"{name}: no cell tagged 'parameters'")
    src = cell.source
    for key, value in parameters.items():
        src, n = re.subn(rf"^{key}\s*=.*$", f"{key} = {value!r}", src, count=1, flags=re.M)
        if n != 1:
            raise ValueError(f"{name}: the parameters cell sets no {key}")
    cell.source = src


def notebook(info: LabInfo, *, exercise: bool = False, parameters: dict[str, Any] | None = None) -> Any:
    """The lab as an nbformat notebook (solution or exercise form), with ``parameters``
    (SIZE, DEVICE, RESULT...) set in its parameters cell."""
    import jupytext

    text = solution_text(info)
    if exercise:
        text = exercise_text(text)
    nb = jupytext.reads(_body(text), fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata.pop("jupytext", None)
    _set_parameters(nb, parameters or {}, info.path.name)
    return nb


def notebook_name(info: LabInfo, exercise: bool = False) -> str:
    return info.path.stem + ("-exercise" if exercise else "") + ".ipynb"


def write_notebook(info: LabInfo, folder: Path, *, exercise: bool = False,
                   parameters: dict[str, Any] | None = None) -> Path:
    """Writes the notebook into ``folder`` (made if missing) and returns its path."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / notebook_name(info, exercise)
    nbformat.write(notebook(info, exercise=exercise, parameters=parameters), str(path))
    return path


def execute_notebook(path: Path, *, timeout: int = 600, save: bool = True) -> Any:
    """Runs every cell of the notebook at ``path`` in a new IPython kernel whose working folder
    is the notebook's; a failing cell raises nbclient's CellExecutionError. Saves the
    executed notebook in place when ``save``."""
    import nbclient
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        if save:
            nbformat.write(nb, str(path))
    return nb

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What ``manycore check`` does: run a script checked, read the findings back, print them.

Two sources of findings, one format (:class:`manycore.findings.Finding`):

- **checked mode**: the script runs with ``MANYCORE_CHECK=1`` (every module checked, GPU
  modules moved to the CPU), and instead of raising, each finding is appended as one JSON line
  to the file named by ``MANYCORE_CHECK_COLLECT`` (:func:`read_collected`);
- **compute-sanitizer**: the script runs under its memcheck, racecheck, synccheck and
  initcheck tools, and their text reports are parsed (:func:`parse_sanitizer_report`).

:func:`format_report` groups the findings by kernel, folds identical ones into a count and
ends with a summary line; :func:`exit_status` turns the outcome into the command's status.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .findings import KINDS, Finding

__all__ = [
    "SANITIZER_TOOLS",
    "CheckRun",
    "checked_launches",
    "checked_mode_available",
    "exit_status",
    "find_compute_sanitizer",
    "format_report",
    "parse_sanitizer_report",
    "read_collected",
    "run_checked",
    "run_sanitizer",
]

#: compute-sanitizer's tools, in the order ``manycore check --sanitizer`` runs them.
SANITIZER_TOOLS = ("memcheck", "racecheck", "synccheck", "initcheck")

#: Distinct findings shown per kernel; the rest are counted.
SHOWN_PER_KERNEL = 20

#: Exit status when the check itself could not run (no such script, no compute-sanitizer).
CANNOT_RUN = 2


@dataclass
class CheckRun:
    """One run of the script: its findings, its exit status, and notes for the reader."""

    findings: list[Finding] = field(default_factory=list)
    returncode: int = 0
    notes: list[str] = field(default_factory=list)
    #: Checked launches the script made (checked mode); None when not counted (sanitizer).
    launches: int | None = None


# ---------------------------------------------------------------------------------------------
# Checked mode


def checked_mode_available() -> bool:
    """Whether this manycore has the checked-mode engine (``checked=True`` builds a module)."""
    import manycore as mc

    try:
        mc.SourceModule("__global__ void mc_check_probe() {}", device="cpu", checked=True)
    except mc.InvalidArgument:
        return False
    return True


def read_collected(path: str | os.PathLike[str]) -> tuple[list[Finding], list[str]]:
    """The findings a checked run appended to ``path`` (one JSON object a line), and a note for
    each line that could not be read (a run killed mid-write leaves a partial last line)."""
    findings: list[Finding] = []
    notes: list[str] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return findings, notes
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if isinstance(record, dict) and "checked_launches" in record:
                continue  # a count of launches (checked_launches), not a finding
            findings.append(Finding.from_dict(record))
        except (ValueError, TypeError) as e:
            notes.append(f"ignored line {number} of the findings file: {e}")
    return findings, notes


def checked_launches(path: str | os.PathLike[str]) -> int:
    """How many checked launches the processes that wrote ``path`` made: each process tells
    its count at its first checked launch and again at exit (a process that died at once
    counts the launches it told)."""
    counts: dict[int, int] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "checked_launches" in record:
            pid = int(record.get("pid", 0))
            counts[pid] = max(counts.get(pid, 0), int(record["checked_launches"]))
    return sum(counts.values())


def _returncode(code: int) -> int:
    # A script killed by signal N reads as 128 + N, as a shell reports it.
    return 128 - code if code < 0 else code


def script_command(script: str, args: Sequence[str] = (), pycuda: bool = False) -> list[str]:
    """``python script args``, or with ``pycuda`` ``python -m manycore pycuda script args`` (a
    PyCUDA program, its ``import pycuda`` resolved to manycore.pycuda)."""
    return [sys.executable, *(["-m", "manycore", "pycuda"] if pycuda else []), script, *args]


def run_checked(script: str, args: Sequence[str] = (), env: dict[str, str] | None = None,
                pycuda: bool = False) -> CheckRun:
    """Runs ``python script args`` with every module in checked mode on the CPU and collects
    its findings (``pycuda``: as a PyCUDA program, see :func:`script_command`). The script's own
    output goes to this process's stdout and stderr."""
    run = CheckRun()
    with tempfile.TemporaryDirectory(prefix="manycore-check-") as folder:
        collect = os.path.join(folder, "findings.jsonl")
        child_env = dict(os.environ if env is None else env)
        child_env.update(MANYCORE_CHECK="1", MANYCORE_CHECK_ON_CPU="1",
                         MANYCORE_CHECK_COLLECT=collect)
        completed = subprocess.run(script_command(script, args, pycuda), env=child_env, check=False)
        run.returncode = _returncode(completed.returncode)
        run.findings, run.notes = read_collected(collect)
        run.launches = checked_launches(collect)
    return run


# ---------------------------------------------------------------------------------------------
# compute-sanitizer


def find_compute_sanitizer(env: dict[str, str] | None = None) -> str | None:
    """compute-sanitizer's path: on PATH, else in $CUDA_HOME/bin, else /usr/local/cuda/bin."""
    env = os.environ if env is None else env
    found = shutil.which("compute-sanitizer", path=env.get("PATH"))
    if found:
        return found
    for folder in (env.get("CUDA_HOME"), env.get("CUDA_PATH"), "/usr/local/cuda"):
        if folder:
            candidate = os.path.join(folder, "bin", "compute-sanitizer")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


_PREFIX = re.compile(r"^=+ ?")
_COORDS = r"\((\d+),\s*(\d+),\s*(\d+)\)"
_THREAD_BLOCK = re.compile(rf"by thread {_COORDS} in block {_COORDS}")
_FRAME_FILE_LINE = re.compile(r"in (\S+?):(\d+)(?::|\s|$)")
_MEMCHECK = re.compile(r"Invalid (__global__|__shared__|__local__|__generic__)? ?(read|write|atomic)"
                       r"\w* of size (\d+) bytes?", re.IGNORECASE)
# Case-sensitive: a kernel's access opens its error with the capital; host API copies of
# uninitialized memory are reported in another form, and are not a kernel's finding.
_INITCHECK = re.compile(r"^Uninitialized (__global__|__shared__|__local__)? ?memory (read|access)"
                        r"(?: of size (\d+) bytes?)?")
_RACE_PAIR = re.compile(r"(Error|Warning): Race reported between (Read|Write) access at (.+)$",
                        re.IGNORECASE)
_RACE_SECOND = re.compile(r"and (Read|Write) access at (.+?)(?:\s*\[(\d+) hazards?\])?$",
                          re.IGNORECASE)
_HAZARD = re.compile(r"(Error|Warning): Potential (RAW|WAR|WAW) hazard detected at "
                     r"(__shared__|__global__) (0x[0-9a-fA-F]+) in block " + _COORDS, re.IGNORECASE)
_HAZARD_THREAD = re.compile(rf"(Read|Write) Thread {_COORDS} at (.+)$", re.IGNORECASE)
_BARRIER = re.compile(r"Barrier error detected\.?\s*(.*)$")


def _kernel_name(frame: str) -> str:
    """The kernel's name from a frame: ``reduce<float, 256>(float *)+0x1a0 in kernel.cu:12``,
    ``0x1a0 in /tmp/k.cu:12:axpy(int, float *)``, ``void k<int>(int*)``: the name alone."""
    text = frame.strip()
    # Old layout: "0x70 in FILE:LINE:SIGNATURE"; the signature follows the line number.
    old = re.match(r"^(?:0x[0-9a-fA-F]+ in )?\S+?:\d+:(.+)$", text)
    if old and not text.split()[0].endswith(")"):
        text = old.group(1)
    text = re.sub(r"\+0x[0-9a-fA-F]+.*$", "", text)  # new layout: "SIGNATURE+0x70 in FILE:LINE"
    text = re.sub(r"\s+in\s+\S+$", "", text)
    depth, cut = 0, len(text)
    for i, c in enumerate(text):
        depth += (c == "<") - (c == ">")
        if c == "(" and depth == 0:
            cut = i
            break
    name = text[:cut].strip()
    # A return type before a template's name ("void k<int>"): the last word outside <>.
    depth, start = 0, 0
    for i, c in enumerate(name):
        depth += (c == "<") - (c == ">")
        if c == " " and depth == 0:
            start = i + 1
    return name[start:] or "?"


def _frame_line(frame: str) -> int | None:
    match = _FRAME_FILE_LINE.search(frame + " ")
    return int(match.group(2)) if match else None


def _coords(groups: Sequence[str]) -> tuple[int, int, int]:
    return (int(groups[0]), int(groups[1]), int(groups[2]))


_SPACES = {"__global__": "global", "__shared__": "shared", "__local__": "local",
           "__generic__": None, None: None}


def _where(kernel: str, line: int | None) -> str:
    return f"kernel '{kernel}'" + (f" at line {line}" if line is not None else "")


def _blocks(text: str) -> list[list[str]]:
    """The report's lines without the ``=========`` prefix, cut into one list per error (an
    error starts at an unindented line; its details are indented)."""
    blocks: list[list[str]] = []
    for raw in text.splitlines():
        if not _PREFIX.match(raw):
            continue  # the program's own output
        line = _PREFIX.sub("", raw).rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            blocks.append([line.strip()])
        elif blocks:
            blocks[-1].append(line.strip())
    return blocks


def _memory_finding(kind: str, tool: str, head: re.Match[str], block: list[str]) -> Finding:
    frame = next((b[3:] for b in block[1:] if b.startswith("at ")), "")
    kernel, line = _kernel_name(frame), _frame_line(frame)
    coords = next((m for m in map(_THREAD_BLOCK.search, block) if m), None)
    thread = _coords(coords.groups()[:3]) if coords else None
    where_block = _coords(coords.groups()[3:]) if coords else None
    space = _SPACES.get(head.group(1))
    access = {"read": "read", "access": "read", "write": "write", "atomic": "write"}[
        head.group(2).lower()]
    size = head.group(3)
    detail = next((b for b in block[1:] if b.startswith("Address ")), "")
    who = (f"thread {_fmt(thread)} of block {_fmt(where_block)} " if thread else "a thread ")
    verb = "reads" if access == "read" else "writes"
    what = f"{size} bytes " if size else ""
    if kind == "out-of-bounds" and "misaligned" in detail:
        text = (f"out-of-bounds in {_where(kernel, line)}: {who}{verb} {what}at a misaligned "
                f"address of {space or 'device'} memory")
    elif kind == "out-of-bounds":
        outside = ("the block's shared memory" if space == "shared"
                   else f"any allocation of {space or 'device'} memory")
        text = f"out-of-bounds in {_where(kernel, line)}: {who}{verb} {what}outside {outside}"
    else:
        text = (f"uninitialized-read in {_where(kernel, line)}: {who}reads {what}of "
                f"{space or 'device'} memory that nothing wrote")
    text += f" (compute-sanitizer {tool}" + (f": {detail}" if detail else "") + ")"
    return Finding(kind=kind, kernel=kernel, message=text, space=space, access=access,
                   line=line, block=where_block, thread=thread)


def _fmt(c: tuple[int, int, int] | None) -> str:
    return "(?)" if c is None else f"({c[0]},{c[1]},{c[2]})"


def _race_pair(block: list[str], first: re.Match[str]) -> Finding:
    second = next((m for m in map(_RACE_SECOND.search, block[1:]) if m), None)
    frame1 = first.group(3)
    kernel, line1 = _kernel_name(frame1), _frame_line(frame1)
    access1 = first.group(2).lower()
    access2 = second.group(1).lower() if second else None
    line2 = _frame_line(second.group(2)) if second else None
    hazards = second.group(3) if second else None
    text = (f"race in kernel '{kernel}', shared memory: a {access1} at line {line1} and a "
            f"{access2 or 'conflicting access'} at line {line2} by different threads with no "
            f"__syncthreads between (compute-sanitizer racecheck"
            + (f", {hazards} hazards" if hazards else "") + ")")
    # racecheck's default report names lines, not threads: the coordinates stay unknown.
    return Finding(kind="race", kernel=kernel, message=text, space="shared", access=access1,
                   line=line1, other_access=access2, other_line=line2)


def _race_hazard(block: list[str], head: re.Match[str]) -> Finding:
    where_block = _coords(head.groups()[4:7])
    threads = [m for m in map(_HAZARD_THREAD.search, block[1:]) if m]
    t1 = threads[0] if threads else None
    t2 = threads[1] if len(threads) > 1 else None
    frame = t1.group(5) if t1 else ""
    kernel = _kernel_name(frame)
    space = _SPACES[head.group(3).lower()]
    info = [(m.group(1).lower(), _coords(m.groups()[1:4]), _frame_line(m.group(5)))
            for m in (t1, t2) if m]
    parts = [f"thread {_fmt(c)} {'reads' if a == 'read' else 'writes'} at line {ln}"
             for a, c, ln in info]
    text = (f"race in kernel '{kernel}', {space} memory at {head.group(4)} in block "
            f"{_fmt(where_block)}: " + " while ".join(parts) +
            f" with no __syncthreads between ({head.group(2)} hazard; compute-sanitizer racecheck)")
    first = info[0] if info else (None, None, None)
    second = info[1] if len(info) > 1 else (None, None, None)
    return Finding(kind="race", kernel=kernel, message=text, space=space, access=first[0],
                   line=first[2], block=where_block, thread=first[1], other_access=second[0],
                   other_line=second[2], other_block=where_block if second[1] else None,
                   other_thread=second[1])


def _barrier_finding(block: list[str], head: re.Match[str]) -> Finding:
    frame = next((b[3:] for b in block[1:] if b.startswith("at ")), "")
    kernel, line = _kernel_name(frame), _frame_line(frame)
    coords = next((m for m in map(_THREAD_BLOCK.search, block) if m), None)
    thread = _coords(coords.groups()[:3]) if coords else None
    where_block = _coords(coords.groups()[3:]) if coords else None
    what = head.group(1).strip() or "divergent threads at a barrier"
    who = f" thread {_fmt(thread)} of block {_fmt(where_block)}" if thread else ""
    text = (f"barrier-divergence in {_where(kernel, line)}:{who} waits at a barrier that other "
            f"threads of its block do not reach ({what.rstrip('.')}; compute-sanitizer synccheck)")
    return Finding(kind="barrier-divergence", kernel=kernel, message=text, line=line,
                   block=where_block, thread=thread)


def parse_sanitizer_report(text: str, tool: str) -> list[Finding]:
    """The findings in one compute-sanitizer report of ``tool`` (memcheck, racecheck,
    synccheck or initcheck), in report order. Lines without the ``=========`` prefix (the
    program's own output) and errors of other kinds (API errors, leaks) are skipped."""
    if tool not in SANITIZER_TOOLS:
        raise ValueError(f"parse_sanitizer_report: tool must be one of {SANITIZER_TOOLS}, "
                         f"not {tool!r}")
    findings: list[Finding] = []
    for block in _blocks(text):
        head = block[0]
        if tool == "memcheck" and (m := _MEMCHECK.search(head)):
            findings.append(_memory_finding("out-of-bounds", tool, m, block))
        elif tool == "initcheck" and (m := _INITCHECK.search(head)):
            findings.append(_memory_finding("uninitialized-read", tool, m, block))
        elif tool == "racecheck" and (m := _RACE_PAIR.search(head)):
            findings.append(_race_pair(block, m))
        elif tool == "racecheck" and (m := _HAZARD.search(head)):
            findings.append(_race_hazard(block, m))
        elif tool == "synccheck" and (m := _BARRIER.search(head)):
            findings.append(_barrier_finding(block, m))
    return findings


def run_sanitizer(script: str, args: Sequence[str] = (), sanitizer: str | None = None,
                  tools: Iterable[str] = SANITIZER_TOOLS, pycuda: bool = False) -> CheckRun:
    """Runs ``python script args`` under each compute-sanitizer tool in turn and collects the
    findings of all. Raises FileNotFoundError when compute-sanitizer cannot be found."""
    sanitizer = sanitizer or find_compute_sanitizer()
    if sanitizer is None:
        raise FileNotFoundError(
            "compute-sanitizer not found on PATH, in $CUDA_HOME/bin or in /usr/local/cuda/bin; "
            "it comes with the CUDA toolkit (put its bin folder on PATH), or run "
            "`manycore check script.py` for checked mode on the CPU"
        )
    run = CheckRun()
    with tempfile.TemporaryDirectory(prefix="manycore-sanitizer-") as folder:
        for tool in tools:
            log = os.path.join(folder, f"{tool}.log")
            print(f"manycore check: running the script under compute-sanitizer --tool {tool}",
                  file=sys.stderr, flush=True)
            completed = subprocess.run(
                [sanitizer, "--tool", tool, "--log-file", log, *script_command(script, args, pycuda)],
                check=False,
            )
            text = Path(log).read_text(encoding="utf-8", errors="replace") if os.path.exists(log) else ""
            run.findings += parse_sanitizer_report(text, tool)
            code = _returncode(completed.returncode)
            if code != 0 and run.returncode == 0:
                run.returncode = code
    return run


# ---------------------------------------------------------------------------------------------
# Reporting


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_report(findings: Sequence[Finding], launches: int | None = None) -> str:
    """The findings grouped by kernel (kernels in order of first finding), identical ones
    folded into one line with a count, each kernel's sorted by kind and line, then a summary
    line (:func:`summary_line`, which says how many ``launches`` were checked when known).
    With no findings, the summary alone."""
    counts: Counter[Finding] = Counter(findings)
    by_kernel: dict[str, list[Finding]] = {}
    for f in counts:  # Counter keeps first-seen order
        by_kernel.setdefault(f.kernel, []).append(f)
    lines: list[str] = []
    for kernel, distinct in by_kernel.items():
        total = sum(counts[f] for f in distinct)
        lines.append(f"kernel '{kernel}': {_plural(len(distinct), 'distinct finding')}"
                     + (f" ({total} in all)" if total != len(distinct) else ""))
        distinct.sort(key=lambda f: (KINDS.index(f.kind), f.line if f.line is not None else -1))
        for f in distinct[:SHOWN_PER_KERNEL]:
            times = f" [x{counts[f]}]" if counts[f] > 1 else ""
            lines.append(f"  {f.message}{times}")
        if len(distinct) > SHOWN_PER_KERNEL:
            lines.append(f"  ... and {len(distinct) - SHOWN_PER_KERNEL} more")
        lines.append("")
    lines.append(summary_line(findings, launches))
    return "\n".join(lines)


def summary_line(findings: Sequence[Finding], launches: int | None = None) -> str:
    """``manycore check: 3 findings (2 out-of-bounds, 1 race) in 2 kernels`` or ``no findings``,
    followed by how many ``launches`` were checked when known; with none checked, that nothing
    was checked (a script that failed before its first launch has no findings to show)."""
    checked = "" if launches is None else (
        f" in {launches} checked launch{'' if launches == 1 else 'es'}")
    if launches == 0 and not findings:
        return "manycore check: nothing was checked: the script made no kernel launch"
    if not findings:
        return f"manycore check: no findings{checked}"
    distinct = set(findings)
    kinds = Counter(f.kind for f in distinct)
    by_kind = ", ".join(f"{kinds[k]} {k}" for k in KINDS if kinds[k])
    kernels = len({f.kernel for f in distinct})
    repeats = f", {len(findings)} reports in all" if len(findings) != len(distinct) else ""
    return (f"manycore check: {_plural(len(distinct), 'finding')} ({by_kind}) in "
            f"{_plural(kernels, 'kernel')}{repeats}" + (f" ({checked.strip()})" if checked else ""))


def exit_status(run: CheckRun) -> int:
    """1 when there are findings; else the script's own status (0 when it succeeded)."""
    if run.findings:
        return 1
    return run.returncode

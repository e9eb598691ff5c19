# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The SLURM commands of ``manycore``: submit, jobs, wait, cancel (registered by cli.py)."""

from __future__ import annotations

import argparse
import os
import sys

from ._jobscript import SubmitOptions, job_script, load_site_profile
from ._scheduler import (
    NEVER_STARTS,
    Job,
    SlurmError,
    cancel,
    check_job_id,
    explain_reason,
    jobs,
    last_submitted,
    submit,
    wait_until_finished,
)

__all__ = ["add_commands", "info_pairs"]

# Commands a job may not run: they talk to SLURM from a login node, not inside a job.
_NOT_IN_A_JOB = ("submit", "jobs", "wait", "cancel")

SUBMIT_EPILOG = """\
what the job runs:
  manycore submit [options] script.py [args]     the script through `manycore run` (every
                                                 task a rank; an exception ends them all)
  manycore submit [options] -- COMMAND [args]    any manycore command, e.g.
      -- labs run 3          a lab
      -- profile heat.py     the profiler on one process
      -- scale heat.py ...   every point of a scaling run in this one allocation
      -- run --timeout 60 -m pytest tests/      `manycore run` with options of its own

Options not given come from the site profile (MANYCORE_SLURM_PROFILE, else
~/.config/manycore/slurm.toml), then from SLURM's defaults. docs/slurm.md has a
Snellius example."""


def _add_submit_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("resources (SLURM's own options)")
    g.add_argument("-n", "--ntasks", type=int, metavar="N", help="tasks: the MPI ranks")
    g.add_argument("-N", "--nodes", type=int, metavar="N", help="nodes")
    g.add_argument("-c", "--cpus-per-task", type=int, metavar="C",
                   help="CPUs of each task: its CPU device's threads (MANYCORE_NUM_THREADS)")
    g.add_argument("--gpus-per-task", metavar="[TYPE:]G",
                   help="GPUs of each task (each rank then sees its own)")
    g.add_argument("--gpus", metavar="[TYPE:]G", help="GPUs of the whole job")
    g.add_argument("-t", "--time", metavar="TIME",
                   help="time limit: minutes, MM:SS, HH:MM:SS or D-HH:MM:SS")
    g.add_argument("-p", "--partition", metavar="NAME")
    g.add_argument("-A", "--account", metavar="NAME")
    g.add_argument("--reservation", metavar="NAME")
    g.add_argument("--mem", metavar="SIZE", help="memory per node, e.g. 8G")
    g.add_argument("-J", "--job-name", metavar="NAME", help="default: the script's name")
    g.add_argument("-o", "--output", metavar="FILE",
                   help="output file (%%j: the job id; default NAME-%%j.out here)")
    g.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                   help="another sbatch option, as one word (--sbatch-arg=--exclusive)")
    g = p.add_argument_group("the job")
    g.add_argument("--env-setup", action="append", default=[], metavar="LINE",
                   help="a shell line run before the program, e.g. 'module load 2023' "
                        "(repeatable; after the site profile's)")
    g.add_argument("--dry-run", action="store_true",
                   help="print the job script instead of submitting it")
    g.add_argument("--wait", action="store_true", help="then wait for it (as manycore wait)")
    _add_wait_arguments(p)
    p.add_argument("program", nargs=argparse.REMAINDER,
                   help="script.py [args], or [--] a manycore command and its arguments")


def _add_wait_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tail", type=int, default=20, metavar="LINES",
                   help="lines of output shown when the job ends (default 20)")
    p.add_argument("--interval", type=float, default=5.0, metavar="S",
                   help="seconds between looks at the job (default 5)")


def _options(args: argparse.Namespace, commands: dict) -> SubmitOptions:
    program = list(args.program)
    if program[:1] == ["--"]:
        program = program[1:]
    if program[:1] == ["manycore"]:
        program = program[1:]
    if not program:
        raise ValueError("nothing to run: give a script (manycore submit -n 4 heat.py) or a "
                         "manycore command (manycore submit -- labs run 3)")
    o = SubmitOptions(
        ntasks=args.ntasks, nodes=args.nodes, cpus_per_task=args.cpus_per_task,
        gpus_per_task=args.gpus_per_task, gpus=args.gpus, time=args.time,
        partition=args.partition, account=args.account, reservation=args.reservation,
        mem=args.mem, job_name=args.job_name, output=args.output,
        env_setup=list(args.env_setup), sbatch_args=list(args.sbatch_arg))
    for name in ("ntasks", "nodes", "cpus_per_task"):
        value = getattr(o, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} {value}: at least 1")
    first = program[0]
    if first in commands and not os.path.isfile(first):
        if first in _NOT_IN_A_JOB:
            raise ValueError(f"`manycore {first}` talks to SLURM from where you are; a job "
                             "cannot run it")
        o.command = program
    elif os.path.isfile(first):
        o.script, o.args = first, program[1:]
    else:
        known = ", ".join(sorted(c for c in commands if c not in _NOT_IN_A_JOB))
        raise ValueError(f"{first}: no such script here, nor a manycore command ({known})")
    return load_site_profile().apply(o)


def _progress():
    """A callback for each look at the job: one line rewritten in place on a terminal, else a
    new line only when what it says changes (so logs stay short)."""
    tty = sys.stderr.isatty()
    last = {"text": "", "warned": False}

    def on_poll(j: Job) -> None:
        reason = j.reason.strip("()")
        if j.state == "PENDING":
            text = f"job {j.id} ({j.name}): PENDING, {explain_reason(reason) or 'queued'}"
            if reason in NEVER_STARTS and not last["warned"]:
                last["warned"] = True
                print(f"{chr(10) if tty else ''}manycore wait: job {j.id} "
                      f"{explain_reason(reason)}", file=sys.stderr)
        elif j.state in ("RUNNING", "COMPLETING", "CONFIGURING"):
            text = f"job {j.id} ({j.name}): {j.state} on {j.nodes or '?'}"
        else:
            text = f"job {j.id} ({j.name}): {j.state}"
        if j.finished:
            return
        if tty:
            timing = f", {j.elapsed} of {j.limit}" if j.state == "RUNNING" else ""
            print(f"\r\033[K{text}{timing}", end="", file=sys.stderr, flush=True)
        elif text != last["text"]:
            print(text, file=sys.stderr, flush=True)
        last["text"] = text

    def done() -> None:
        if tty and last["text"]:
            print("\r\033[K", end="", file=sys.stderr, flush=True)

    return on_poll, done


def _tail(path: str, lines: int) -> list[str] | None:
    """The last ``lines`` lines of ``path`` (None when it does not exist)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    return text.splitlines()[-lines:] if lines > 0 else []


def _verdict(j: Job) -> str:
    code = j.exit_status()
    if j.state == "COMPLETED":
        return f"job {j.id} ({j.name}) COMPLETED after {j.elapsed}"
    why = {"TIMEOUT": f"it ran past its time limit ({j.limit})",
           "CANCELLED": "it was cancelled",
           "OUT_OF_MEMORY": "it ran out of memory (ask for more with --mem)",
           "NODE_FAIL": "a node of it failed"}.get(j.state, "")
    return (f"job {j.id} ({j.name}) {j.state} after {j.elapsed}"
            + (f": {why}" if why else "") + f"; exit status {code}"
            + (f" (SLURM's ExitCode {j.exit_code})" if j.exit_code else ""))


def _wait(job_id: str, args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise ValueError(f"--interval {args.interval:g}: more than 0 seconds")
    on_poll, clear = _progress()
    try:
        j = wait_until_finished(job_id, None, args.interval, on_poll)
    except KeyboardInterrupt:
        clear()
        print(f"\nmanycore wait: stopped waiting; job {job_id} goes on (`manycore cancel "
              f"{job_id}` stops it)", file=sys.stderr)
        return 130
    clear()
    print(_verdict(j), file=sys.stderr, flush=True)
    tail = _tail(j.output, args.tail) if j.output else None
    if tail is None:
        print(f"(no output file{' ' + j.output if j.output else ''}: the job never started, "
              "or wrote elsewhere)", file=sys.stderr)
    elif args.tail > 0:
        print(f"== the last {len(tail)} lines of {j.output}", file=sys.stderr, flush=True)
        print("\n".join(tail), flush=True)
    return j.exit_status()


def cmd_submit(args: argparse.Namespace) -> int:
    o = _options(args, args.manycore_commands)
    if args.dry_run:
        print(job_script(o), end="")
        return 0
    job_id = submit(o)
    what = " ".join(o.program())
    print(f"submitted job {job_id} ({o.name()}): manycore {what}")
    print(f"output: {o.output_path().replace('%j', job_id)}")
    if not args.wait:
        print(f"follow it: manycore wait {job_id}   list your jobs: manycore jobs   "
              f"stop it: manycore cancel {job_id}")
        return 0
    sys.stdout.flush()
    return _wait(job_id, args)


def cmd_wait(args: argparse.Namespace) -> int:
    job_id = args.job or last_submitted()
    if job_id is None:
        raise ValueError("which job? give its id (`manycore jobs` lists yours); with no id, "
                         "wait follows the last job submitted from here")
    return _wait(check_job_id(job_id), args)


def cmd_jobs(args: argparse.Namespace) -> int:
    from ..tools.timing import format_table

    found = jobs()
    if not found:
        print("no jobs (SLURM forgets ended jobs after a few minutes where it keeps no "
              "accounting)")
        return 0
    rows = []
    for j in found:
        if j.state in ("RUNNING", "COMPLETING"):
            note = f"on {j.nodes}"
        else:
            note = explain_reason(j.reason) or ("queued" if j.state == "PENDING" else "")
        rows.append([j.id, j.name, j.state, j.elapsed, j.limit, j.tasks, j.output, note])
    print(format_table(["job", "name", "state", "elapsed", "limit", "tasks", "output", "note"],
                       rows, right=(0, 3, 4, 5)))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    status = 0
    for job_id in args.jobs:
        try:
            before = cancel(check_job_id(job_id))
        except SlurmError as e:
            print(f"manycore cancel: {e}", file=sys.stderr)
            status = 1
            continue
        print(f"cancelled job {before.id} ({before.name}), which was {before.state}")
    return status


def info_pairs() -> list[tuple[str, object]]:
    """``manycore info``'s SLURM lines: where sbatch is, the allocation this process is in,
    the site profile. Asks SLURM nothing (info must stay fast and work anywhere)."""
    import shutil

    pairs: list[tuple[str, object]] = [("sbatch", shutil.which("sbatch") or "not on PATH")]
    env = os.environ
    if env.get("SLURM_JOB_ID"):
        tasks, cpus = env.get("SLURM_NTASKS"), env.get("SLURM_CPUS_PER_TASK")
        text = env["SLURM_JOB_ID"]
        text += f", {tasks} task{'' if tasks == '1' else 's'}" if tasks else ""
        text += f", {cpus} CPUs per task" if cpus else ""
        text += f", nodes {env.get('SLURM_JOB_NODELIST', '?')}"
        text += f", GPUs {env['SLURM_JOB_GPUS']}" if env.get("SLURM_JOB_GPUS") else ""
        pairs.append(("job", text))
    try:
        profile = load_site_profile().path or "none"
    except ValueError as e:
        profile = f"unusable: {e}"
    pairs.append(("site profile", profile))
    return pairs


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds submit, jobs, wait and cancel to ``manycore``'s subcommands."""
    p = sub.add_parser("submit", help="submit a script (or any manycore command) to SLURM",
                       description="Writes a SLURM job script for the program and submits it "
                                   "with sbatch; prints the job id and where its output goes.",
                       epilog=SUBMIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_submit_arguments(p)
    p.set_defaults(func=cmd_submit, manycore_commands=sub.choices)
    p = sub.add_parser("jobs", help="your SLURM jobs: state, time, output file")
    p.set_defaults(func=cmd_jobs)
    p = sub.add_parser("wait", help="wait for a SLURM job to end; show its output's tail and "
                                    "exit with its exit code")
    p.add_argument("job", nargs="?", help="the job id (default: the last one submitted here)")
    _add_wait_arguments(p)
    p.set_defaults(func=cmd_wait)
    p = sub.add_parser("cancel", help="cancel SLURM jobs")
    p.add_argument("jobs", nargs="+", metavar="job", help="job ids")
    p.set_defaults(func=cmd_cancel)

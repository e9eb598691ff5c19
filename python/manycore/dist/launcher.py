# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore run``: starts a Python program on N MPI ranks, the way that works on this machine.

    manycore run -n 4 script.py [args...]
    manycore run -n 2 --tag-output --timeout 60 -m pytest --with-mpi -m mpi tests/

It uses ``srun`` inside a SLURM allocation (SLURM_JOB_ID set) and ``mpirun`` otherwise, adding
what Open MPI needs when run as root (--allow-run-as-root) and when N exceeds the cores
(--oversubscribe; more than 8 ranks per core is refused unless --oversubscribe is given).
Under srun it takes the allocation's task count when -n is omitted, passes the allocation's CPUs
per task on (srun no longer inherits them) and asks for SLURM's PMIx plugin (--mpi=pmix) when the
ranks' MPI is Open MPI and neither the site (SLURM_MPI_TYPE) nor --mpi-arg chose a plugin.
SIGTERM and SIGHUP (a batch system's cancel, a closed terminal) are passed on to the job, and
every rank ends with it. Every rank runs the program through manycore.dist._rank, so an uncaught
exception on any rank aborts the whole job with a non-zero status instead of hanging, and
``--timeout S`` prints every rank's Python stack (and the manycore.dist call it is blocked in)
before aborting. Options:

    -n, -np N          number of ranks (default: the allocation's tasks under SLURM, else 1)
    --cpus-per-task C  CPUs of each rank: its CPU device's threads (MANYCORE_NUM_THREADS), and
                       srun's --cpus-per-task (default: the allocation's, under SLURM)
    --gpus-per-task G  GPUs of each rank (srun only); each rank then sees its own GPU(s)
    --tag-output       prefix each line of output with the rank that printed it
    --timeout S        abort the job after S seconds, printing where each rank was
    --oversubscribe    allow more than 8 ranks per core
    --launcher L       mpirun, mpiexec or srun (default: srun under SLURM, else mpirun)
    --mpi-arg ARG      pass ARG to the launcher (repeatable), e.g. --mpi-arg=--bind-to=none
    --python PATH      the interpreter the ranks run (default: this one)
    --dry-run          print the command instead of running it
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import DeviceUnavailable

__all__ = ["RunOptions", "parse_args", "build_command", "run", "main"]

# The launcher waits this much longer than --timeout before killing the job itself, so the
# ranks' own watchdogs get to print their stacks first.
_GRACE_SECONDS = 30.0
# After passing SIGTERM or SIGHUP on, how long the launcher waits before killing the job.
_STOP_SECONDS = 10.0
# More ranks per core than this is a mistake more often than a plan (-n 100 for -n 10).
_RANKS_PER_CORE = 8

USAGE = "usage: manycore run [-n N] [--cpus-per-task C] [--gpus-per-task G] [--tag-output] " \
        "[--timeout S] [--oversubscribe] [--launcher L] [--mpi-arg ARG] [--python PATH] " \
        "[--dry-run] (script.py | -m module) [args...]"


@dataclass
class RunOptions:
    ranks: int | None = None  # None: the allocation's task count under SLURM, else 1
    cpus_per_task: int | None = None
    gpus_per_task: str | None = None
    tag_output: bool = False
    timeout: float | None = None
    oversubscribe: bool = False
    launcher: str | None = None
    mpi_args: list[str] = field(default_factory=list)
    python: str = sys.executable
    dry_run: bool = False
    script: str | None = None
    module: str | None = None
    args: list[str] = field(default_factory=list)


def parse_args(argv: Sequence[str]) -> RunOptions:
    """Parses the command line by hand: everything after the script (or ``-m module``) belongs
    to the program, options included, as with ``python`` itself."""
    o = RunOptions()
    argv = list(argv)
    i = 0

    def value(name: str) -> str:
        nonlocal i
        if "=" in argv[i] and argv[i].startswith("--"):
            return argv[i].split("=", 1)[1]
        if i + 1 >= len(argv):
            raise ValueError(f"{name} needs a value\n{USAGE}")
        i += 1
        return argv[i]

    while i < len(argv):
        a = argv[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if name in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        if name in ("-n", "-np", "--np", "--ranks"):
            o.ranks = _count(name, value(name), "ranks")
        elif name in ("-c", "--cpus-per-task"):
            o.cpus_per_task = _count(name, value(name), "CPUs")
        elif name == "--gpus-per-task":
            o.gpus_per_task = value(name)
        elif name == "--tag-output":
            o.tag_output = True
        elif name == "--timeout":
            text = value(name)
            try:
                o.timeout = float(text)
            except ValueError:
                raise ValueError(f"--timeout {text}: give the seconds as a number, e.g. "
                                 f"--timeout 60\n{USAGE}") from None
            if not o.timeout > 0 or o.timeout == float("inf"):
                raise ValueError(f"--timeout {text}: the seconds must be more than 0 (leave "
                                 f"--timeout out for no limit)\n{USAGE}")
        elif name == "--oversubscribe":
            o.oversubscribe = True
        elif name == "--launcher":
            o.launcher = value(name)
        elif name == "--mpi-arg":
            o.mpi_args.append(value(name))
        elif name == "--python":
            o.python = value(name)
        elif name == "--dry-run":
            o.dry_run = True
        elif a == "-m":
            if i + 1 >= len(argv):
                raise ValueError(f"-m needs a module name\n{USAGE}")
            o.module, o.args = argv[i + 1], argv[i + 2:]
            return o
        elif a == "--":
            i += 1
            break
        elif a.startswith("-"):
            raise ValueError(f"unknown option {a}\n{USAGE}")
        else:
            break
        i += 1
    if i >= len(argv):
        raise ValueError(f"no program to run\n{USAGE}")
    o.script, o.args = argv[i], argv[i + 1:]
    return o


def _count(name: str, text: str, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"{name} needs a whole number of {what}\n{USAGE}") from None
    if n < 1:
        raise ValueError(f"{name} {n}: at least one {what[:-1]}")
    return n


def check_ranks(o: RunOptions) -> None:
    """A usage error for more than 8 ranks per core without --oversubscribe."""
    cores = _cores()
    if o.ranks is not None and o.ranks > _RANKS_PER_CORE * cores and not o.oversubscribe:
        raise ValueError(f"-n {o.ranks} is more than {_RANKS_PER_CORE} ranks per core on this "
                         f"machine's {cores} core{'s' if cores != 1 else ''}; add "
                         f"--oversubscribe if that is what you want\n{USAGE}")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@functools.lru_cache(maxsize=8)
def _flavour(executable: str) -> str:
    """'openmpi', 'mpich' or 'unknown', from the launcher's --version."""
    try:
        text = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if "Open MPI" in text or "OpenRTE" in text:
        return "openmpi"
    if "HYDRA" in text or "MPICH" in text or "Intel" in text:
        return "mpich"
    return "unknown"


def _find_launcher(o: RunOptions, env: dict[str, str]) -> tuple[str, str]:
    """(kind, executable): kind is 'srun' or 'mpirun'."""
    path = env.get("PATH", os.defpath)
    if o.launcher is not None:
        exe = shutil.which(o.launcher, path=path)
        if exe is None:
            raise DeviceUnavailable(f"manycore run: --launcher {o.launcher} is not on PATH")
        return ("srun" if os.path.basename(o.launcher) == "srun" else "mpirun"), exe
    if env.get("SLURM_JOB_ID"):
        exe = shutil.which("srun", path=path)
        if exe is not None:
            return "srun", exe
    for name in ("mpirun", "mpiexec"):
        exe = shutil.which(name, path=path)
        if exe is not None:
            return "mpirun", exe
    raise DeviceUnavailable(
        "manycore run: no MPI launcher found (neither mpirun nor mpiexec is on PATH). Install an "
        "MPI library: on Debian/Ubuntu `apt-get install openmpi-bin libopenmpi-dev`, then "
        "`pip install mpi4py`; on a cluster `module load openmpi` (or run inside a SLURM "
        "allocation, where srun is used)"
    )


def _slurm_count(env: dict[str, str], name: str) -> int | None:
    """A positive whole number SLURM put in the environment, else None."""
    try:
        n = int(env.get(name, ""))
    except ValueError:
        return None
    return n if n > 0 else None


@functools.lru_cache(maxsize=8)
def _mpi_library(python: str) -> str:
    """The first line of MPI_Get_library_version() of the MPI that ``python``'s mpi4py uses,
    asked without initialising MPI; '' when that cannot be told (no mpi4py)."""
    probe = ("import mpi4py; mpi4py.rc.initialize = mpi4py.rc.finalize = False; "
             "from mpi4py import MPI; print(MPI.Get_library_version().splitlines()[0])")
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _srun_mpi_plugins(srun: str, env: dict[str, str]) -> tuple[str, ...]:
    """The MPI plugins this SLURM offers (``srun --mpi=list``), e.g. ('pmix', 'none', 'pmi2')."""
    try:
        text = subprocess.run([srun, "--mpi=list"], capture_output=True, text=True, env=env,
                              timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.startswith(("\t", " ")))


def _srun_mpi_choice(o: RunOptions, env: dict[str, str], srun: str) -> str | None:
    """'--mpi=pmix' when the ranks need it: Open MPI started by srun finds its peers only through
    SLURM's PMIx plugin (Debian's Open MPI has no PMI-2), and a cluster's default plugin may be
    another. Nothing when the site (SLURM_MPI_TYPE) or the user (--mpi-arg=--mpi=...) chose, or
    for MPICH-family libraries, which the site's default plugin serves."""
    if env.get("SLURM_MPI_TYPE") or any(a.startswith("--mpi") for a in o.mpi_args):
        return None
    if not _mpi_library(o.python).startswith("Open MPI"):
        return None
    return "--mpi=pmix" if "pmix" in _srun_mpi_plugins(srun, env) else None


def _thread_env(o: RunOptions, env: dict[str, str], cpus: int | None) -> str | None:
    """MANYCORE_NUM_THREADS for the ranks: one thread per CPU of each rank, unless the user set
    it."""
    if cpus is None or env.get("MANYCORE_NUM_THREADS"):
        return None
    return f"MANYCORE_NUM_THREADS={cpus}"


def build_command(o: RunOptions, env: dict[str, str] | None = None) -> list[str]:
    """The launcher's command line for ``o`` (nothing is run)."""
    env = dict(os.environ if env is None else env)
    kind, exe = _find_launcher(o, env)
    rank_cmd = [o.python, "-m", "manycore.dist._rank"]
    if o.timeout is not None:
        rank_cmd += ["--timeout", f"{o.timeout:g}"]
    rank_cmd += ["-m", o.module] if o.module is not None else [o.script or ""]
    rank_cmd += o.args
    in_allocation = bool(env.get("SLURM_JOB_ID"))
    ranks = o.ranks
    if ranks is None:
        ranks = _slurm_count(env, "SLURM_NTASKS") if in_allocation else 1
    if kind == "srun":
        # No --ntasks when neither -n nor the allocation gives one: srun then starts its default
        # (one task per node of the allocation).
        cmd = [exe] + (["--ntasks", str(ranks)] if ranks else []) + ["--kill-on-bad-exit=1"]
        if o.tag_output:
            cmd.append("--label")
        mpi = _srun_mpi_choice(o, env, exe)
        if mpi:
            cmd.append(mpi)
        # Since SLURM 22.05 srun no longer inherits the allocation's --cpus-per-task.
        cpus = o.cpus_per_task or (_slurm_count(env, "SLURM_CPUS_PER_TASK") if in_allocation else None)
        if cpus:
            cmd.append(f"--cpus-per-task={cpus}")
        if o.gpus_per_task:
            cmd.append(f"--gpus-per-task={o.gpus_per_task}")
        threads = _thread_env(o, env, cpus)
        if threads:
            cmd.append(f"--export=ALL,{threads}")
        return cmd + o.mpi_args + rank_cmd
    if o.gpus_per_task:
        raise ValueError("--gpus-per-task needs srun (inside a SLURM allocation, or --launcher "
                         "srun); under mpirun every rank sees the node's GPUs and takes one "
                         "round-robin by its rank on the node")
    ranks = ranks or 1
    cmd = [exe, "-n", str(ranks)]
    flavour = _flavour(exe)
    threads = _thread_env(o, env, o.cpus_per_task)
    if flavour == "openmpi":
        if _is_root() and not env.get("OMPI_ALLOW_RUN_AS_ROOT"):
            cmd.append("--allow-run-as-root")
        if ranks > _cores() or o.oversubscribe:
            cmd.append("--oversubscribe")
        if o.tag_output:
            cmd.append("--tag-output")
        if threads:
            cmd += ["-x", threads]
    else:
        if o.tag_output:
            cmd.append("-prepend-rank")  # MPICH's Hydra
        if threads and flavour == "mpich":
            cmd += ["-genv", *threads.split("=", 1)]
    return cmd + o.mpi_args + rank_cmd


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired, PermissionError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def run(o: RunOptions, env: dict[str, str] | None = None) -> int:
    """Runs the job; returns its exit status (124 when the launcher had to kill it)."""
    cmd = build_command(o, env)
    if o.dry_run:
        print(shlex.join(cmd))
        return 0
    if o.script is not None and not os.path.exists(o.script):
        print(f"manycore run: {o.script}: no such file", file=sys.stderr)
        return 2
    sys.stdout.flush()
    # Its own process group, so a timeout or Ctrl-C can end the launcher and every rank.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    stopped: list[tuple[int, float]] = []  # the signal passed on, and when

    def stop(signum: int, frame: object) -> None:
        # A batch system's cancel or a closed terminal: the launcher passes it on (mpirun
        # ends every rank on it), then returns as a process killed by it would.
        if not stopped:
            stopped.append((signum, time.monotonic()))
            try:
                os.killpg(proc.pid, signum)
            except (ProcessLookupError, PermissionError):
                pass

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    started = time.monotonic()
    try:
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if stopped and now - stopped[0][1] > _STOP_SECONDS:
                _kill(proc)  # ranks whose launcher is killed end themselves (_rank)
                break
            if not stopped and o.timeout is not None and now - started > o.timeout + _GRACE_SECONDS:
                print(f"manycore run: the job outlived --timeout {o.timeout:g} s by "
                      f"{_GRACE_SECONDS:g} s; killed", file=sys.stderr)
                _kill(proc)
                return 124
        if stopped:
            name = signal.Signals(stopped[0][0]).name
            print(f"manycore run: {name} received; the job was stopped", file=sys.stderr)
            return 128 + stopped[0][0]
        return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says
    except KeyboardInterrupt:
        _kill(proc)
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``manycore run`` (argv without the word ``run``)."""
    try:
        o = parse_args(sys.argv[1:] if argv is None else argv)
        check_ranks(o)
        return run(o)
    except ValueError as e:
        print(f"manycore run: {e}", file=sys.stderr)
        return 2
    except DeviceUnavailable as e:
        print(str(e), file=sys.stderr)
        return 1

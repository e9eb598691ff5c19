# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The job script ``manycore submit`` writes: its options, the site profile that gives their
defaults, and the text itself.

A job script asks SLURM for the resources (``#SBATCH`` lines), sets the site up (``module
load ...`` lines from the profile and ``--env-setup``), activates the Python environment the
job was submitted from, records ``manycore info`` at the top of the output, and runs the
program: a script through ``manycore run`` (so every rank aborts the job on an exception), or
any other manycore command line (``labs run 3``, ``profile heat.py``, ``scale heat.py ...``)
as it is.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = ["SubmitOptions", "SiteProfile", "load_site_profile", "site_profile_path", "job_script",
           "check_time", "PROFILE_KEYS"]

# The keys a site profile may set (top level, and again in its [gpu] table), with their types.
PROFILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "partition": str,
    "time": (str, int),
    "account": str,
    "reservation": str,
    "mem": (str, int),
    "nodes": int,
    "ntasks": int,
    "cpus_per_task": int,
    "gpus_per_task": (str, int),
    "gpus": (str, int),
    "env_setup": (str, list),
    "sbatch_args": list,
    "srun_mpi": str,
}

_WHOLE_NUMBERS = ("nodes", "ntasks", "cpus_per_task")

_TIME = re.compile(r"\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+(:\d+(:\d+)?)?|UNLIMITED|INFINITE",
                   re.IGNORECASE)


def check_time(text: str) -> str:
    """``text`` if it is one of SLURM's time formats, else ValueError saying which there are."""
    if not _TIME.fullmatch(text):
        raise ValueError(
            f"--time {text!r} is not a time SLURM reads: write minutes (30), minutes:seconds "
            "(10:00), hours:minutes:seconds (1:30:00) or days-hours[:minutes[:seconds]] "
            "(1-12)")
    return text


@dataclass
class SubmitOptions:
    """What one job asks for, and what it runs. ``None`` leaves the choice to the site profile,
    then to SLURM's defaults."""

    ntasks: int | None = None
    nodes: int | None = None
    cpus_per_task: int | None = None
    gpus_per_task: str | None = None
    gpus: str | None = None
    time: str | None = None
    partition: str | None = None
    account: str | None = None
    reservation: str | None = None
    mem: str | None = None
    job_name: str | None = None
    output: str | None = None
    env_setup: list[str] = field(default_factory=list)
    sbatch_args: list[str] = field(default_factory=list)
    srun_mpi: str | None = None
    #: A script and its arguments (run through ``manycore run``), or
    script: str | None = None
    args: list[str] = field(default_factory=list)
    #: a manycore command line without the word ``manycore`` (``["labs", "run", "3"]``).
    command: list[str] = field(default_factory=list)
    #: Where the job runs and the interpreter it uses: those of the submitting process.
    workdir: str = field(default_factory=os.getcwd)
    python: str = sys.executable

    @property
    def wants_gpus(self) -> bool:
        return bool(self.gpus or self.gpus_per_task)

    def name(self) -> str:
        """The job's name: --job-name, else the script's stem, else the command and what it
        runs."""
        if self.job_name:
            return self.job_name
        if self.script:
            return Path(self.script).stem or "manycore"
        first, rest = self.command[0], self.command[1:]
        scripts = [Path(w).stem for w in rest if w.endswith(".py")]
        if scripts:  # profile heat.py -> profile-heat
            more = scripts[:1]
        elif "-m" in rest[:-1]:  # run -n 2 -m pytest -> run-pytest
            more = [rest[rest.index("-m") + 1].split(".")[-1]]
        else:  # labs run 3 -> labs-run-3
            more = [w for w in rest if not w.startswith("-")][:2]
        return "-".join([first, *more])[:40]

    def output_path(self) -> str:
        """The output file's pattern (``%j`` is the job id), absolute."""
        out = self.output or f"{self.name()}-%j.out"
        return os.path.join(self.workdir, os.path.expanduser(out))

    def program(self) -> list[str]:
        """The manycore command line the job runs (after ``python -m manycore``)."""
        if self.script:
            return ["run", self.script, *self.args]
        return list(self.command)


@dataclass
class SiteProfile:
    """A site's defaults, read from a TOML file: the top-level keys for every job, the [gpu]
    table's for jobs that ask for GPUs (docs/slurm.md shows one for Snellius)."""

    path: str | None = None
    defaults: dict[str, object] = field(default_factory=dict)
    gpu: dict[str, object] = field(default_factory=dict)

    def apply(self, o: SubmitOptions) -> SubmitOptions:
        """``o`` with its unset options taken from the profile ([gpu] first when ``o`` asks for
        GPUs); set-up lines and extra sbatch arguments are the profile's, then ``o``'s."""
        layers = ([self.gpu] if o.wants_gpus else []) + [self.defaults]
        for key in PROFILE_KEYS:
            if key in ("env_setup", "sbatch_args"):
                continue
            if getattr(o, key) is None:
                for layer in layers:
                    if key in layer:
                        value = layer[key]
                        setattr(o, key, value if key in _WHOLE_NUMBERS else str(value))
                        break
        for key in ("env_setup", "sbatch_args"):
            merged: list[str] = []
            for layer in reversed(layers):
                value = layer.get(key, [])
                merged += [value] if isinstance(value, str) else list(value)
            setattr(o, key, merged + getattr(o, key))
        return o


def site_profile_path(env: dict[str, str] | None = None) -> str | None:
    """MANYCORE_SLURM_PROFILE when set (empty: no profile), else
    ``$XDG_CONFIG_HOME/manycore/slurm.toml`` (``~/.config/...``) when that file exists."""
    env = os.environ if env is None else env
    if "MANYCORE_SLURM_PROFILE" in env:
        return env["MANYCORE_SLURM_PROFILE"] or None
    config = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = os.path.join(config, "manycore", "slurm.toml")
    return path if os.path.isfile(path) else None


def _read_toml(path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ValueError(f"site profile {path}: reading TOML needs Python 3.11 or "
                             "`pip install tomli`") from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"site profile {path} (MANYCORE_SLURM_PROFILE): no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"site profile {path}: {e}") from None


def _checked_table(path: str, table: dict, where: str) -> dict[str, object]:
    for key, value in table.items():
        if key not in PROFILE_KEYS:
            raise ValueError(f"site profile {path}: unknown key {where}{key!r}; the keys are "
                             f"{', '.join(PROFILE_KEYS)} (and a [gpu] table of the same)")
        wanted = PROFILE_KEYS[key]
        if not isinstance(value, wanted) or isinstance(value, bool) or (
                isinstance(value, list) and not all(isinstance(v, str) for v in value)):
            kinds = wanted if isinstance(wanted, tuple) else (wanted,)
            names = " or ".join("a list of strings" if k is list else
                                {str: "a string", int: "a whole number"}[k] for k in kinds)
            raise ValueError(f"site profile {path}: {where}{key} = {value!r} should be {names}")
    if "time" in table:
        try:
            check_time(str(table["time"]))
        except ValueError as e:
            raise ValueError(f"site profile {path}: {where}{e}") from None
    return dict(table)


def load_site_profile(path: str | None = None) -> SiteProfile:
    """The profile at ``path`` (default: :func:`site_profile_path`); an empty one when there is
    none. A file that is missing, not TOML, or has unknown keys is a ValueError naming it."""
    path = site_profile_path() if path is None else path
    if path is None:
        return SiteProfile()
    data = _read_toml(path)
    gpu = data.pop("gpu", {})
    if not isinstance(gpu, dict):
        raise ValueError(f"site profile {path}: 'gpu' should be a table ([gpu])")
    return SiteProfile(path, _checked_table(path, data, ""), _checked_table(path, gpu, "gpu."))


def _environment_lines(python: str) -> list[str]:
    """Shell lines that activate the environment ``python`` belongs to, so the ranks, the
    program and whatever it starts use the same packages as the submitting shell."""
    prefix = Path(python).parent.parent
    activate = prefix / "bin" / "activate"
    if (prefix / "pyvenv.cfg").is_file() and activate.is_file():
        return [f"source {shlex.quote(str(activate))}"]
    if (prefix / "conda-meta").is_dir():
        return [f"export CONDA_PREFIX={shlex.quote(str(prefix))}",
                f"export PATH={shlex.quote(str(prefix / 'bin'))}:\"$PATH\""]
    return [f"export PATH={shlex.quote(str(Path(python).parent))}:\"$PATH\""]


def _sbatch_lines(o: SubmitOptions) -> list[str]:
    pairs = [
        ("job-name", o.name()),
        ("ntasks", o.ntasks),
        ("nodes", o.nodes),
        ("cpus-per-task", o.cpus_per_task),
        ("gpus-per-task", o.gpus_per_task),
        ("gpus", o.gpus),
        ("time", o.time),
        ("partition", o.partition),
        ("account", o.account),
        ("reservation", o.reservation),
        ("mem", o.mem),
        ("output", o.output_path()),
        ("chdir", o.workdir),
    ]
    lines = [f"#SBATCH --{k}={shlex.quote(str(v))}" for k, v in pairs if v is not None]
    return lines + [f"#SBATCH {shlex.quote(a)}" for a in o.sbatch_args]


def _check(o: SubmitOptions) -> None:
    for f in fields(o):
        value = getattr(o, f.name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and "\n" in v and f.name != "env_setup":
                raise ValueError(f"--{f.name.replace('_', '-')}: a value on one line, please")
    if o.time is not None:
        check_time(o.time)
    if bool(o.script) == bool(o.command):
        raise ValueError("give a script (manycore submit script.py) or a manycore command "
                         "(manycore submit -- labs run 3), one of the two")


def job_script(o: SubmitOptions) -> str:
    """The sbatch script for ``o`` (after the site profile was applied)."""
    from .. import __version__

    _check(o)
    program = o.program()
    run = " ".join(shlex.quote(a) for a in [o.python, "-m", "manycore", *program])
    lines = ["#!/bin/bash", *_sbatch_lines(o),
             f"# Written by `manycore submit` (manycore {__version__}); follow the job with "
             "`manycore wait <job id>`.", ""]
    if o.env_setup:
        lines += ["# Site set-up", *o.env_setup, ""]
    lines += ["# The Python environment the job was submitted from",
              *_environment_lines(o.python)]
    if o.cpus_per_task:
        lines.append(f"export MANYCORE_NUM_THREADS={o.cpus_per_task}")
    if o.srun_mpi:
        lines.append(f"export SLURM_MPI_TYPE={shlex.quote(o.srun_mpi)}")
    lines += ["",
              'echo "== manycore info (job $SLURM_JOB_ID on $SLURM_JOB_NODELIST)"',
              f"{shlex.quote(o.python)} -m manycore info",
              "echo",
              f"echo {shlex.quote('== manycore ' + ' '.join(program))}",
              f"exec {run}", ""]
    return "\n".join(lines)

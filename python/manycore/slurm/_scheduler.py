# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Talking to SLURM through its own commands: ``sbatch`` submits, ``squeue`` and ``scontrol show
job`` tell what the controller knows, ``sacct`` what the accounting database remembers (where
the cluster has one), ``scancel`` cancels. Nothing here schedules; SLURM's refusals come back
as :class:`SlurmError` in the user's terms, with SLURM's own message kept.

A short record of the jobs submitted from here (``$XDG_STATE_HOME/manycore/slurm-jobs.tsv``)
remembers where each one's output goes, for jobs the controller has already forgotten, and
which job ``manycore wait`` with no id means.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import Error
from ._jobscript import SubmitOptions, job_script

__all__ = ["SlurmError", "Job", "submit", "job", "jobs", "cancel", "last_submitted",
           "explain_reason", "check_job_id"]

# Seconds a SLURM command may take before we give up on the controller.
_COMMAND_SECONDS = 60.0
_RECORD_LINES = 500


class SlurmError(Error, RuntimeError):
    """SLURM refused a request, or is not there. ``slurm_message`` is what SLURM itself said."""

    def __init__(self, message: str, slurm_message: str = "") -> None:
        said = slurm_message.replace("\n", "\n" + " " * 14)
        super().__init__(message + (f"\n  SLURM said: {said}" if slurm_message else ""))
        self.slurm_message = slurm_message


def _tool(name: str, env: dict[str, str]) -> str:
    exe = shutil.which(name, path=env.get("PATH", os.defpath))
    if exe is None:
        raise SlurmError(f"`{name}` is not on PATH: there is no SLURM here. manycore submit, "
                         "jobs, wait and cancel run on a login node of a SLURM cluster (a "
                         "cluster that hides SLURM behind a module: `module load slurm` first)")
    return exe


def _call(args: list[str], env: dict[str, str] | None, stdin: str | None = None
          ) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    cmd = [_tool(args[0], env), *args[1:]]
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env,
                              timeout=_COMMAND_SECONDS)
    except subprocess.TimeoutExpired:
        raise SlurmError(f"`{args[0]}` got no answer from the SLURM controller within "
                         f"{_COMMAND_SECONDS:g} s; the cluster may be busy: try again in a "
                         "minute (`sinfo` shows whether it answers)") from None


def _said(done: subprocess.CompletedProcess) -> str:
    """SLURM's error text, without blank lines."""
    lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
    return "\n".join(lines)


def _unreachable(message: str) -> bool:
    """Whether SLURM's message says the controller did not answer (often for a moment only)."""
    return any(text in message for text in (
        "Unable to contact slurm controller", "Could not establish a configuration source",
        "Socket timed out on send/recv"))


_CONTROLLER_DOWN = ("the SLURM controller does not answer (is this a login node of the "
                    "cluster? `sinfo` should list its partitions)")


def _part(o: SubmitOptions) -> str:
    return f"partition '{o.partition}'" if o.partition else "the default partition"


# SLURM's submission errors (22.05 to 24.x wording), each with what it means for the user.
_REFUSALS: list[tuple[str, object]] = [
    ("Invalid partition name", lambda o: f"there is no partition '{o.partition}' on this "
     "cluster; `sinfo -s` lists the partitions"),
    ("invalid partition specified", lambda o: f"there is no partition '{o.partition}' on this "
     "cluster; `sinfo -s` lists the partitions"),
    ("Requested time limit is invalid", lambda o: f"--time {o.time} is longer than "
     f"{_part(o)} allows; `sinfo -o '%P %l'` shows each partition's limit"),
    ("Invalid --time specification", lambda o: f"--time {o.time} is not a time SLURM reads: "
     "minutes, minutes:seconds, hours:minutes:seconds or days-hours:minutes:seconds"),
    ("Invalid account", lambda o: f"account '{o.account}' does not exist or may not use "
     f"{_part(o)}; `sacctmgr show associations user=$USER` lists yours (on Snellius: "
     "`accinfo`)"),
    ("Invalid qos", lambda o: "the job's QOS does not exist or is not yours"),
    ("Requested reservation is invalid", lambda o: f"reservation '{o.reservation}' does not "
     "exist, has ended, or does not admit you; `scontrol show reservation` lists them"),
    ("Node count specification invalid", lambda o: f"--nodes {o.nodes} is more nodes than "
     f"{_part(o)} has or allows"),
    ("More processors requested than permitted", lambda o: f"{o.ntasks or 1} task(s) x "
     f"{o.cpus_per_task or 1} CPU(s) each is more than {_part(o)} has or allows"),
    ("Requested node configuration is not available", lambda o: f"no node of {_part(o)} has "
     "what one node of this job asks for (CPUs per task, memory, GPUs): ask for less, or "
     "choose another partition"),
    ("Invalid generic resource", lambda o: f"the job asks for GPUs but {_part(o)} has none: "
     "choose a GPU partition (--partition, or the [gpu] table of a site profile)"),
    ("Memory specification can not be satisfied", lambda o: f"--mem {o.mem} is more memory "
     f"than a node of {_part(o)} has"),
    ("Job violates accounting/QOS policy", lambda o: "the job exceeds a limit of your account "
     "or QOS (its size, its time, or how many jobs you may have queued)"),
    ("AssocMaxSubmitJobLimit", lambda o: "you have as many jobs queued as your account allows; "
     "wait for some to end"),
]


def _refusal(message: str, o: SubmitOptions) -> str:
    if _unreachable(message):
        return _CONTROLLER_DOWN
    for text, explain in _REFUSALS:
        if text.lower() in message.lower():
            return explain(o)  # type: ignore[operator]
    return "SLURM refused the job"


# --- the record of submitted jobs ---------------------------------------------------------------

def _record_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "manycore" / "slurm-jobs.tsv"


def _record(job_id: str, output: str, command: str, env: dict[str, str] | None) -> None:
    path = _record_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = path.read_text().splitlines()[-(_RECORD_LINES - 1):] if path.exists() else []
        lines.append("\t".join([job_id, output, command.replace("\t", " ")]))
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(path)
    except OSError:
        pass  # the record only adds output paths of forgotten jobs; SLURM has the job


def _recorded(env: dict[str, str] | None = None) -> dict[str, str]:
    """Job id -> output path, as recorded at submission."""
    try:
        lines = _record_path(env).read_text().splitlines()
    except OSError:
        return {}
    return {parts[0]: parts[1] for parts in (ln.split("\t") for ln in lines) if len(parts) >= 2}


def last_submitted(env: dict[str, str] | None = None) -> str | None:
    """The id of the job last submitted from here by this user, if any."""
    try:
        lines = _record_path(env).read_text().splitlines()
    except OSError:
        return None
    return lines[-1].split("\t")[0] if lines else None


# --- submitting -----------------------------------------------------------------------------------

def submit(o: SubmitOptions, env: dict[str, str] | None = None) -> str:
    """Submits the job script for ``o`` (site profile already applied); returns the job id."""
    script = job_script(o)
    done = _call(["sbatch", "--parsable"], env, stdin=script)
    if done.returncode != 0:
        said = _said(done)
        raise SlurmError(f"the job was not submitted: {_refusal(said, o)}", said)
    job_id = done.stdout.strip().split(";")[0]  # "id" or "id;cluster"
    _record(job_id, o.output_path().replace("%j", job_id), " ".join(o.program()), env)
    return job_id


# --- what SLURM knows of a job ------------------------------------------------------------------

_REASONS = {
    "None": "",
    "Priority": "waiting for its turn: jobs of higher priority come first",
    "Resources": "waiting for the nodes it needs to become free",
    "Dependency": "waiting for the jobs it depends on",
    "BeginTime": "waiting for its start time (--begin)",
    "JobHeldUser": "held by you (`scontrol release <id>` lets it start)",
    "JobHeldAdmin": "held by an administrator",
    "ReqNodeNotAvail": "some nodes it needs are down, drained or reserved",
    "Reservation": "waiting for its reservation to start",
    "PartitionDown": "its partition is down",
    "PartitionInactive": "its partition is not accepting jobs now",
    "PartitionTimeLimit": "its time limit is longer than its partition allows: it will never "
                          "start; cancel it and submit with a shorter --time",
    "PartitionNodeLimit": "it asks for more nodes than its partition allows: it will never "
                          "start; cancel it and submit with fewer nodes",
    "BadConstraints": "no node can ever give what it asks for",
    "InvalidAccount": "its account is not valid for this partition",
    "InvalidQOS": "its QOS is not valid",
    "QOSMaxWallDurationPerJobLimit": "its time limit is longer than its QOS allows",
    "AssocGrpCPUMinutesLimit": "your account has used up its CPU time",
    "AssocGrpBillingMinutes": "your account has used up its budget",
    "NonZeroExitCode": "its script ended with a non-zero exit code",
    "TimeLimit": "it ran past its time limit",
    "JobLaunchFailure": "SLURM could not start it on its node",
    "OutOfMemory": "it ran out of memory",
    "NodeFail": "a node of it failed",
}
NEVER_STARTS = ("PartitionTimeLimit", "PartitionNodeLimit", "BadConstraints", "InvalidAccount",
                "InvalidQOS")


def explain_reason(reason: str) -> str:
    """SLURM's reason code in words (the code itself when we have none)."""
    reason = reason.strip("()")
    if reason.startswith("QOS") or reason.startswith("Assoc"):
        return _REASONS.get(reason, f"a limit of your account or QOS ({reason})")
    return _REASONS.get(reason, reason)


_FINISHED = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "OUT_OF_MEMORY", "NODE_FAIL",
             "BOOT_FAIL", "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"}


@dataclass
class Job:
    """One job, as SLURM reports it."""

    id: str
    name: str = ""
    state: str = "UNKNOWN"
    elapsed: str = ""
    limit: str = ""
    tasks: str = ""
    nodes: str = ""
    reason: str = ""
    output: str = ""
    exit_code: str = ""  # SLURM's "code:signal", when known

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED

    def exit_status(self) -> int:
        """What ``manycore wait`` exits with: 0 for COMPLETED, 124 for TIMEOUT, else the job's
        exit code, else 128 + the signal that ended it, else 1."""
        if self.state == "COMPLETED":
            return 0
        if self.state == "TIMEOUT":
            return 124
        code, _, signal = self.exit_code.partition(":")
        if code.isdigit() and int(code) != 0:
            return int(code)
        if signal.isdigit() and int(signal) != 0:
            return 128 + int(signal)
        return 1


_JOB_ID = re.compile(r"\d+(?:[_+]\d+)?")


def check_job_id(text: str) -> str:
    if not _JOB_ID.fullmatch(text):
        raise ValueError(f"{text!r} is not a job id (a number, as `manycore submit` and "
                         "`manycore jobs` print)")
    return text


def _expand_output(pattern: str, j: Job, user: str) -> str:
    """SLURM's filename pattern with the job's values (%j id, %x name, %u user, %N node)."""
    values = {"j": j.id, "J": j.id, "A": j.id.split("_")[0], "x": j.name, "u": user,
              "N": j.nodes.split(",")[0]}

    def one(m: re.Match) -> str:
        if m.group(2) == "%":
            return "%"
        value = values.get(m.group(2))
        if value is None:
            return m.group(0)
        return value.zfill(int(m.group(1))) if m.group(1) else value

    return re.sub(r"%(\d*)([%jJAxuN])", one, pattern)


def _fields(line: str) -> dict[str, str]:
    """``scontrol show job -o``'s ``Key=value Key=value`` line (values may hold spaces)."""
    starts = list(re.finditer(r"(?:^| )([A-Za-z][\w:/]*)=", line))
    out = {}
    for m, nxt in zip(starts, [*starts[1:], None], strict=True):
        out[m.group(1)] = line[m.end():nxt.start() if nxt else len(line)].strip()
    return out


def _user() -> str:
    import getpass

    return getpass.getuser()


def job(job_id: str, env: dict[str, str] | None = None) -> Job | None:
    """What SLURM knows of ``job_id``: the controller's record, else the accounting database's;
    None when neither knows it."""
    check_job_id(job_id)
    done = _call(["scontrol", "show", "job", "-o", job_id], env)
    if done.returncode == 0 and done.stdout.strip():
        f = _fields(done.stdout.strip().splitlines()[0])
        j = Job(id=f.get("JobId", job_id), name=f.get("JobName", ""),
                state=f.get("JobState", "UNKNOWN"), elapsed=f.get("RunTime", ""),
                limit=f.get("TimeLimit", ""), tasks=f.get("NumTasks", ""),
                nodes=f.get("NodeList", "") if f.get("NodeList") != "(null)" else "",
                reason=f.get("Reason", ""), output=f.get("StdOut", ""),
                exit_code=f.get("ExitCode", ""))
        j.output = _recorded(env).get(j.id, j.output)
        return j
    said = _said(done)
    if _unreachable(said):
        raise SlurmError(_CONTROLLER_DOWN, said)
    if "Invalid job id" not in said:
        raise SlurmError(f"could not ask SLURM about job {job_id}", said)
    for j in _accounted(env, job_id):
        return j
    return None


def _accounted(env: dict[str, str] | None, job_id: str | None = None) -> list[Job]:
    """Jobs from the accounting database (empty where the cluster keeps none): ``job_id``, or
    this user's of the last two days."""
    args = ["sacct", "-X", "-n", "-P", "-o", "JobID,JobName,State,Elapsed,Timelimit,NTasks,"
            "NodeList,ExitCode"]
    args += ["-j", job_id] if job_id else ["-S", "now-2days"]
    try:
        done = _call(args, env)
    except SlurmError:
        return []
    if done.returncode != 0:
        return []
    recorded = _recorded(env)
    out = []
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) < 8:
            continue
        j = Job(id=parts[0], name=parts[1], state=parts[2].split()[0] if parts[2] else "UNKNOWN",
                elapsed=parts[3], limit=parts[4], tasks=parts[5], nodes=parts[6],
                exit_code=parts[7])
        j.output = recorded.get(j.id, "")
        out.append(j)
    return out


def jobs(env: dict[str, str] | None = None) -> list[Job]:
    """This user's jobs: those the controller knows (queued, running, recently ended), then
    older ones of the last two days from accounting, where the cluster keeps it."""
    fmt = "JobID:|,Name:|,State:|,TimeUsed:|,TimeLimit:|,NumTasks:|,NodeList:|,Reason:|,STDOUT:|"
    done = _call(["squeue", "--me", "--states=all", "--noheader", "--Format=" + fmt], env)
    if done.returncode != 0:
        said = _said(done)
        raise SlurmError(_CONTROLLER_DOWN if _unreachable(said) else "could not list your jobs",
                         said)
    user, recorded = _user(), _recorded(env)
    found: dict[str, Job] = {}
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) < 9:
            continue
        tasks = parts[5] if parts[5].isdigit() and int(parts[5]) < 1 << 31 else ""
        j = Job(id=parts[0], name=parts[1], state=parts[2], elapsed=parts[3], limit=parts[4],
                tasks=tasks, nodes=parts[6], reason=parts[7])
        j.output = recorded.get(j.id) or _expand_output(parts[8], j, user)
        found[j.id] = j
    for j in _accounted(env):
        found.setdefault(j.id, j)
    return sorted(found.values(), key=lambda j: [int(p) for p in re.findall(r"\d+", j.id)])


def cancel(job_id: str, env: dict[str, str] | None = None) -> Job:
    """Cancels ``job_id``; returns it as it was before. A job SLURM does not know, or one that
    has already ended, is a SlurmError."""
    before = job(job_id, env)
    if before is None:
        raise SlurmError(f"no job {job_id} is known to SLURM (`manycore jobs` lists yours)")
    if before.finished:
        raise SlurmError(f"job {job_id} has already ended ({before.state}); nothing to cancel")
    done = _call(["scancel", job_id], env)
    said = _said(done)
    if done.returncode != 0 or said:
        raise SlurmError(f"job {job_id} was not cancelled", said)
    return before


def wait_until_finished(job_id: str, env: dict[str, str] | None, interval: float,
                        on_poll=None, patience: int = 20) -> Job:
    """Polls ``job_id`` every ``interval`` seconds until it has ended; calls ``on_poll(job)``
    after each look. A controller that does not answer is asked again, up to ``patience``
    looks in a row. An unknown job, or one SLURM forgets while we wait (a cluster without
    accounting), is a SlurmError."""
    seen, silent = False, 0
    while True:
        try:
            j = job(job_id, env)
            silent = 0
        except SlurmError as e:
            silent += 1
            if not seen or silent >= patience or not _unreachable(e.slurm_message):
                raise
            time.sleep(interval)
            continue
        if j is None and not seen:
            raise SlurmError(f"no job {job_id} is known to SLURM (`manycore jobs` lists yours)")
        if j is None:
            raise SlurmError(f"SLURM no longer knows job {job_id}: it ended long enough ago for "
                             "the controller to forget it, and this cluster keeps no accounting "
                             "to ask instead")
        seen = True
        if on_poll is not None:
            on_poll(j)
        if j.finished:
            return j
        time.sleep(interval)

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""A one-node SLURM cluster of this machine for the tests: munged, slurmctld and slurmd with
their configuration, state, spool, sockets and logs in one private temporary folder, on free
ports of 127.0.0.1, started by :func:`start` and ended by :meth:`SlurmCluster.stop`.

The configuration is one known to work as root in a container with Debian 12's SLURM 22.05:
munged as the munge user with a key from ``mungekey -c``; ``SlurmUser=root``,
``ProctrackType=proctrack/linuxproc``, ``TaskPlugin=task/none``, ``select/cons_tres`` and no
cgroup.conf. The node declares 8 CPUs whatever the machine has (``SlurmdParameters=
config_overrides``), so ``-n 4`` runs on 2 cores as the course does on laptops. Job ids start
at a random number and SLURM's temporary folders (``TmpFS``, where PMIx keeps a folder per step
named by job id) are the cluster's own, so two test runs on one machine never meet. There is no
accounting database: finished jobs are read from the controller, which keeps them for
``MinJobAge`` seconds. ``MpiDefault`` stays ``none``: ``manycore run`` asks for ``--mpi=pmix``
itself, which is what Debian's Open MPI needs under srun.

Every daemon runs in the foreground as a child of the test process and gets SIGTERM if that
process dies (PR_SET_PDEATHSIG); :meth:`SlurmCluster.stop` cancels the jobs, ends the daemons,
then ends whatever process still carries this cluster's configuration in its environment (job
steps that outlived their slurmd), and removes the folder.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

NODE = "mcnode"
PARTITION = "debug"
PARTITION_MINUTES = 30  # MaxTime of the partition: a longer --time is refused
NODE_CPUS = 8
TOOLS = ("munged", "mungekey", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "srun",
         "scontrol", "squeue", "scancel", "sinfo")


class ClusterUnavailable(Exception):
    """The cluster could not be started; ``check`` names the step that failed."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check, self.detail = check, detail


def _find(tool: str) -> str | None:
    """The program's path: on PATH, or in the sbin folders a user's PATH may lack."""
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/local/sbin")


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_ports(count: int) -> list[int]:
    """``count`` different ports of 127.0.0.1 that nothing listens on now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class SlurmCluster:
    root: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    stopped: bool = False

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted((self.root / "log").glob("*")))

    def _start(self, name: str, cmd: list[str], user: str | None = None) -> subprocess.Popen:
        log = open(self.root / "log" / f"{name}.out", "wb")
        kwargs = {}
        if user is not None and os.geteuid() == 0:
            entry = pwd.getpwnam(user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, **kwargs)
        log.close()
        self.procs[name] = proc
        return proc

    def _wait_for(self, check: str, name: str, ready, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return
            if self.procs[name].poll() is not None:
                raise ClusterUnavailable(check, f"{name} exited with status "
                                         f"{self.procs[name].returncode}\n{self.logs()}")
            time.sleep(0.2)
        raise ClusterUnavailable(check, f"not ready after {seconds:g} s\n{self.logs()}")

    def stop_controller(self) -> None:
        """Stops slurmctld (its state is saved; jobs go on running)."""
        proc = self.procs["slurmctld"]
        proc.terminate()
        proc.wait(timeout=30)

    def start_controller(self) -> None:
        """Starts slurmctld again, from its saved state, and waits until it answers."""
        self._start("slurmctld", [_find("slurmctld"), "-D"])
        self._wait_for("slurmctld starts again", "slurmctld", self._controller_up, 30)

    def _controller_up(self) -> bool:
        return "is UP" in self.run("scontrol", "ping", timeout=15).stdout

    def _carries_our_config(self, pid: int) -> bool:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False
        return f"SLURM_CONF={self.conf}".encode() in environ.split(b"\0")

    def stop(self) -> None:
        """Cancels every job, stops the daemons, ends what is left of the jobs, removes the
        folder. Safe to call twice."""
        if self.stopped:
            return
        self.stopped = True
        if self.procs.get("slurmctld") and self.procs["slurmctld"].poll() is None:
            try:
                self.run("scancel", f"--user={pwd.getpwuid(os.geteuid()).pw_name}", timeout=15)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    queue = self.run("squeue", "--noheader", "--states=running,completing",
                                     timeout=15)
                    if queue.returncode != 0 or not queue.stdout.strip():
                        break
                    time.sleep(0.5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        mine = {os.getpid(), os.getppid()}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in mine and \
                    self._carries_our_config(int(entry.name)):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


def _listening_beyond_localhost(ports: set[int]) -> list[str]:
    """Sockets listening on one of ``ports`` at an address other than 127.0.0.1."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) in ports and address not in (
                    "0100007F", "00000000000000000000000001000000"):
                found.append(f"{address}:{int(port, 16)}")
    return found


def _config(root: Path, user: str, munge_socket: Path, ctld_port: int, slurmd_port: int) -> str:
    host = socket.gethostname().split(".")[0]
    # Job ids of its own: SLURM's plugins name files by job id (PMIx's spmix_appdir_<uid>_<id>),
    # so two clusters on one machine must not both count from 1.
    first_job = 1000 + secrets.randbelow(10**7)
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return f"""\
ClusterName=manycore-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={root}/state
TmpFS={root}/tmp
FirstJobId={first_job}
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=900
KillWait=2
InactiveLimit=0
ReturnToService=2
EnforcePartLimits=ALL
SlurmdParameters=config_overrides
SlurmctldDebug=info
SlurmdDebug=info
NodeName={NODE} NodeHostname={host} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={max(1024, memory_mb // 2)} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime={PARTITION_MINUTES} State=UP
"""


def start() -> SlurmCluster:
    """Starts the cluster; raises ClusterUnavailable naming the check that failed."""
    missing = [t for t in TOOLS if _find(t) is None]
    if missing:
        raise ClusterUnavailable("SLURM and munge installed", "not found: " + ", ".join(missing)
                                 + " (apt-get install slurmctld slurmd slurm-client munge)")
    as_root = os.geteuid() == 0
    user = pwd.getpwuid(os.geteuid()).pw_name
    munge_user = "munge" if as_root else user
    try:
        pwd.getpwnam(munge_user)
    except KeyError:
        raise ClusterUnavailable("munge user", f"no user {munge_user!r}") from None
    # Under /tmp itself: munged, running as its own user, must reach its key and socket.
    root = Path(tempfile.mkdtemp(prefix="manycore-slurm-", dir="/tmp"))
    root.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["SLURM_CONF"] = str(root / "slurm.conf")
    cluster = SlurmCluster(root, env)
    atexit.register(cluster.stop)
    try:
        _start_daemons(cluster, user, munge_user)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _start_daemons(cluster: SlurmCluster, user: str, munge_user: str) -> None:
    root = cluster.root
    for sub in ("state", "spool", "log", "run", "tmp", "munge", "munge-run"):
        (root / sub).mkdir()
    entry = pwd.getpwnam(munge_user)
    for sub, mode in (("munge", 0o700), ("munge-run", 0o755)):
        os.chown(root / sub, entry.pw_uid, entry.pw_gid)
        (root / sub).chmod(mode)
    key, sock = root / "munge" / "munge.key", root / "munge-run" / "munge.socket"
    made = subprocess.run([_find("mungekey"), "--create", f"--keyfile={key}"], capture_output=True,
                          text=True, timeout=30)
    if made.returncode != 0:
        raise ClusterUnavailable("mungekey -c", made.stderr.strip())
    os.chown(key, entry.pw_uid, entry.pw_gid)

    cluster._start("munged", [_find("munged"), "--foreground", f"--socket={sock}", f"--key-file={key}",
                              f"--pid-file={root / 'munge-run' / 'munged.pid'}",
                              f"--log-file={root / 'munge' / 'munged.log'}",
                              f"--seed-file={root / 'munge' / 'munged.seed'}"], user=munge_user)

    def munge_works() -> bool:
        if not sock.exists():
            return False
        cred = subprocess.run(["munge", "-n", "-S", str(sock)], capture_output=True, timeout=10)
        back = subprocess.run(["unmunge", "-S", str(sock)], input=cred.stdout,
                              capture_output=True, timeout=10)
        return back.returncode == 0

    cluster._wait_for("munged starts and answers", "munged", munge_works, 20)

    ctld_port, slurmd_port = _free_ports(2)
    cluster.conf.write_text(_config(root, user, sock, ctld_port, slurmd_port))

    cluster._start("slurmctld", [_find("slurmctld"), "-D", "-i"])
    cluster._wait_for("slurmctld starts and answers scontrol ping", "slurmctld",
                      cluster._controller_up, 30)

    cluster._start("slurmd", [_find("slurmd"), "-D", "-N", NODE])

    def node_idle() -> bool:
        state = cluster.run("sinfo", "--noheader", "--Node", "--format=%T", timeout=15)
        return state.stdout.strip() == "idle"

    try:
        cluster._wait_for("slurmd registers its node as idle", "slurmd", node_idle, 45)
    except ClusterUnavailable as e:
        why = cluster.run("sinfo", "--list-reasons", "--long", timeout=15).stdout
        raise ClusterUnavailable(e.check, f"{e}\n{why}") from None
    outside = _listening_beyond_localhost({ctld_port, slurmd_port})
    if outside:
        raise ClusterUnavailable("daemons listen on 127.0.0.1 only", ", ".join(outside))

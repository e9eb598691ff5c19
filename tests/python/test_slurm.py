# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore submit``, ``jobs``, ``wait`` and ``cancel`` against a real SLURM: a one-node
cluster of this machine (munged, slurmctld, slurmd; tests/python/slurm_cluster.py) started
once for this module and stopped after it, also when a test fails.

Where the daemons cannot start the tests are skipped with the check that failed; with
CI=true that is a failure instead. Every command runs under subprocess.run(timeout=...), so a
hang fails a test instead of stalling the suite. The job over its time limit is submitted
first and looked at last: SLURM limits are whole minutes and its controller checks them every
30 s, so that job takes 60 to 90 s, which the other tests' jobs overlap.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import slurm_cluster

POLL = "0.5"  # seconds between manycore wait's looks at a job


@pytest.fixture(scope="session")
def slurm():
    try:
        cluster = slurm_cluster.start()
    except slurm_cluster.ClusterUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the test SLURM cluster did not start; check that failed: {e.check}: "
                        f"{e.detail}")
        pytest.skip(f"no test SLURM cluster here; check that failed: {e.check}: {e.detail}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def env(slurm, tmp_path_factory):
    """The environment of every manycore command here: the cluster's SLURM_CONF, a private job
    record and no site profile but what a test gives."""
    e = dict(slurm.env)
    e["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    e["MANYCORE_SLURM_PROFILE"] = ""
    return e


def manycore(env: dict, *args: str, cwd: Path | None = None, timeout: float = 120
             ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manycore", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def submit(env: dict, cwd: Path, *args: str) -> str:
    done = manycore(env, "submit", *args, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    m = re.search(r"^submitted job (\d+) ", done.stdout, re.MULTILINE)
    assert m, done.stdout
    return m.group(1)


def wait(env: dict, job_id: str, timeout: float = 150) -> subprocess.CompletedProcess:
    return manycore(env, "wait", job_id, "--interval", POLL, "--tail", "400", timeout=timeout)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module", autouse=True)
def time_limited_job(env, tmp_path_factory):
    """A job that runs past its one-minute limit, submitted before every other test."""
    folder = tmp_path_factory.mktemp("limit")
    write(folder, "forever.py", """
        import time
        print("started", flush=True)
        time.sleep(170)  # ends by itself should SLURM not end it
    """)
    return submit(env, folder, "--time", "1", "forever.py")


def test_one_rank_job(env, tmp_path):
    write(tmp_path, "hello.py", """
        import numpy as np
        import manycore as mc
        x = mc.to_device(np.arange(1000, dtype=np.float64))
        print("sum", float((x * 2).get().sum()), "on", mc.default_device(), flush=True)
    """)
    done = manycore(env, "submit", "--time", "2", "hello.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    job_id = re.search(r"submitted job (\d+) \(hello\): manycore run hello.py", done.stdout).group(1)
    assert f"output: {tmp_path}/hello-{job_id}.out" in done.stdout
    assert f"manycore wait {job_id}" in done.stdout
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"job {job_id} (hello) COMPLETED" in finished.stderr
    out = (tmp_path / f"hello-{job_id}.out").read_text()
    assert out.startswith(f"== manycore info (job {job_id} on {slurm_cluster.NODE})\nmanycore ")
    assert f"({sys.executable})" in out  # manycore info: the job ran the submitting interpreter
    assert re.search(rf"\n  job +{job_id}, nodes {slurm_cluster.NODE}\n", out), out
    assert "== manycore run hello.py\nsum 999000.0 on cpu" in out
    assert "sum 999000.0 on cpu" in finished.stdout  # the tail


def test_two_rank_mpi_job_through_srun(env, tmp_path):
    write(tmp_path, "ranks.py", """
        import os
        import numpy as np
        import manycore as mc
        from manycore import dist, _core
        comm = dist.world()
        total = comm.allreduce(np.array([comm.rank + 1.0]), op="sum")
        print(f"rank {comm.rank} of {comm.size}: node-local rank {_core.node_local_rank()}, "
              f"{_core.num_threads()} threads, step {os.environ.get('SLURM_STEP_ID')}, "
              f"sum {total[0]:g}", flush=True)
    """)
    job_id = submit(env, tmp_path, "-n", "2", "--cpus-per-task", "2", "--time", "2", "ranks.py")
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    out = finished.stdout
    for rank in (0, 1):
        assert f"rank {rank} of 2: node-local rank {rank}, 2 threads, step 0, sum 3" in out, out
    assert re.search(rf"\n  job +{job_id}, 2 tasks, 2 CPUs per task, nodes {slurm_cluster.NODE}\n",
                     out), out


def test_srun_command_inside_the_allocation(env, tmp_path):
    """`manycore run` with no -n inside a job: the allocation's tasks, its CPUs per task, and
    SLURM's PMIx plugin for Debian's Open MPI."""
    write(tmp_path, "x.py", "print('never run')\n")
    job_id = submit(env, tmp_path, "-n", "3", "-c", "2", "--time", "2", "--",
                    "run", "--tag-output", "--dry-run", "x.py", "--flag")
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    srun = next(ln for ln in finished.stdout.splitlines() if "manycore.dist._rank" in ln)
    assert re.match(r"\S*srun --ntasks 3 --kill-on-bad-exit=1 --label --mpi=pmix "
                    r"--cpus-per-task=2 \S*python\S* -m manycore.dist._rank x.py --flag$", srun), srun


def test_mpirun_inside_the_allocation(env, tmp_path):
    """`manycore run --launcher mpirun` in a job: Open MPI reads the allocation itself."""
    write(tmp_path, "size.py", """
        from manycore import dist
        comm = dist.world()
        print(f"mpirun rank {comm.rank} of {comm.size}", flush=True)
    """)
    job_id = submit(env, tmp_path, "-n", "2", "--time", "2", "--", "run", "--launcher", "mpirun",
                    "size.py")
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "mpirun rank 0 of 2" in finished.stdout and "mpirun rank 1 of 2" in finished.stdout


def test_a_step_of_fewer_tasks_than_the_allocation(env, tmp_path):
    """What each point of a scaling study is: `manycore run -n P` in an allocation of more."""
    write(tmp_path, "size.py", """
        from manycore import dist
        comm = dist.world()
        print(f"step rank {comm.rank} of {comm.size}", flush=True)
    """)
    job_id = submit(env, tmp_path, "-n", "4", "--time", "2", "--", "run", "-n", "3", "size.py")
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert sorted(ln for ln in finished.stdout.splitlines() if ln.startswith("step rank")) == \
        [f"step rank {r} of 3" for r in range(3)]


def test_pmix_is_asked_for_unless_the_site_or_user_chose(slurm):
    """The plugin choice reads this SLURM's `srun --mpi=list` and the ranks' MPI (Open MPI)."""
    from manycore.dist import launcher

    env = dict(slurm.env, SLURM_JOB_ID="1", SLURM_NTASKS="2")
    cmd = launcher.build_command(launcher.parse_args(["s.py"]), env)
    assert "--mpi=pmix" in cmd
    cmd = launcher.build_command(launcher.parse_args(["s.py"]), dict(env, SLURM_MPI_TYPE="pmi2"))
    assert not any(a.startswith("--mpi") for a in cmd)
    cmd = launcher.build_command(launcher.parse_args(["--mpi-arg=--mpi=pmix_v4", "s.py"]), env)
    assert [a for a in cmd if a.startswith("--mpi")] == ["--mpi=pmix_v4"]


def test_job_whose_script_raises(env, tmp_path):
    """An exception on one rank ends the whole job at once (MPI_Abort under srun), and wait
    exits with the job's non-zero exit code."""
    write(tmp_path, "boom.py", """
        import time
        from manycore import dist
        comm = dist.world()
        if comm.rank == 1:
            time.sleep(0.5)
            raise ValueError("rank 1 gives up")
        comm.barrier()  # rank 0 waits here until the abort ends it
        time.sleep(120)
    """)
    start = time.monotonic()
    job_id = submit(env, tmp_path, "-n", "2", "--time", "3", "boom.py")
    finished = wait(env, job_id)
    assert time.monotonic() - start < 60
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert f"job {job_id} (boom) FAILED" in finished.stderr
    assert "exit status 1 (SLURM's ExitCode 1:0)" in finished.stderr
    assert "ValueError: rank 1 gives up" in finished.stdout
    assert "uncaught ValueError on rank 1; aborting every rank" in finished.stdout


def test_run_timeout_under_srun(env, tmp_path):
    write(tmp_path, "stuck.py", """
        import time
        from manycore import dist
        comm = dist.world()
        if comm.rank == 0:
            time.sleep(120)
        comm.barrier()
    """)
    job_id = submit(env, tmp_path, "-n", "2", "--time", "3", "--", "run", "--timeout", "3",
                    "stuck.py")
    finished = wait(env, job_id)
    assert finished.returncode == 124, finished.stdout + finished.stderr
    assert "--timeout 3 s reached on rank 0 (not inside a manycore.dist call)" in finished.stdout
    assert "--timeout 3 s reached on rank 1 (blocked in manycore.dist barrier" in finished.stdout


def test_site_profile_and_env_setup(env, tmp_path):
    profile = write(tmp_path, "site.toml", f"""
        partition = "{slurm_cluster.PARTITION}"
        time = "2"
        env_setup = ["export SITE_GREETING=from-the-profile"]
    """)
    write(tmp_path, "greet.py", """
        import os
        print("greetings", os.environ["SITE_GREETING"], os.environ["EXTRA"],
              os.environ["MANYCORE_NUM_THREADS"], flush=True)
    """)
    job_env = dict(env, MANYCORE_SLURM_PROFILE=str(profile))
    job_id = submit(job_env, tmp_path, "-c", "2", "--env-setup", "export EXTRA=from-the-command",
                    "-J", "greeter", "greet.py")
    finished = wait(env, job_id)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "greetings from-the-profile from-the-command 2" in finished.stdout
    shown = manycore(env, "jobs")
    row = next(ln for ln in shown.stdout.splitlines() if ln.split()[:1] == [job_id])
    assert row.split()[1:3] == ["greeter", "COMPLETED"] and "2:00" in row


def test_jobs_cancel_and_wait_on_a_cancelled_job(env, tmp_path):
    write(tmp_path, "sleeper.py", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n")
    job_id = submit(env, tmp_path, "--time", "3", "sleeper.py")
    deadline = time.monotonic() + 60
    while True:
        shown = manycore(env, "jobs")
        assert shown.returncode == 0, shown.stderr
        row = next((ln for ln in shown.stdout.splitlines() if ln.split()[:1] == [job_id]), "")
        if "RUNNING" in row or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown.stdout.splitlines()[0].split() == ["job", "name", "state", "elapsed", "limit",
                                                    "tasks", "output", "note"]
    assert row.split()[1:3] == ["sleeper", "RUNNING"], shown.stdout
    assert f"{tmp_path}/sleeper-{job_id}.out" in row and f"on {slurm_cluster.NODE}" in row

    cancelled = manycore(env, "cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"cancelled job {job_id} (sleeper), which was RUNNING"
    finished = wait(env, job_id)
    assert finished.returncode == 143, finished.stderr  # 128 + SIGTERM
    assert f"job {job_id} (sleeper) CANCELLED" in finished.stderr
    assert "it was cancelled" in finished.stderr

    again = manycore(env, "cancel", job_id)
    assert again.returncode == 1
    assert f"job {job_id} has already ended (CANCELLED); nothing to cancel" in again.stderr
    unknown = manycore(env, "cancel", "99999999")
    assert unknown.returncode == 1 and "no job 99999999 is known to SLURM" in unknown.stderr


def test_a_held_job_pends_and_says_why(env, tmp_path):
    write(tmp_path, "held.py", "print('never')\n")
    job_id = submit(env, tmp_path, "--time", "1", "--sbatch-arg=--hold", "held.py")
    shown = manycore(env, "jobs")
    row = next(ln for ln in shown.stdout.splitlines() if ln.split()[:1] == [job_id])
    assert row.split()[1:3] == ["held", "PENDING"], shown.stdout
    assert row.endswith("held by you (`scontrol release <id>` lets it start)"), row
    assert manycore(env, "cancel", job_id).returncode == 0
    finished = wait(env, job_id)
    assert finished.returncode == 1 and "CANCELLED" in finished.stderr
    assert "the job never started" in finished.stderr


def test_wait_without_an_id_follows_the_last_job(env, tmp_path):
    write(tmp_path, "quick.py", "print('quick one')\n")
    job_id = submit(env, tmp_path, "--time", "1", "quick.py")
    finished = manycore(env, "wait", "--interval", POLL, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert f"job {job_id} (quick) COMPLETED" in finished.stderr
    assert finished.stdout.rstrip().endswith("quick one")


@pytest.mark.parametrize("args, ours, theirs", [
    (["-p", "nope"], "there is no partition 'nope' on this cluster",
     "Invalid partition name specified"),
    (["--time", "45"], "--time 45 is longer than the default partition allows",
     "Requested time limit is invalid"),
    (["--nodes", "3"], "--nodes 3 is more nodes than the default partition has or allows",
     "Node count specification invalid"),
    (["--gpus", "1"], "the job asks for GPUs but the default partition has none",
     "Invalid generic resource (gres) specification"),
    (["-n", "40"], "40 task(s) x 1 CPU(s) each is more than the default partition has",
     "More processors requested than permitted"),
])
def test_slurm_refusals_in_the_users_terms(env, tmp_path, args, ours, theirs):
    write(tmp_path, "s.py", "print(1)\n")
    done = manycore(env, "submit", *args, "s.py", cwd=tmp_path)
    assert done.returncode == 1
    assert f"manycore submit: error: the job was not submitted: {ours}" in done.stderr
    assert "SLURM said: " in done.stderr and theirs in done.stderr


def test_wait_outlasts_a_controller_restart(slurm, env, tmp_path):
    """A controller that stops answering for a while (a restart, a busy moment) does not end
    `manycore wait`: it asks again. The job outlasts the restart: a job that ends while the
    controller is away is reported once slurmd tries again, a minute later."""
    write(tmp_path, "nap.py", "import time\ntime.sleep(12)\nprint('woke up', flush=True)\n")
    job_id = submit(env, tmp_path, "--time", "2", "nap.py")
    waiting = subprocess.Popen([sys.executable, "-m", "manycore", "wait", job_id, "--interval",
                                POLL], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        time.sleep(2)
        slurm.stop_controller()
        time.sleep(3)
        assert waiting.poll() is None, waiting.communicate()
        slurm.start_controller()
        out, err = waiting.communicate(timeout=120)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, out + err
    assert f"job {job_id} (nap) COMPLETED" in err and "woke up" in out


def test_wait_on_an_unknown_job(env):
    done = manycore(env, "wait", "99999999", "--interval", POLL)
    assert done.returncode == 1
    assert "no job 99999999 is known to SLURM" in done.stderr


def test_job_over_its_time_limit(env, time_limited_job):
    """Submitted first (see time_limited_job); SLURM ends it about a minute in."""
    finished = wait(env, time_limited_job, timeout=200)
    assert finished.returncode == 124, finished.stdout + finished.stderr
    assert f"job {time_limited_job} (forever) TIMEOUT" in finished.stderr
    assert "it ran past its time limit (00:01:00)" in finished.stderr
    assert "started" in finished.stdout
    assert "DUE TO TIME LIMIT" in finished.stdout

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``manycore run`` never orphans its job: SIGTERM and SIGHUP reach every rank, a killed
launcher's ranks end themselves, and absurd -n or --timeout values are usage errors.

The jobs run real mpirun on 2 ranks, under timeouts, so a regression fails a test instead of
leaving processes behind.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from manycore.dist import launcher

HAVE_MPI = shutil.which("mpirun") is not None and importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpirun and mpi4py (apt-get install "
                               "openmpi-bin libopenmpi-dev; pip install mpi4py)")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended; only its parent has not read its status yet.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def start_job(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """`manycore run -n 2` of a script that reports its pid and sleeps; returns the launcher
    and the ranks' pids once both run."""
    script = tmp_path / "sleeper.py"
    pids = tmp_path / "pids"
    script.write_text(textwrap.dedent(f'''
        import os, time
        with open({str(pids)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        time.sleep(300)
    '''))
    with open(tmp_path / "stderr", "w") as err:
        job = subprocess.Popen([sys.executable, "-m", "manycore", "run", "-n", "2", str(script)],
                               stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if pids.exists() and len(pids.read_text().split()) == 2:
            return job, [int(p) for p in pids.read_text().split()]
        if job.poll() is not None:
            break
        time.sleep(0.2)
    job.kill()
    job.wait()
    raise AssertionError("the job did not start: " + (tmp_path / "stderr").read_text())


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def end(pids: list[int]) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


@needs_mpi
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_manycore_run_ends_every_rank(tmp_path, sig):
    job, ranks = start_job(tmp_path)
    try:
        job.send_signal(sig)
        code = job.wait(timeout=60)
        left = wait_gone(ranks, 20)
    finally:
        end(ranks)
        job.kill()
        job.wait()
    assert left == []
    assert code == 128 + sig
    assert f"{signal.Signals(sig).name} received" in (tmp_path / "stderr").read_text()


@needs_mpi
def test_ranks_end_when_their_launcher_is_killed(tmp_path):
    job, ranks = start_job(tmp_path)
    try:
        mpirun = [int(p) for p in subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True,
                                                 text=True).stdout.split()]
        assert mpirun, "no launcher process under manycore run"
        for p in mpirun:
            os.kill(p, signal.SIGKILL)  # no chance to pass anything on
        left = wait_gone(ranks, 20)
    finally:
        end(ranks)
        job.kill()
        job.wait(timeout=60)
    assert left == []


def test_more_than_eight_ranks_per_core_needs_oversubscribe():
    cores = launcher._cores()
    too_many = str(8 * cores + 1)
    done = subprocess.run([sys.executable, "-m", "manycore", "run", "-n", too_many, "x.py"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--oversubscribe" in done.stderr
    o = launcher.parse_args(["-n", too_many, "--oversubscribe", "x.py"])
    launcher.check_ranks(o)  # allowed when asked for
    if shutil.which("mpirun") and launcher._flavour(shutil.which("mpirun")) == "openmpi":
        assert "--oversubscribe" in launcher.build_command(o)
    # The course's 4 ranks on a 2-core laptop still need nothing from the user.
    launcher.check_ranks(launcher.parse_args(["-n", str(2 * cores), "x.py"]))


@pytest.mark.parametrize("value", ["0", "-5", "abc", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(value):
    done = subprocess.run([sys.executable, "-m", "manycore", "run", "--timeout", value, "x.py"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"--timeout {value}" in done.stderr and "usage:" in done.stderr

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The launcher (``manycore run``) and the MPI suite: plain pytest starts the MPI jobs itself.

Each job runs under subprocess.run(..., timeout=...), so a hang is a test failure, never a
stuck CI. Skipped with the reason where mpirun or mpi4py is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from manycore.dist import launcher, magic

HERE = Path(__file__).resolve().parent
HAVE_MPI = shutil.which("mpirun") is not None and importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpirun and mpi4py (apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py)")


def manycore_run(*args: str, timeout: float = 120, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manycore", "run", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd)


@needs_mpi
@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_mpi_suite(ranks):
    """tests/python/test_dist.py on 1 to 4 ranks (3 and 4 oversubscribe a 2-core machine)."""
    done = manycore_run("-n", str(ranks), "--timeout", "200", "-m", "pytest", "--with-mpi", "-m", "mpi",
                        str(HERE / "test_dist.py"), "-p", "no:cacheprovider", "-q", "-x", "--color=no",
                        timeout=260)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-4000:]
    assert done.stdout.count(" passed") == ranks, done.stdout[-3000:]
    assert "failed" not in done.stdout


@needs_mpi
def test_heat2d_example_through_the_cli():
    done = manycore_run("-n", "3", "-m", "manycore.dist.examples.heat2d", "--n", "40", "--steps", "20",
                        "--check", "--overlap")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bitwise identical to the serial NumPy version" in done.stdout


@needs_mpi
def test_uncaught_exception_aborts_every_rank_fast(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text(textwrap.dedent("""
        import time
        from manycore import dist
        c = dist.world()
        if c.rank == 1:
            time.sleep(0.5)
            raise ValueError("rank 1 gives up")
        c.barrier()  # rank 0 would wait here forever without the abort
        time.sleep(600)
    """))
    start = time.monotonic()
    done = manycore_run("-n", "2", str(script), timeout=60)
    elapsed = time.monotonic() - start
    assert done.returncode != 0
    assert elapsed < 30, f"took {elapsed:.1f} s"
    assert "ValueError: rank 1 gives up" in done.stderr
    assert "uncaught ValueError on rank 1; aborting every rank" in done.stderr


@needs_mpi
def test_nonzero_exit_on_one_rank_ends_the_job(tmp_path):
    script = tmp_path / "exit.py"
    script.write_text("import sys\nfrom manycore import dist\nc = dist.world()\n"
                      "if c.rank == 0: sys.exit(3)\nc.barrier()\n")
    done = manycore_run("-n", "2", str(script), timeout=60)
    assert done.returncode != 0
    assert "exit status 3 on rank 0" in done.stderr


@needs_mpi
def test_timeout_prints_stacks_and_the_blocking_call(tmp_path):
    script = tmp_path / "deadlock.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        from mpi4py import MPI
        from manycore import dist
        c = dist.world()
        def wait_for_partner():
            if c.rank == 0:
                c.barrier()                        # rank 1 never comes
            else:
                MPI.COMM_WORLD.Recv(np.zeros(1), source=0)  # and rank 0 never sends
        wait_for_partner()
    """))
    start = time.monotonic()
    done = manycore_run("-n", "2", "--timeout", "3", str(script), timeout=60)
    elapsed = time.monotonic() - start
    assert done.returncode != 0
    assert elapsed < 30
    assert "--timeout 3 s reached on rank" in done.stderr
    assert "blocked in manycore.dist barrier() on a communicator of 2 ranks" in done.stderr
    assert "in wait_for_partner" in done.stderr  # faulthandler's stack of the main thread


@needs_mpi
def test_tag_output_prefixes_each_line_with_its_rank(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("from manycore import dist\nc = dist.world()\nprint('hello from', c.rank)\nprint('bye', c.rank)\n")
    done = manycore_run("-n", "2", "--tag-output", str(script), timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    for r in (0, 1):
        assert any(line.startswith(f"[1,{r}]<stdout>:hello from {r}") for line in lines), done.stdout


def test_missing_mpirun_is_a_clear_error(tmp_path):
    script = tmp_path / "x.py"
    script.write_text("print('never')\n")
    env = dict(os.environ, PATH=str(tmp_path))  # no mpirun, mpiexec or srun there
    env.pop("SLURM_JOB_ID", None)
    done = manycore_run("-n", "2", str(script), env=env, timeout=60)
    assert done.returncode == 1
    assert "no MPI launcher found" in done.stderr and "openmpi-bin" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_mpi4py_says_how_to_install_it():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import manycore as mc\nfrom manycore import dist\n"
            "try:\n    dist.world()\nexcept mc.DeviceUnavailable as e:\n    print('OK', e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("OK") and "pip install mpi4py" in done.stdout, done.stdout + done.stderr


def _fake(tmp_path: Path, name: str, version_text: str) -> Path:
    exe = tmp_path / name
    exe.write_text(f"#!/bin/sh\necho '{version_text}'\n")
    exe.chmod(0o755)
    return exe


def test_command_line_parsing_and_building(tmp_path):
    o = launcher.parse_args(["-n", "3", "--tag-output", "--timeout=20", "-m", "pytest", "--with-mpi", "-x"])
    assert (o.ranks, o.tag_output, o.timeout, o.module, o.args) == (3, True, 20.0, "pytest", ["--with-mpi", "-x"])
    o = launcher.parse_args(["-np", "2", "script.py", "-n", "7"])
    assert (o.ranks, o.script, o.args) == (2, "script.py", ["-n", "7"])
    for bad in (["-n", "x", "s.py"], ["-n", "0", "s.py"], ["--bogus", "s.py"], ["-n", "2"]):
        with pytest.raises(ValueError):
            launcher.parse_args(bad)

    _fake(tmp_path, "mpirun", "mpirun (Open MPI) 4.1.4")
    env = {"PATH": str(tmp_path)}
    cmd = launcher.build_command(launcher.parse_args(["-n", "4096", "--tag-output", "--timeout", "9", "s.py", "a"]), env)
    assert cmd[:3] == [str(tmp_path / "mpirun"), "-n", "4096"]
    assert "--oversubscribe" in cmd and "--tag-output" in cmd
    assert ("--allow-run-as-root" in cmd) == (os.geteuid() == 0)
    assert cmd[-6:] == ["-m", "manycore.dist._rank", "--timeout", "9", "s.py", "a"]
    cmd = launcher.build_command(launcher.parse_args(["-n", "1", "s.py"]), env)
    assert "--oversubscribe" not in cmd and "--tag-output" not in cmd

    _fake(tmp_path, "srun", "slurm 23.02")
    cmd = launcher.build_command(launcher.parse_args(["-n", "8", "--tag-output", "-m", "pkg"]),
                                 dict(env, SLURM_JOB_ID="42"))
    assert cmd[:5] == [str(tmp_path / "srun"), "--ntasks", "8", "--kill-on-bad-exit=1", "--label"]
    assert cmd[-2:] == ["-m", "pkg"]


def test_magic_builds_the_command_and_registers(tmp_path, monkeypatch):
    _fake(tmp_path, "mpirun", "mpirun (Open MPI) 4.1.4")
    monkeypatch.setenv("PATH", str(tmp_path))
    o, cmd = magic.build_cell_command("-n 4 --tag-output --timeout 30", "/tmp/cell.py")
    assert o.ranks == 4 and o.timeout == 30
    assert cmd[0] == str(tmp_path / "mpirun") and "--tag-output" in cmd and cmd[-1] == "/tmp/cell.py"
    with pytest.raises(ValueError, match="launcher options only"):
        magic.build_cell_command("-n 2 -m pytest", "/tmp/cell.py")

    registered = {}

    class FakeShell:
        def register_magic_function(self, func, magic_kind, magic_name):
            registered[magic_name] = (func, magic_kind)

    magic.load_ipython_extension(FakeShell())
    assert registered["mpirun"][1] == "cell"


@needs_mpi
def test_magic_runs_a_cell(capsys):
    done = magic.run_cell("-n 2", "from manycore import dist\nprint('rank', dist.world().rank)\n")
    assert done.returncode == 0, done.stderr
    out = capsys.readouterr().out
    assert "rank 0" in out and "rank 1" in out


def test_cli_run_subcommand(tmp_path, capsys):
    from manycore import cli

    _fake(tmp_path, "mpirun", "mpirun (Open MPI) 4.1.4")
    env_path = os.environ.get("PATH", "")
    os.environ["PATH"] = str(tmp_path)
    try:
        assert cli.main(["run", "-n", "2", "--dry-run", "-m", "pkg.mod", "--flag"]) == 0
        assert cli.main(["run", "-n", "two", "x.py"]) == 2
    finally:
        os.environ["PATH"] = env_path
    out, err = capsys.readouterr()
    assert "mpirun -n 2" in out and out.rstrip().endswith("-m manycore.dist._rank -m pkg.mod --flag")
    assert "needs a whole number of ranks" in err
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "run a Python program on N MPI ranks" in capsys.readouterr().out


def test_run_takes_the_allocations_tasks_and_cpus(tmp_path):
    """`manycore run` inside an allocation: -n omitted means SLURM_NTASKS, the CPUs per task are
    passed to srun (which no longer inherits them) and become the ranks' threads."""
    srun = _fake(tmp_path, "srun", "slurm 22.05.8")
    env = {"PATH": str(tmp_path), "SLURM_JOB_ID": "7", "SLURM_NTASKS": "6",
           "SLURM_CPUS_PER_TASK": "4"}
    cmd = launcher.build_command(launcher.parse_args(["s.py"]), env)
    assert cmd[:6] == [str(srun), "--ntasks", "6", "--kill-on-bad-exit=1", "--cpus-per-task=4",
                       "--export=ALL,MANYCORE_NUM_THREADS=4"]
    cmd = launcher.build_command(launcher.parse_args(["-n", "2", "-c", "1", "--gpus-per-task", "1",
                                                      "s.py"]), dict(env, MANYCORE_NUM_THREADS="3"))
    assert cmd[:6] == [str(srun), "--ntasks", "2", "--kill-on-bad-exit=1", "--cpus-per-task=1",
                       "--gpus-per-task=1"]
    cmd = launcher.build_command(launcher.parse_args(["s.py"]), {"PATH": str(tmp_path),
                                                                "SLURM_JOB_ID": "7"})
    assert cmd[:2] == [str(srun), "--kill-on-bad-exit=1"]  # srun's own default: one per node


def test_run_outside_slurm_keeps_one_rank_and_refuses_gpus_per_task(tmp_path):
    mpirun = _fake(tmp_path, "mpirun", "mpirun (Open MPI) 4.1.4")
    env = {"PATH": str(tmp_path)}
    cmd = launcher.build_command(launcher.parse_args(["-c", "2", "s.py"]), env)
    assert cmd[:3] == [str(mpirun), "-n", "1"]
    assert cmd[cmd.index("-x") + 1] == "MANYCORE_NUM_THREADS=2"
    with pytest.raises(ValueError, match="--gpus-per-task needs srun"):
        launcher.build_command(launcher.parse_args(["--gpus-per-task", "1", "s.py"]), env)
    with pytest.raises(ValueError, match="--cpus-per-task 0: at least one CPU"):
        launcher.parse_args(["--cpus-per-task", "0", "s.py"])

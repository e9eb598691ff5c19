# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What ``manycore submit`` writes, with no SLURM needed: the job script (``--dry-run``), the
site profile, the command forms, SLURM's refusals in words. test_slurm.py submits such scripts
to a real SLURM."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from manycore import cli, slurm
from manycore.slurm import _scheduler


@pytest.fixture
def manycore(monkeypatch, capsys):
    """Runs ``manycore ARGS`` in this process (cli.main, as the command does) in folder ``cwd``
    with environment ``env`` (default: this one without a site profile)."""

    def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, MANYCORE_SLURM_PROFILE="") if env is None else env
        with monkeypatch.context() as m:
            m.chdir(cwd)
            for name in set(os.environ) - set(env):
                m.delenv(name)
            for name, value in env.items():
                m.setenv(name, value)
            capsys.readouterr()
            status = cli.main(list(args))
            out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, status, out, err)

    return run


def activation(python: str) -> str:
    """The line that activates ``python``'s environment, by the documented rule."""
    prefix = Path(python).parent.parent
    if (prefix / "pyvenv.cfg").is_file():
        return f"source {prefix}/bin/activate"
    return f'export PATH={Path(python).parent}:"$PATH"'


def test_dry_run_prints_the_job_script(tmp_path, manycore):
    (tmp_path / "heat.py").write_text("print('heat')\n")
    done = manycore("submit", "-n", "4", "--time", "10:00", "-c", "2", "-p", "rome",
                    "--env-setup", "module load 2023", "--dry-run", "heat.py", "--size", "512",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    python = sys.executable
    assert done.stdout == textwrap.dedent(f"""\
        #!/bin/bash
        #SBATCH --job-name=heat
        #SBATCH --ntasks=4
        #SBATCH --cpus-per-task=2
        #SBATCH --time=10:00
        #SBATCH --partition=rome
        #SBATCH --output={tmp_path}/heat-%j.out
        #SBATCH --chdir={tmp_path}
        # Written by `manycore submit` (manycore {slurm_version()}); follow the job with `manycore wait <job id>`.

        # Site set-up
        module load 2023

        # The Python environment the job was submitted from
        {activation(python)}
        export MANYCORE_NUM_THREADS=2

        echo "== manycore info (job $SLURM_JOB_ID on $SLURM_JOB_NODELIST)"
        {python} -m manycore info
        echo
        echo '== manycore run heat.py --size 512'
        exec {python} -m manycore run heat.py --size 512
        """)
    assert done.stderr == ""


def slurm_version() -> str:
    import manycore

    return manycore.__version__


def test_dry_run_of_a_manycore_command(tmp_path, manycore):
    """`-- COMMAND` (with or without the word manycore) runs that manycore command as it is."""
    for words in (["--", "run", "-n", "2", "-m", "pytest", "-x"],
                  ["--", "manycore", "run", "-n", "2", "-m", "pytest", "-x"],
                  ["run", "-n", "2", "-m", "pytest", "-x"]):
        done = manycore("submit", "--gpus-per-task", "1", "-n", "2", "--dry-run", *words,
                        cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "#SBATCH --job-name=run-pytest" in lines
        assert "#SBATCH --gpus-per-task=1" in lines
        assert lines[-1] == f"exec {sys.executable} -m manycore run -n 2 -m pytest -x"
        assert "MANYCORE_DEVICE" not in done.stdout  # each rank's GPU: the node-local-rank rule
    done = manycore("submit", "--dry-run", "-J", "lab", "-o", "logs/%x-%j.txt", "--", "info",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"#SBATCH --output={tmp_path}/logs/%x-%j.txt" in done.stdout.splitlines()
    assert done.stdout.endswith(f"exec {sys.executable} -m manycore info\n")


@pytest.mark.parametrize("args, message", [
    (["nothere.py"], "nothere.py: no such script here, nor a manycore command"),
    (["--", "bogus", "x"], "bogus: no such script here, nor a manycore command (cache, check"),
    (["--", "wait", "3"], "`manycore wait` talks to SLURM from where you are; a job cannot run it"),
    ([], "nothing to run"),
    (["--"], "nothing to run"),
    (["--time", "10m", "s.py"], "--time '10m' is not a time SLURM reads"),
    (["-n", "0", "s.py"], "--ntasks 0: at least 1"),
    (["--job-name", "a\nb", "s.py"], "a value on one line"),
])
def test_submit_refuses_bad_input_before_slurm(tmp_path, args, message, manycore):
    (tmp_path / "s.py").write_text("")
    done = manycore("submit", "--dry-run", *args, cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert message in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("text", ["30", "10:00", "1:30:00", "2-12", "2-12:30", "2-12:30:15",
                                  "UNLIMITED"])
def test_slurm_time_formats(text):
    assert slurm._jobscript.check_time(text) == text


@pytest.mark.parametrize("text", ["10m", "1h", "", "1:2:3:4", "-5", "1-"])
def test_times_slurm_would_refuse(text):
    with pytest.raises(ValueError, match="is not a time SLURM reads"):
        slurm._jobscript.check_time(text)


SNELLIUS = Path(__file__).resolve().parents[2] / "docs" / "slurm-snellius.toml"


def test_site_profile_gives_the_defaults():
    """docs/slurm-snellius.toml, the documented example, read and applied."""
    profile = slurm.load_site_profile(str(SNELLIUS))
    cpu = profile.apply(slurm.SubmitOptions(script="heat.py", time="5:00",
                                            env_setup=["export A=1"]))
    assert (cpu.partition, cpu.time, cpu.account, cpu.cpus_per_task) == \
        ("rome", "5:00", None, None)
    assert cpu.env_setup == ["module purge", "module load 2023",
                             "module load Python/3.11.3-GCCcore-12.3.0",
                             "module load OpenMPI/4.1.5-GCC-12.3.0", "export A=1"]
    gpu = profile.apply(slurm.SubmitOptions(script="heat.py", gpus_per_task="1",
                                            account="vusr123"))
    assert (gpu.partition, gpu.time, gpu.cpus_per_task) == ("gpu_a100", "00:30:00", 18)
    assert gpu.env_setup[-1] == "module load CUDA/12.1.1"
    text = slurm.job_script(gpu)
    assert "#SBATCH --partition=gpu_a100" in text and "#SBATCH --account=vusr123" in text
    assert "#SBATCH --gpus-per-task=1" in text and "export MANYCORE_NUM_THREADS=18" in text
    assert text.index("module load CUDA/12.1.1") < text.index("# The Python environment")
    assert "SLURM_MPI_TYPE" not in text
    own = slurm.SiteProfile(defaults={"srun_mpi": "pmix", "sbatch_args": ["--exclusive"]})
    text = slurm.job_script(own.apply(slurm.SubmitOptions(script="s.py",
                                                          sbatch_args=["--qos=short"])))
    assert "export SLURM_MPI_TYPE=pmix\n" in text
    assert "#SBATCH --exclusive\n#SBATCH --qos=short\n" in text


def test_site_profile_from_the_environment_and_the_config_folder(tmp_path, manycore):
    (tmp_path / "heat.py").write_text("")
    config = tmp_path / "config" / "manycore"
    config.mkdir(parents=True)
    (config / "slurm.toml").write_text('partition = "from-config"\n')
    other = tmp_path / "other.toml"
    other.write_text('partition = "from-variable"\n')
    base = {k: v for k, v in os.environ.items() if k != "MANYCORE_SLURM_PROFILE"}
    base["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    for extra, partition in (({}, "from-config"), ({"MANYCORE_SLURM_PROFILE": str(other)},
                                                    "from-variable")):
        done = manycore("submit", "--dry-run", "heat.py", cwd=tmp_path, env=dict(base, **extra))
        assert f"#SBATCH --partition={partition}\n" in done.stdout, done.stderr
    done = manycore("submit", "--dry-run", "-p", "mine", "heat.py", cwd=tmp_path,
                    env=dict(base, MANYCORE_SLURM_PROFILE=str(other)))
    assert "#SBATCH --partition=mine\n" in done.stdout  # the command line wins
    done = manycore("submit", "--dry-run", "heat.py", cwd=tmp_path,
                    env=dict(base, MANYCORE_SLURM_PROFILE=""))
    assert "--partition" not in done.stdout  # empty: no profile at all


@pytest.mark.parametrize("text, message", [
    ('partiton = "rome"\n', "unknown key 'partiton'; the keys are partition, time"),
    ('[gpu]\nmodules = ["x"]\n', "unknown key gpu.'modules'"),
    ("nodes = \"two\"\n", "nodes = 'two' should be a whole number"),
    ("env_setup = [1, 2]\n", "env_setup = [1, 2] should be a string or a list of strings"),
    ('time = "1h"\n', "--time '1h' is not a time SLURM reads"),
    ("gpu = 3\n", "'gpu' should be a table ([gpu])"),
    ("partition = \n", "site profile"),
])
def test_bad_site_profiles_are_named(tmp_path, text, message):
    path = tmp_path / "slurm.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="site profile") as caught:
        slurm.load_site_profile(str(path))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_missing_site_profile(tmp_path, manycore):
    (tmp_path / "s.py").write_text("")
    done = manycore("submit", "--dry-run", "s.py", cwd=tmp_path,
                    env=dict(os.environ, MANYCORE_SLURM_PROFILE=str(tmp_path / "none.toml")))
    assert done.returncode == 1
    assert f"site profile {tmp_path / 'none.toml'} (MANYCORE_SLURM_PROFILE): no such file" \
        in done.stderr


def test_environment_activation(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    o = slurm.SubmitOptions(script="s.py", python=str(venv / "bin" / "python"))
    assert f"source {venv}/bin/activate\n" in slurm.job_script(o)
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "bin").mkdir()
    text = slurm.job_script(slurm.SubmitOptions(script="s.py", python=str(conda / "bin" / "python")))
    assert f"export CONDA_PREFIX={conda}\nexport PATH={conda}/bin:\"$PATH\"\n" in text
    text = slurm.job_script(slurm.SubmitOptions(script="s.py", python="/opt/py/bin/python3"))
    assert 'export PATH=/opt/py/bin:"$PATH"\n' in text


def test_refusals_read_in_the_users_terms():
    """SLURM's own wording for refusals this test cluster cannot produce (it has no accounting
    database, so it checks no accounts or QOS)."""
    o = slurm.SubmitOptions(script="s.py", account="nope", partition="rome")
    said = "Batch job submission failed: Invalid account or account/partition combination specified"
    assert _scheduler._refusal(said, o).startswith("account 'nope' does not exist or may not use "
                                                   "partition 'rome'")
    said = "Batch job submission failed: Job violates accounting/QOS policy (job submit limit, " \
           "user's size and/or time limits)"
    assert "exceeds a limit of your account or QOS" in _scheduler._refusal(said, o)
    said = "sbatch: error: Batch job submission failed: Unable to contact slurm controller " \
           "(connect failure)"
    assert "the SLURM controller does not answer" in _scheduler._refusal(said, o)
    assert _scheduler._refusal("something new", o) == "SLURM refused the job"


def test_exit_status_of_ended_jobs():
    job = _scheduler.Job
    assert job("1", state="COMPLETED", exit_code="0:0").exit_status() == 0
    assert job("1", state="FAILED", exit_code="3:0").exit_status() == 3
    assert job("1", state="TIMEOUT", exit_code="0:15").exit_status() == 124
    assert job("1", state="CANCELLED", exit_code="0:15").exit_status() == 143
    assert job("1", state="NODE_FAIL", exit_code="0:0").exit_status() == 1


def test_reasons_in_words():
    explain = _scheduler.explain_reason
    assert explain("(Resources)") == "waiting for the nodes it needs to become free"
    assert "it will never start" in explain("PartitionTimeLimit")
    assert explain("QOSMaxJobsPerUserLimit") == \
        "a limit of your account or QOS (QOSMaxJobsPerUserLimit)"
    assert explain("SomeNewReason") == "SomeNewReason" and explain("None") == ""


def test_scontrol_lines_with_spaces_in_values():
    fields = _scheduler._fields("JobId=12 JobName=my job ReqB:S:C:T=0:0:*:* CPUs/Task=1 "
                                "WorkDir=/a b/c StdOut=/a b/c/x-12.out ExitCode=0:0")
    assert fields["JobName"] == "my job" and fields["StdOut"] == "/a b/c/x-12.out"
    assert fields["ReqB:S:C:T"] == "0:0:*:*" and fields["CPUs/Task"] == "1"
    assert fields["ExitCode"] == "0:0"


def test_output_patterns_are_expanded():
    j = _scheduler.Job("12", name="heat", nodes="n1,n2")
    assert _scheduler._expand_output("/a/%x-%j.out", j, "me") == "/a/heat-12.out"
    assert _scheduler._expand_output("/a/%u/%N-%5j-%%.out", j, "me") == "/a/me/n1-00012-%.out"


def test_commands_say_when_there_is_no_slurm(tmp_path, manycore):
    env = dict(os.environ, PATH=str(tmp_path), MANYCORE_SLURM_PROFILE="")
    (tmp_path / "s.py").write_text("")
    for args in (["jobs"], ["wait", "3"], ["cancel", "3"], ["submit", "s.py"]):
        done = manycore(*args, cwd=tmp_path, env=env)
        assert done.returncode == 1, done.stdout
        assert "is not on PATH: there is no SLURM here" in done.stderr


def test_wait_needs_a_job_id(tmp_path, manycore):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    done = manycore("wait", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "which job? give its id" in done.stderr
    done = manycore("wait", "12x", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "'12x' is not a job id" in done.stderr


_LOCAL_RANK_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                         "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MANYCORE_DEVICE")


def _default_device_of_rank(local_id: int, visible: str) -> list[str]:
    """A rank's default device and GPU count, as srun starts it: SLURM_LOCALID and the GPUs
    SLURM shows it (CUDA_VISIBLE_DEVICES)."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCAL_RANK_VARIABLES}
    env.update(SLURM_LOCALID=str(local_id), CUDA_VISIBLE_DEVICES=visible)
    probe = ("import manycore as mc; "
             "print(mc.default_device(), sum(d.kind == 'cuda' for d in mc.devices()))")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.gpu
def test_each_rank_takes_the_gpu_slurm_shows_it():
    """The node-local-rank rule under srun: with --gpus-per-task each rank sees one GPU and takes
    it whatever its rank on the node; with --gpus every rank sees them all and takes its own."""
    import manycore as mc

    gpus = [d for d in mc.devices() if d.kind == "cuda"]
    if not gpus:
        pytest.skip("no GPU on this machine")
    # The GPUs as this process may name them (a machine may already narrow what it shows).
    ids = (os.environ.get("CUDA_VISIBLE_DEVICES") or ",".join(map(str, range(len(gpus))))).split(",")
    for local_id in (0, 3):
        assert _default_device_of_rank(local_id, ids[0]) == ["cuda:0", "1"]
    every = ",".join(ids[:len(gpus)])
    for local_id in range(len(gpus) + 1):
        assert _default_device_of_rank(local_id, every) == \
            [f"cuda:{local_id % len(gpus)}", str(len(gpus))]

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore check: compute-sanitizer reports parsed into Findings, the grouped report, exit
codes, and the command line in both modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from manycore import checking
from manycore.findings import Finding

# Reports in the layouts compute-sanitizer prints: 2022 and later ("SIGNATURE+0xOFF in
# FILE:LINE") and the older one ("0xOFF in FILE:LINE:SIGNATURE"), with the program's own
# output interleaved as it is when no --log-file is given.
MEMCHECK = """\
========= COMPUTE-SANITIZER
hello from the script
========= Invalid __global__ write of size 4 bytes
=========     at axpy(int, float, const float *, float *)+0x1b0 in /tmp/manycore/kernel.cu:5
=========     by thread (232,0,0) in block (3,0,0)
=========     Address 0x7f3a8e000fa0 is out of bounds
=========     and is 1 bytes after the nearest allocation at 0x7f3a8e000000 of size 4000 bytes
=========     Saved host backtrace up to driver entry point at kernel launch time
=========     Host Frame: [0x2e3f95]
=========                in /lib/x86_64-linux-gnu/libcuda.so.1
=========     Host Frame:cuLaunchKernel [0x2d80a3]
=========                in /lib/x86_64-linux-gnu/libcuda.so.1
=========
========= Invalid __shared__ read of size 8 bytes
=========     at 0x2a0 in kernel.cu:14:void reduce<double, 256>(const double *, double *, int)
=========     by thread (0,0,0) in block (1,0,0)
=========     Address 0x800 is out of bounds
=========
========= Program hit cudaErrorLaunchFailure (error 719) due to "unspecified launch failure" on CUDA API call to cuCtxSynchronize.
=========     Saved host backtrace up to driver entry point at error
=========
========= ERROR SUMMARY: 3 errors
"""

RACECHECK_ANALYSIS = """\
========= COMPUTE-SANITIZER
========= Error: Race reported between Write access at block_sum(int, const float *, float *)+0x2d0 in kernel.cu:12
=========     and Read access at block_sum(int, const float *, float *)+0x330 in kernel.cu:14 [1016 hazards]
=========
========= Warning: Race reported between Write access at 0x150 in kernel.cu:20:rotate(float *)
=========     and Write access at 0x150 in kernel.cu:20:rotate(float *) [31 hazards]
=========
========= RACECHECK SUMMARY: 2 hazards displayed (1 error, 1 warning)
"""

RACECHECK_HAZARD = """\
========= COMPUTE-SANITIZER
========= ERROR: Potential WAR hazard detected at __shared__ 0xc in block (2,0,0) :
=========     Read Thread (3,0,0) at 0x00000330 in kernel.cu:14:block_sum(int, const float*, float*)
=========     Write Thread (4,0,0) at 0x000002d0 in kernel.cu:12:block_sum(int, const float*, float*)
=========     Current Value : 0, Incoming Value : 1065353216
=========
========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)
"""

SYNCCHECK = """\
========= COMPUTE-SANITIZER
========= Barrier error detected. Divergent thread(s) in block.
=========     at divergent(int *)+0x130 in kernel.cu:7
=========     by thread (16,0,0) in block (0,0,0)
=========     Saved host backtrace up to driver entry point at kernel launch time
=========
========= Barrier error detected. Divergent thread(s) in warp.
=========     at 0x0000000000000110 in kernel.cu:9:divergent(int*)
=========     by thread (37,0,0) in block (1,0,0)
=========
========= ERROR SUMMARY: 2 errors
"""

INITCHECK = """\
========= COMPUTE-SANITIZER
========= Uninitialized __global__ memory read of size 4 bytes
=========     at scale(int, float *, const float *)+0x90 in kernel.cu:4
=========     by thread (7,0,0) in block (0,0,0)
=========     Address 0x7f0c1e80001c
=========
========= ERROR SUMMARY: 1 error
"""


def test_memcheck_out_of_bounds() -> None:
    first, second = checking.parse_sanitizer_report(MEMCHECK, "memcheck")
    assert first.kind == "out-of-bounds"
    assert first.kernel == "axpy"
    assert (first.line, first.access, first.space) == (5, "write", "global")
    assert (first.thread, first.block) == ((232, 0, 0), (3, 0, 0))
    assert first.message == (
        "out-of-bounds in kernel 'axpy' at line 5: thread (232,0,0) of block (3,0,0) writes 4 "
        "bytes outside any allocation of global memory (compute-sanitizer memcheck: Address "
        "0x7f3a8e000fa0 is out of bounds)")
    # The older layout, a template kernel's name with its return type, shared memory.
    assert second.kernel == "reduce<double, 256>"
    assert (second.line, second.access, second.space) == (14, "read", "shared")
    assert (second.thread, second.block) == ((0, 0, 0), (1, 0, 0))
    assert "reads 8 bytes outside the block's shared memory" in second.message


def test_memcheck_misaligned_access() -> None:
    report = """\
========= Invalid __global__ write of size 4 bytes
=========     at unaligned(char *)+0x70 in kernel.cu:6
=========     by thread (0,0,0) in block (0,0,0)
=========     Address 0x7f6510c00001 is misaligned
=========     and is inside the nearest allocation at 0x7f6510c00000 of size 8 bytes
"""
    [f] = checking.parse_sanitizer_report(report, "memcheck")
    assert (f.kind, f.kernel, f.line) == ("out-of-bounds", "unaligned", 6)
    assert "writes 4 bytes at a misaligned address of global memory" in f.message


def test_racecheck_analysis_report() -> None:
    error, warning = checking.parse_sanitizer_report(RACECHECK_ANALYSIS, "racecheck")
    assert error.kind == "race" and error.kernel == "block_sum"
    assert (error.access, error.line, error.other_access, error.other_line) == ("write", 12, "read", 14)
    assert error.space == "shared"
    assert error.thread is None  # this report names lines, not threads
    assert error.message == (
        "race in kernel 'block_sum', shared memory: a write at line 12 and a read at line 14 by "
        "different threads with no __syncthreads between (compute-sanitizer racecheck, 1016 "
        "hazards)")
    assert (warning.kernel, warning.line, warning.other_line) == ("rotate", 20, 20)
    assert (warning.access, warning.other_access) == ("write", "write")


def test_racecheck_hazard_report() -> None:
    [race] = checking.parse_sanitizer_report(RACECHECK_HAZARD, "racecheck")
    assert race.kind == "race" and race.kernel == "block_sum"
    assert (race.access, race.thread, race.line) == ("read", (3, 0, 0), 14)
    assert (race.other_access, race.other_thread, race.other_line) == ("write", (4, 0, 0), 12)
    assert race.block == race.other_block == (2, 0, 0)
    assert race.message == (
        "race in kernel 'block_sum', shared memory at 0xc in block (2,0,0): thread (3,0,0) "
        "reads at line 14 while thread (4,0,0) writes at line 12 with no __syncthreads between "
        "(WAR hazard; compute-sanitizer racecheck)")


def test_synccheck_barrier_divergence() -> None:
    block, warp = checking.parse_sanitizer_report(SYNCCHECK, "synccheck")
    assert block.kind == warp.kind == "barrier-divergence"
    assert (block.kernel, block.line, block.thread, block.block) == ("divergent", 7, (16, 0, 0), (0, 0, 0))
    assert (warp.kernel, warp.line, warp.thread, warp.block) == ("divergent", 9, (37, 0, 0), (1, 0, 0))
    assert block.message == (
        "barrier-divergence in kernel 'divergent' at line 7: thread (16,0,0) of block (0,0,0) "
        "waits at a barrier that other threads of its block do not reach (Divergent thread(s) "
        "in block; compute-sanitizer synccheck)")


def test_initcheck_uninitialized_read() -> None:
    [f] = checking.parse_sanitizer_report(INITCHECK, "initcheck")
    assert f.kind == "uninitialized-read"
    assert (f.kernel, f.line, f.access, f.space) == ("scale", 4, "read", "global")
    assert (f.thread, f.block) == ((7, 0, 0), (0, 0, 0))
    assert f.message.startswith("uninitialized-read in kernel 'scale' at line 4: thread (7,0,0) "
                                "of block (0,0,0) reads 4 bytes of global memory that nothing wrote")


def test_each_tool_reads_only_its_own_errors_and_clean_reports_are_empty() -> None:
    assert checking.parse_sanitizer_report(MEMCHECK, "racecheck") == []
    clean = "========= COMPUTE-SANITIZER\nok\n========= ERROR SUMMARY: 0 errors\n"
    for tool in checking.SANITIZER_TOOLS:
        assert checking.parse_sanitizer_report(clean, tool) == []
        assert checking.parse_sanitizer_report("", tool) == []
    with pytest.raises(ValueError, match="tool must be one of"):
        checking.parse_sanitizer_report(MEMCHECK, "leakcheck")


def oob(kernel: str = "axpy", line: int = 5, thread=(1, 0, 0)) -> Finding:
    return Finding(kind="out-of-bounds", kernel=kernel, line=line, thread=thread,
                   message=f"out-of-bounds in kernel '{kernel}' at line {line}: thread {thread}")


def race(kernel: str = "reduce") -> Finding:
    return Finding(kind="race", kernel=kernel, line=12, other_line=14,
                   message=f"race in kernel '{kernel}' between lines 12 and 14")


def test_report_groups_by_kernel_and_folds_identical_findings() -> None:
    findings = [oob(), race(), oob(), oob(line=3), oob(thread=(2, 0, 0)), oob(), race()]
    text = checking.format_report(findings)
    assert text.splitlines() == [
        "kernel 'axpy': 3 distinct findings (5 in all)",
        "  out-of-bounds in kernel 'axpy' at line 3: thread (1, 0, 0)",
        "  out-of-bounds in kernel 'axpy' at line 5: thread (1, 0, 0) [x3]",
        "  out-of-bounds in kernel 'axpy' at line 5: thread (2, 0, 0)",
        "",
        "kernel 'reduce': 1 distinct finding (2 in all)",
        "  race in kernel 'reduce' between lines 12 and 14 [x2]",
        "",
        "manycore check: 4 findings (3 out-of-bounds, 1 race) in 2 kernels, 7 reports in all",
    ]


def test_report_sorts_by_kind_then_line_and_caps_each_kernel() -> None:
    many = [oob(line=n) for n in range(checking.SHOWN_PER_KERNEL + 5, 0, -1)]
    text = checking.format_report([race("axpy")] + many)
    lines = text.splitlines()
    assert lines[1] == "  out-of-bounds in kernel 'axpy' at line 1: thread (1, 0, 0)"
    assert "  ... and 6 more" in lines  # 26 distinct, 20 shown
    assert checking.format_report([]) == "manycore check: no findings"


def test_exit_status() -> None:
    assert checking.exit_status(checking.CheckRun()) == 0
    assert checking.exit_status(checking.CheckRun(findings=[oob()])) == 1
    assert checking.exit_status(checking.CheckRun(findings=[oob()], returncode=3)) == 1
    assert checking.exit_status(checking.CheckRun(returncode=3)) == 3


def test_read_collected_round_trips_and_notes_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    good = [oob(), race()]
    path.write_text("\n".join(json.dumps(f.to_dict()) for f in good) + "\n"
                    + '{"kind": "race", "kernel": "k", "message": "m", "colour": 1}\n'
                    + '{"kind": "out-of-b')  # a run killed mid-write
    findings, notes = checking.read_collected(path)
    assert findings == good
    assert len(notes) == 2
    assert notes[0].startswith("ignored line 3 of the findings file: Finding.from_dict: unknown")
    assert notes[1].startswith("ignored line 4")
    assert checking.read_collected(tmp_path / "missing.jsonl") == ([], [])


def script(tmp_path: Path, body: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_run_checked_sets_the_environment_and_reads_the_findings(tmp_path: Path) -> None:
    # The script appends a finding itself, as the engine does, to show what run_checked
    # passes and reads back whatever wrote the file.
    s = script(tmp_path, f"""
        import json, os, sys
        assert os.environ["MANYCORE_CHECK"] == "1" and os.environ["MANYCORE_CHECK_ON_CPU"] == "1"
        with open(os.environ["MANYCORE_CHECK_COLLECT"], "a") as f:
            f.write(json.dumps({oob().to_dict()!r}) + "\\n")
        print("args", sys.argv[1:])
        sys.exit(int(sys.argv[1]))
    """)
    run = checking.run_checked(str(s), ["4", "--flag"])
    assert run.findings == [oob()]
    assert run.returncode == 4
    assert checking.exit_status(run) == 1


def fake_sanitizer(tmp_path: Path) -> Path:
    """An executable standing in for compute-sanitizer: it writes the report of the tool it is
    asked for to --log-file, then runs the program, as the real one does."""
    reports = {"memcheck": MEMCHECK, "racecheck": RACECHECK_HAZARD, "synccheck": SYNCCHECK,
               "initcheck": INITCHECK}
    tool = tmp_path / "bin" / "compute-sanitizer"
    tool.parent.mkdir()
    tool.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import subprocess, sys
        args = sys.argv[1:]
        name = args[args.index("--tool") + 1]
        log = args[args.index("--log-file") + 1]
        program = args[args.index("--log-file") + 2:]
        with open(log, "w") as f:
            f.write({reports!r}[name])
        sys.exit(subprocess.call(program))
    """))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


def test_run_sanitizer_runs_every_tool_and_parses_each(tmp_path: Path) -> None:
    tool = fake_sanitizer(tmp_path)
    s = script(tmp_path, "print('ran')\n")
    run = checking.run_sanitizer(str(s), sanitizer=str(tool))
    kinds = [f.kind for f in run.findings]
    assert kinds == ["out-of-bounds", "out-of-bounds", "race", "barrier-divergence",
                     "barrier-divergence", "uninitialized-read"]
    assert run.returncode == 0
    only = checking.run_sanitizer(str(s), sanitizer=str(tool), tools=["synccheck"])
    assert [f.kind for f in only.findings] == ["barrier-divergence"] * 2


def test_find_compute_sanitizer(tmp_path: Path) -> None:
    tool = fake_sanitizer(tmp_path)
    assert checking.find_compute_sanitizer({"PATH": str(tool.parent)}) == str(tool)
    home = tmp_path  # tmp_path/bin/compute-sanitizer
    assert checking.find_compute_sanitizer({"PATH": "/nonexistent", "CUDA_HOME": str(home)}) == str(tool)
    if not os.path.exists("/usr/local/cuda/bin/compute-sanitizer"):
        assert checking.find_compute_sanitizer({"PATH": "/nonexistent"}) is None


def manycore_check(*args: str, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "manycore", "check", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_cli_sanitizer_mode_prints_the_report(tmp_path: Path) -> None:
    tool = fake_sanitizer(tmp_path)
    s = script(tmp_path, "print('script output')\n")
    env = dict(os.environ, PATH=f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    r = manycore_check("--sanitizer", str(s), env=env)
    assert r.returncode == 1, r.stderr
    assert r.stdout.count("script output") == 4  # once per tool
    assert "kernel 'axpy': 1 distinct finding" in r.stdout
    assert "kernel 'divergent': 2 distinct findings" in r.stdout
    assert r.stdout.rstrip().endswith(
        "manycore check: 6 findings (2 out-of-bounds, 1 race, 2 barrier-divergence, "
        "1 uninitialized-read) in 5 kernels")
    assert "compute-sanitizer --tool racecheck" in r.stderr
    # Everything after the script is the script's, options included.
    s = script(tmp_path, "import sys; print('argv', sys.argv[1:])\n", "argv.py")
    r = manycore_check("--sanitizer", "--tool", "initcheck", str(s), "-x", "--tool", env=env)
    assert r.returncode == 1 and "1 uninitialized-read" in r.stdout
    assert "argv ['-x', '--tool']" in r.stdout


def test_cli_sanitizer_missing_exits_2(tmp_path: Path) -> None:
    if os.path.exists("/usr/local/cuda/bin/compute-sanitizer"):
        pytest.skip("compute-sanitizer is installed in /usr/local/cuda/bin here")
    s = script(tmp_path, "print('never runs')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_HOME", "CUDA_PATH")}
    env["PATH"] = os.path.dirname(sys.executable)
    r = manycore_check("--sanitizer", str(s), env=env)
    assert r.returncode == 2
    assert "compute-sanitizer not found on PATH, in $CUDA_HOME/bin or in /usr/local/cuda/bin" in r.stderr
    assert "never runs" not in r.stdout


def test_cli_bad_uses_exit_2(tmp_path: Path) -> None:
    r = manycore_check(str(tmp_path / "missing.py"))
    assert r.returncode == 2 and "no such script" in r.stderr
    s = script(tmp_path, "pass\n")
    r = manycore_check("--tool", "memcheck", str(s))
    assert r.returncode == 2 and "add --sanitizer" in r.stderr
    r = manycore_check()
    assert r.returncode == 2 and "script" in r.stderr  # argparse's usage error


def _engine_present() -> bool:
    return checking.checked_mode_available()


def test_cli_without_the_checked_mode_engine_says_so(tmp_path: Path) -> None:
    if _engine_present():
        pytest.skip("this build has the checked mode engine")
    s = script(tmp_path, "print('never runs')\n")
    r = manycore_check(str(s))
    assert r.returncode == 2
    assert "has no checked mode" in r.stderr and "never runs" not in r.stdout


PLANTED = '''
import sys
import numpy as np
import manycore as mc

mod = mc.SourceModule(r"""
__global__ void shift(int n, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i + 1];
}
""")
x = np.ones(64, np.float32)
y = np.zeros(64, np.float32)
mod.get_function("shift")(64, x, y, grid=(1,), block=(64,))
print("script finished")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
'''


def test_cli_finds_a_planted_out_of_bounds_read(tmp_path: Path) -> None:
    if not _engine_present():
        pytest.skip("checked mode engine not present")
    s = script(tmp_path, PLANTED)
    r = manycore_check(str(s))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "script finished" in r.stdout  # findings are collected, the script goes on
    assert "kernel 'shift': 1 distinct finding" in r.stdout
    assert "out-of-bounds" in r.stdout and "'x'" in r.stdout and "line 4" in r.stdout
    assert "manycore check: 1 finding (1 out-of-bounds) in 1 kernel" in r.stdout
    # A failing script with findings still exits 1, and says how the script ended.
    r = manycore_check(str(s), "5")
    assert r.returncode == 1 and "the script itself exited with status 5" in r.stdout
    clean = script(tmp_path, PLANTED.replace("x[i + 1]", "x[i]"), "clean.py")
    r = manycore_check(str(clean), "3")
    assert r.returncode == 3 and "manycore check: no findings" in r.stdout
    assert manycore_check(str(clean)).returncode == 0


# Reports compute-sanitizer 2025 printed on an H200 (driver 580) for the four planted bugs of
# one script (host backtraces dropped): a shared-memory race, a __syncthreads in a branch that
# only 16 of 64 threads take, and a read of never-written global memory.
SANITIZER_DATA = Path(__file__).resolve().parent / "data" / "sanitizer"


def test_captured_racecheck_report() -> None:
    [race] = checking.parse_sanitizer_report((SANITIZER_DATA / "h200-racecheck.log").read_text(), "racecheck")
    assert race.kind == "race" and race.kernel == "shared_race"
    assert (race.line, race.other_line) == (8, 9)
    assert {race.access, race.other_access} == {"write", "read"}


def test_captured_synccheck_report() -> None:
    findings = checking.parse_sanitizer_report((SANITIZER_DATA / "h200-synccheck.log").read_text(), "synccheck")
    assert findings and all(f.kind == "barrier-divergence" for f in findings)
    assert {f.kernel for f in findings} == {"divergent"} and {f.line for f in findings} == {15}
    assert {f.thread for f in findings} >= {(0, 0, 0), (15, 0, 0)}
    assert all(f.block == (0, 0, 0) for f in findings)


def test_captured_initcheck_report() -> None:
    findings = checking.parse_sanitizer_report((SANITIZER_DATA / "h200-initcheck.log").read_text(), "initcheck")
    assert len(findings) == 64
    assert all(f.kind == "uninitialized-read" and f.kernel == "uninit" and f.line == 20 for f in findings)
    assert {f.thread for f in findings} == {(t, 0, 0) for t in range(64)}
    assert all(f.access == "read" for f in findings)


SANITIZED_SCRIPT = '''
import numpy as np, manycore as mc
src = r"""
__global__ void racy(float* out) {
    __shared__ float s[64];
    s[threadIdx.x] = threadIdx.x;
    out[threadIdx.x] = s[(threadIdx.x + 1) % 64];
}
__global__ void past(float* out, long long n) {
    out[n + (1ll << 28)] = 1.0f;
}
"""
gpu = mc.Device("cuda")
mod = mc.SourceModule(src, device=gpu)
out = mc.zeros(64, np.float32, device=gpu)
mod.get_function("racy")(out, grid=1, block=64)
mc.synchronize(gpu)
mod.get_function("past")(out, 64, grid=1, block=1)
mc.synchronize(gpu)
'''


def test_check_with_the_sanitizer_on_a_gpu_finds_a_race_and_an_out_of_bounds_write(device, tmp_path):
    if device.kind == "cpu":
        pytest.skip("the GPU case")
    if checking.find_compute_sanitizer(dict(os.environ)) is None:
        pytest.skip("compute-sanitizer is not installed")
    s = script(tmp_path, SANITIZED_SCRIPT)
    done = subprocess.run([sys.executable, "-m", "manycore", "check", "--sanitizer",
                           "--tool", "racecheck", "--tool", "memcheck", str(s)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "racy" in done.stdout and "race" in done.stdout
    assert "past" in done.stdout and "out-of-bounds" in done.stdout

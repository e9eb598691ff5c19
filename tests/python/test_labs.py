# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The course's labs (manycore.labs): each one executed once, as the notebook `manycore labs
open` writes, at the small size on the CPU; its JSON result is the test. Also the exercise
forms, the command, and a lab with a planted wrong result."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from manycore import labs
from manycore.cli import main
from manycore.labs import notebooks, runner

AVAILABLE = [lab for lab in labs.LABS if lab.available]
# Anchors tools/dev.sh installs: a variant may not be skipped for want of one of them.
INSTALLED_ANCHORS = ("numba", "line_profiler", "memory_profiler", "matplotlib", "mpi4py")

needs_notebooks = pytest.mark.skipif(bool(notebooks.needs()), reason=notebooks.needs() or "-")


def check_result(res: dict) -> None:
    """What every lab's JSON must say: each variant passed (or was skipped for a stated reason
    that is not a missing anchor the set-up installs), with positive times of at least five
    repetitions, and every claim held."""
    assert res["variants"], "the lab ran no variant"
    for v in res["variants"]:
        name = f"lab {res['lab']}, variant '{v['name']}'"
        assert v["status"] in ("passed", "skipped"), f"{name}: {v['status']}: {v.get('reason')}"
        if v["status"] == "skipped":
            assert v.get("reason"), f"{name}: skipped without a reason"
            for anchor in INSTALLED_ANCHORS:
                assert f"{anchor} is not installed" not in v["reason"], \
                    f"{name}: skipped for {anchor}, which tools/dev.sh installs"
            continue
        t = v["times"]
        assert len(t["samples"]) >= 5, f"{name}: {len(t['samples'])} repetitions"
        assert all(s > 0 for s in t["samples"]), f"{name}: a time is not positive: {t}"
        assert t["kernel"] > 0
        # Barrier kernels run split at their barriers on the CPU; only checked mode keeps
        # each thread a fiber (it watches every thread's accesses between barriers).
        if res["device"] == "cpu" and "checked" not in v["name"]:
            assert "fibers" not in (v.get("execution_mode") or ""), \
                f"{name}: runs as {v['execution_mode']}, not as loops or fission"
        for phase in ("compile", "copy_in", "copy_out"):
            assert t[phase] is None or t[phase] > 0, f"{name}: {phase} {t[phase]}"
    assert res["claims"], f"lab {res['lab']} asserts no claim"
    for c in res["claims"]:
        assert c["passed"] or c.get("skipped"), f"lab {res['lab']}: claim '{c['claim']}': {c['detail']}"
    assert res["passed"] and not res["failed"]


@needs_notebooks
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("lab", AVAILABLE, ids=lambda lab: f"lab{lab.number:02d}")
def test_lab_notebook(lab: labs.LabInfo, tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    assert main(["labs", "open", str(lab.number), str(tmp_path), "--size", "small",
                 "--device", "cpu", "--json", str(result)]) == 0
    path = tmp_path / notebooks.notebook_name(lab)
    notebooks.execute_notebook(path, timeout=900)
    res = json.loads(result.read_text())
    assert res["lab"] == lab.number and res["size"] == "small" and res["device"] == "cpu"
    check_result(res)


@pytest.mark.parametrize("lab", AVAILABLE, ids=lambda lab: f"lab{lab.number:02d}")
def test_exercise_differs_only_in_the_blanks(lab: labs.LabInfo) -> None:
    solution = notebooks.solution_text(lab)
    exercise = notebooks.exercise_text(solution)
    marked = notebooks.blanks(solution)
    assert marked, f"lab {lab.number} has no part marked for the exercise"
    kept = solution.split("\n")
    for first, last, *_ in reversed(marked):
        del kept[first:last + 1]
    todo = re.compile(r"^\s*(#|//) TODO: |^\s*raise NotImplementedError\([\"']exercise: ")
    assert [line for line in exercise.split("\n") if not todo.match(line)] == kept
    assert exercise.count("TODO: ") == len(marked)
    assert "BEGIN SOLUTION" not in exercise and "END SOLUTION" not in exercise


@pytest.mark.parametrize("text, error", [
    ("# BEGIN SOLUTION\nx = 1\n", "never ended"),
    ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the one of line 1"),
])
def test_unbalanced_blank_markers_are_errors(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        notebooks.blanks(text)


def test_cells_of_a_percent_source() -> None:
    text = textwrap.dedent('''\
        # licence header
        # %% [markdown]
        # # Title

        # %% tags=["parameters"]
        SIZE = "small"

        # %%
        # %%mpirun -n 2
        print(1)
        ''')
    cells = runner.cells(text)
    assert [c.kind for c in cells] == ["markdown", "code", "code"]
    assert cells[1].tags == ("parameters",) and cells[1].source == 'SIZE = "small"'
    assert cells[2].cell_magic == ("mpirun", "-n 2") and cells[2].line == 9


def manycore(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "manycore", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_labs_lists_every_lab() -> None:
    r = manycore("labs")
    assert r.returncode == 0, r.stderr
    for lab in AVAILABLE:
        assert re.search(rf"^\s*{lab.number}\s+day {lab.day}\s+{re.escape(lab.title)}", r.stdout, re.M), r.stdout
    assert "manycore labs open N" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["labs", "run"], "which lab?"),
    (["labs", "run", "99"], "no lab 99"),
    (["labs", "open", "x"], "is not a lab number"),
])
def test_labs_bad_arguments(args: list[str], message: str) -> None:
    r = manycore(*args)
    assert r.returncode == 2, r
    assert message in r.stderr


# A lab in the course's form whose kernel is wrong in one element (the last): the check must
# fail, the script exit 1, and the message and the JSON name that variant.
PLANTED = '''\
# %% tags=["parameters"]
SIZE = "small"
DEVICE = "cpu"
RESULT = ""

# %%
import numpy as np
from manycore.labs import kit

lab = kit.start(4, size=SIZE, device=DEVICE, result=RESULT)
n = lab.pick(small=10**5 + 3, default=10**6 + 3, large=10**7 + 3)
a = np.arange(n, dtype=np.float32)
ref = 2 * a
out = np.zeros_like(a)
f = lab.compile("""
__global__ void twice(size_t n, const float* a, float* c) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = 2 * a[i] + (i == n - 1);   // planted: the last element is off by one
}""").get_function("twice")
lab.variant("NumPy", lambda: np.multiply(a, 2, out=out), check=lambda: kit.assert_equal(out, ref))
k_out = np.zeros_like(a)
lab.variant("planted kernel", lambda: f(n, a, k_out, grid=((n + 255) // 256,), block=(256,)),
            check=lambda: kit.assert_equal(k_out, ref), kernels=[f])
lab.claim("a claim that holds", True)
lab.finish()
print("not reached")
'''


def test_a_planted_wrong_result_fails_the_lab(tmp_path: Path) -> None:
    source = tmp_path / "planted.py"
    source.write_text(PLANTED)
    result = tmp_path / "planted.json"
    r = subprocess.run([sys.executable, "-m", "manycore.labs.runner", str(source), "--json",
                        str(result)], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not reached" not in r.stdout
    assert "variant 'planted kernel'" in r.stderr and "1 of 100,003 elements differ" in r.stderr
    res = json.loads(result.read_text())
    assert res["failed"] == ["planted kernel"] and not res["passed"]
    statuses = {v["name"]: v["status"] for v in res["variants"]}
    assert statuses == {"NumPy": "passed", "planted kernel": "failed"}
    assert "FAILED: planted kernel" in r.stdout  # the table's verdict line

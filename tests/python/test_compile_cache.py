# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The compile cache seen from Python: reuse, many processes, corruption, planted code."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import manycore as mc

KERNEL = r"""
__global__ void answer(int* out) { out[0] = 42; }
"""

# Same kernel name, different behaviour, and code that runs as soon as the library loads.
PLANTED = r"""
#include <cstdio>
__attribute__((constructor)) static void planted() {
    if (const char* m = std::getenv("PLANTED_MARKER")) { FILE* f = std::fopen(m, "w"); if (f) std::fclose(f); }
}
__global__ void answer(int* out) { out[0] = 666; }
"""

RUN = textwrap.dedent(
    """
    import json, sys, numpy as np, manycore as mc
    source = sys.argv[1]
    mod = mc.SourceModule(source, device="cpu")
    out = np.zeros(1, np.int32)
    mod.get_function("answer")(out, grid=1, block=1)
    print(json.dumps({"path": mod.cache_path, "from_cache": mod.from_cache, "value": int(out[0])}))
    """
)


def run_in_new_process(cache_dir: Path, source: str = KERNEL, **env) -> dict:
    environment = {**os.environ, "MANYCORE_CACHE_DIR": str(cache_dir), **env}
    done = subprocess.run([sys.executable, "-c", RUN, source], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_module_in_a_process_does_not_touch_the_disk(cpu):
    source = KERNEL + "// in-process reuse\n"
    first = mc.SourceModule(source, device=cpu)
    path = Path(first.cache_path)
    path.unlink()  # a rebuild or a reload would need this file
    second = mc.SourceModule(source, device=cpu)
    out = np.zeros(1, np.int32)
    second.get_function("answer")(out, grid=1, block=1)
    assert out[0] == 42
    assert second.cache_path == first.cache_path


def test_new_process_loads_from_the_cache(tmp_path):
    first = run_in_new_process(tmp_path)
    second = run_in_new_process(tmp_path)
    assert (first["from_cache"], second["from_cache"]) == (False, True)
    assert first["path"] == second["path"] and second["value"] == 42
    assert str(tmp_path) in first["path"]


def test_cache_folder_is_private_and_versioned(tmp_path):
    root = tmp_path / "cache"
    result = run_in_new_process(root)
    entry = Path(result["path"])
    assert entry.parent.name == f"v{mc.__version__}"
    for folder in (root, entry.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_four_processes_compiling_the_same_source_at_once(tmp_path):
    environment = {**os.environ, "MANYCORE_CACHE_DIR": str(tmp_path)}
    source = KERNEL + "// four at once\n"
    procs = [
        subprocess.Popen([sys.executable, "-c", RUN, source], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert {r["value"] for r in results} == {42}
    assert len({r["path"] for r in results}) == 1
    entries = [p for p in Path(results[0]["path"]).parent.iterdir() if p.suffix == ".so"]
    assert len(entries) == 1
    assert sum(not r["from_cache"] for r in results) >= 1


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_corrupted_entry_is_detected_and_rebuilt(tmp_path, damage):
    first = run_in_new_process(tmp_path)
    entry = Path(first["path"])
    data = bytearray(entry.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    else:
        data = bytearray()
    entry.write_bytes(bytes(data))
    second = run_in_new_process(tmp_path)
    assert second["value"] == 42 and not second["from_cache"]
    third = run_in_new_process(tmp_path)
    assert third["from_cache"] and third["value"] == 42


def _plant(target: Path, planted_entry: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(planted_entry, target)


def test_planted_library_in_a_world_writable_folder_is_never_loaded(tmp_path):
    # A valid entry of other code, put under the name the real kernel's entry would have.
    planted = run_in_new_process(tmp_path / "attacker", PLANTED)
    real = run_in_new_process(tmp_path / "private")
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / Path(real["path"]).relative_to(tmp_path / "private")
    _plant(target, Path(planted["path"]))
    for folder in (shared, target.parent):
        folder.chmod(0o777)
    marker = tmp_path / "planted-code-ran"
    result = run_in_new_process(shared, PLANTED_MARKER=str(marker))
    assert result["value"] == 42
    assert not marker.exists()
    assert not result["path"].startswith(str(shared))


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file owned by another user needs root")
def test_entry_owned_by_another_user_is_never_loaded(tmp_path):
    planted = run_in_new_process(tmp_path / "attacker", PLANTED)
    real = run_in_new_process(tmp_path / "private")
    target = Path(real["path"])
    target.unlink()
    _plant(target, Path(planted["path"]))
    os.chown(target, 65534, 65534)
    marker = tmp_path / "planted-code-ran"
    result = run_in_new_process(tmp_path / "private", PLANTED_MARKER=str(marker))
    assert result["value"] == 42
    assert not marker.exists()


def test_cache_can_be_bypassed(tmp_path):
    first = run_in_new_process(tmp_path, MANYCORE_CACHE="0")
    second = run_in_new_process(tmp_path, MANYCORE_CACHE="0")
    assert not first["from_cache"] and not second["from_cache"]
    assert not any(tmp_path.rglob("*.so"))

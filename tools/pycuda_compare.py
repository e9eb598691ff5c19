# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""On a GPU machine: real PyCUDA and manycore.pycuda side by side, on the same GPU.

    python tools/pycuda_compare.py programs OUT   build PyCUDA, run the course-style programs
                                                  with both, the launch-cost benchmark, and
                                                  write OUT/pycuda-side-by-side.md
    python tools/pycuda_compare.py suites OUT     PyCUDA's own tests with both (tables in OUT)

Real PyCUDA is built from the source distribution in .offline-deps/pycuda/ (with its Python
dependencies' wheels beside it, packed by tools/pack_offline_deps.sh), against the CUDA toolkit
(CUDA_ROOT, default /usr/local/cuda), into build/pycuda-real/ (once; about a minute). Nothing
needs the network.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPS = ROOT / ".offline-deps" / "pycuda"
REAL = ROOT / "build" / "pycuda-real"
SITE = REAL / "site"
PROGRAMS = sorted((ROOT / "examples" / "pycuda").glob("*.py"))


def build_real_pycuda() -> None:
    if list(SITE.glob("pycuda/_driver*.so")):
        return
    sdists = sorted(DEPS.glob("pycuda-*.tar.gz"))
    if not sdists:
        raise SystemExit(f"no PyCUDA source distribution in {DEPS}; run tools/pack_offline_deps.sh "
                         "on a machine with network access")
    SITE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(DEPS.glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                    "--target", str(SITE), *map(str, wheels)], check=True)
    with tarfile.open(sdists[-1]) as tar:
        tar.extractall(REAL, filter="data")
    src = REAL / sdists[-1].name.removesuffix(".tar.gz")
    cuda = os.environ.get("CUDA_ROOT", "/usr/local/cuda")
    env = dict(os.environ, PYTHONPATH=str(SITE))
    subprocess.run([sys.executable, "configure.py", f"--cuda-root={cuda}"], cwd=src, env=env, check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
                    "--target", str(SITE), "."], cwd=src, env=env, check=True)


def run_program(path: Path, real: bool) -> tuple[int, str, str]:
    env = dict(os.environ)
    if real:
        env["PYTHONPATH"] = str(SITE)
        cmd = [sys.executable, str(path)]
    else:
        cmd = [sys.executable, "-m", "manycore", "pycuda", str(path)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    return r.returncode, r.stdout, r.stderr


def _times(text: str) -> str:
    return ", ".join(f"{m} ms" for m in re.findall(r"([\d.]+) ms", text)) or "-"


def programs(out: Path) -> int:
    build_real_pycuda()
    rows = []
    failed = 0
    for path in PROGRAMS:
        rc_real, real_out, real_err = run_program(path, True)
        rc_mc, mc_out, mc_err = run_program(path, False)
        correct_real = re.findall(r"correct: (\w+)", real_out)
        correct_mc = re.findall(r"correct: (\w+)", mc_out)
        same = rc_real == rc_mc == 0 and correct_real == correct_mc and set(correct_mc) == {"True"}
        failed += not same
        warned = sorted({line.split("CompatWarning: ")[1][:40] for line in mc_err.splitlines()
                         if "CompatWarning: " in line})
        rows.append(f"| {path.name} | {'yes' if same else 'NO'} | {_times(real_out)} | "
                    f"{_times(mc_out)} | {len(warned)} |")
        (out / f"pycuda-{path.stem}.log").write_text(
            f"== PyCUDA (exit {rc_real})\n{real_out}\n{real_err}\n== manycore pycuda (exit {rc_mc})\n"
            f"{mc_out}\n{mc_err}\n")
    bench = subprocess.run([sys.executable, str(ROOT / "bench" / "pycuda" / "run.py"), "--device",
                            "cuda", "--real", str(SITE), "--write"], capture_output=True, text=True,
                           timeout=400, cwd=ROOT)
    (out / "pycuda-bench.log").write_text(bench.stdout + bench.stderr)
    table = [
        f"# PyCUDA and manycore.pycuda on the same GPU, {datetime.date.today().isoformat()}", "",
        "Each course-style program of examples/pycuda run with the real PyCUDA (built from its "
        "sdist here) and with `manycore pycuda`: whether both printed the same correct results, "
        "and each program's own reported times (PyCUDA, then manycore).", "",
        "| program | outputs equal and correct | PyCUDA's times | manycore's times | CompatWarnings |",
        "|---|---|---|---|---|", *rows, "", "## Launch cost", "", "```", bench.stdout.strip(), "```", ""]
    (out / "pycuda-side-by-side.md").write_text("\n".join(table))
    print("\n".join(table))
    return 1 if failed or bench.returncode else 0


def suites(out: Path) -> int:
    build_real_pycuda()
    suite = str(ROOT / "tools" / "pycuda_suite.py")
    sdist = str(sorted(DEPS.glob("pycuda-*.tar.gz"))[-1])
    env = dict(os.environ, PYTHONPATH=str(SITE))
    status = 0
    for label, args, e in [("manycore", [], dict(os.environ)), ("real", ["--real"], env)]:
        r = subprocess.run([sys.executable, suite, *args, "--sdist", sdist, "--timeout", "270", "--write",
                            str(out / f"pycuda-suite-{label}.md")], capture_output=True, text=True,
                           env=e, timeout=290, cwd=ROOT)
        (out / f"pycuda-suite-{label}.log").write_text(r.stdout + r.stderr)
        print(re.findall(r"In scope:.*", r.stdout) or r.stderr[-500:])
        status |= r.returncode
    return status


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("programs", "suites"):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    return programs(out) if sys.argv[1] == "programs" else suites(out)


if __name__ == "__main__":
    sys.exit(main())

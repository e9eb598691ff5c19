# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The ``manycore`` command (also ``python -m manycore``): what is installed, the compile
cache, and the tour.

    manycore info          versions, devices, threads, compiler, cache, CUDA, MPI, SLURM
    manycore devices       the devices and their limits
    manycore cache info    the compile cache's folder, state and size
    manycore cache dir     the compile cache's folder alone (for scripts)
    manycore cache clear   removes the compiled modules of this version
    manycore tour          three kernels checked against NumPy and timed (the course's start)
    manycore labs [run N|all | open N [DIR]]   the course's labs (manycore.labs)
    manycore run -n N script.py [args]   the script on N MPI ranks (manycore.dist.launcher)
    manycore check script.py [args]      the script with every kernel checked on the CPU
                                         (out-of-bounds, races, barriers, uninitialized reads)
    manycore check --sanitizer script.py [args]   the script under compute-sanitizer's
                                         memcheck, racecheck, synccheck and initcheck
    manycore profile [--memory] [--pycuda] script.py [args]   time, GB/s and % of peak per
                                         kernel; with --memory, sectors, bank conflicts and
                                         divergence; --pycuda for a PyCUDA program
    manycore peak [--device D]           the device's measured bandwidth and FLOP rates
    manycore scale script.py --threads 1,2,4 | --ranks 1,2,4 [--sizes ...]   speedup,
                                         efficiency, Amdahl/Gustafson fits, Karp-Flatt
    manycore submit|jobs|wait|cancel     jobs on a SLURM cluster (manycore.slurm)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
from collections.abc import Sequence

__all__ = ["main"]

# Environment variables that change what manycore does; `info` shows those that are set.
ENV_VARS = (
    "MANYCORE_DEVICE",
    "MANYCORE_NUM_THREADS",
    "MANYCORE_CACHE_DIR",
    "MANYCORE_CACHE",
    "MANYCORE_KEEP_SOURCE",
    "MANYCORE_LOG",
    "MANYCORE_LINTS",
    "MANYCORE_MAX_SHARED_BYTES",
    "MANYCORE_FIBER_STACK_BYTES",
    "MANYCORE_CUDA_DRIVER_PATH",
    "MANYCORE_NVRTC_PATH",
    "MANYCORE_NVRTC",
    "MANYCORE_SLURM_PROFILE",
    "MANYCORE_EMULATED_ARCH",
    "CXX",
    "CUDA_HOME",
    "CUDA_PATH",
)


def _section(title: str, pairs: Sequence[tuple[str, object]], width: int = 0) -> str:
    """A title, then `key  value` lines with the values aligned (at ``width`` or wider)."""
    width = max([width] + [len(k) for k, _ in pairs])
    lines = [title]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in pairs]
    return "\n".join(lines)


def _yes_no(flag: object) -> str:
    return "yes" if flag else "no"


def _device_line(d) -> str:
    from manycore.tools.timing import format_bytes

    if d.kind == "cpu":
        return f"{d.name}, {d.compute_units} threads, {format_bytes(d.total_memory)}"
    major, minor = d.compute_capability
    return (f"{d.name}, {d.compute_units} multiprocessors, {format_bytes(d.total_memory)}, "
            f"compute capability {major}.{minor}")


def _cuda_status(devices) -> str:
    """The GPUs manycore sees, else why there are none: no CUDA backend in this build, or a backend
    that found no driver or no GPU (its own reason)."""
    import manycore as mc

    gpus = [d for d in devices if d.kind == "cuda"]
    if gpus:
        return "available: " + ", ".join(f"{d} ({d.name})" for d in gpus)
    try:
        _ = mc.Device("cuda:0").name  # asks the backend; raises with its reason when unusable
    except mc.DeviceUnavailable as e:
        if "no cuda backend in this build" in str(e):
            return "not built in this version"
        reason = str(e)
        if reason.startswith("Device("):  # "Device('cuda:0'): <the backend's reason>"
            reason = reason.split(": ", 1)[-1]
        return f"built, but no GPU is usable here: {reason}"
    return "built; no GPU listed"


def _threads_text() -> str:
    from manycore import _core

    env = os.environ.get("MANYCORE_NUM_THREADS")
    source = (f"MANYCORE_NUM_THREADS={env}" if env
              else "MANYCORE_NUM_THREADS unset: every core this process may use")
    return f"{_core.num_threads()} ({source})"


def _compiler_text() -> str:
    from manycore import _core

    c = _core.compiler_info()
    if not c.get("available"):
        return f"none found: {c.get('reason', '')}"
    return f"{c['path']} ({c['version']})"


def _cache_pairs() -> list[tuple[str, object]]:
    from manycore import _core
    from manycore.tools.timing import format_bytes

    info = _core.cache_info()
    pairs: list[tuple[str, object]] = [
        ("folder", info["directory"]),
        ("enabled", _yes_no(info["enabled"]) + ("" if info["enabled"] else " (MANYCORE_CACHE=0)")),
        ("usable", _yes_no(info["usable"])),
    ]
    if info.get("reason"):
        pairs.append(("reason", info["reason"]))
    pairs.append(("entries", f"{info['entries']} ({format_bytes(info['bytes'])})"))
    return pairs


def _mpi_pairs() -> list[tuple[str, object]]:
    # Only looked up, never imported: importing mpi4py initialises MPI, which under some
    # launchers (or with no launcher at all) is slow, prints warnings or aborts.
    if importlib.util.find_spec("mpi4py") is None:
        mpi4py = "not installed (pip install mpi4py)"
    else:
        try:
            mpi4py = f"installed, version {importlib.metadata.version('mpi4py')}"
        except importlib.metadata.PackageNotFoundError:  # importable without metadata
            mpi4py = "installed"
    launchers: list[tuple[str, object]] = [
        (name, shutil.which(name) or "not on PATH") for name in ("mpirun", "mpiexec")]
    return [("mpi4py", mpi4py), *launchers]


def cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    import manycore as mc
    from manycore.slurm._commands import info_pairs as slurm_info_pairs

    devices = mc.devices()
    env = [(k, os.environ[k]) for k in ENV_VARS if k in os.environ]
    sections = [
        (
            f"manycore {mc.__version__}",
            [
                ("Python", f"{platform.python_version()} ({sys.executable})"),
                ("NumPy", np.__version__),
                ("platform", platform.platform()),
                ("package", os.path.dirname(mc.__file__)),
            ],
        ),
        ("devices", [(str(d), _device_line(d)) for d in devices]),
        ("CPU device", [("threads", _threads_text()), ("compiler", _compiler_text())]),
        ("compile cache", _cache_pairs()),
        ("CUDA", [("status", _cuda_status(devices))]),
        ("MPI", _mpi_pairs()),
        ("SLURM", slurm_info_pairs()),
        ("environment", env or [("(none set)", "the variables are listed in docs/env.md")]),
    ]
    # One column for every section's values, so the whole report reads as one table.
    width = max(len(k) for _, pairs in sections for k, _ in pairs if len(k) <= 20)
    print("\n".join(_section(title, pairs, width) for title, pairs in sections))
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    import manycore as mc
    from manycore.tools.timing import format_bytes, format_table

    rows = [
        [
            str(d),
            d.name,
            d.compute_units,
            format_bytes(d.total_memory),
            d.max_threads_per_block,
            format_bytes(d.max_shared_per_block),
        ]
        for d in mc.devices()
    ]
    headers = ["device", "name", "compute units", "memory", "threads/block", "shared/block"]
    print(format_table(headers, rows, right=(2, 3, 4, 5)))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from manycore import _core

    if args.action == "dir":
        print(_core.cache_info()["directory"])
    elif args.action == "clear":
        folder = _core.cache_info()["directory"]
        removed = _core.cache_clear()
        print(f"removed {removed} compiled module{'s' if removed != 1 else ''} from {folder}")
    else:
        print(_section("compile cache", _cache_pairs()))
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    from manycore.tools import tour

    return tour.run(args.size, args.repeat, args.device, labs=args.labs)


def cmd_check(args: argparse.Namespace) -> int:
    from manycore import checking

    if not os.path.isfile(args.script):
        print(f"manycore check: no such script: {args.script}", file=sys.stderr)
        return checking.CANNOT_RUN
    if args.sanitizer:
        try:
            run = checking.run_sanitizer(args.script, args.args, tools=args.tool or
                                         checking.SANITIZER_TOOLS, pycuda=args.pycuda)
        except FileNotFoundError as e:
            print(f"manycore check: {e}", file=sys.stderr)
            return checking.CANNOT_RUN
    else:
        if args.tool:
            print("manycore check: --tool chooses compute-sanitizer tools; add --sanitizer",
                  file=sys.stderr)
            return checking.CANNOT_RUN
        if not checking.checked_mode_available():
            print("manycore check: this build of manycore has no checked mode "
                  "(SourceModule(checked=True) is refused), so nothing can be checked; "
                  "`manycore check --sanitizer` uses compute-sanitizer on a GPU instead",
                  file=sys.stderr)
            return checking.CANNOT_RUN
        run = checking.run_checked(args.script, args.args, pycuda=args.pycuda)
    sys.stdout.flush()
    for note in run.notes:
        print(f"manycore check: {note}", file=sys.stderr)
    print(checking.format_report(run.findings, run.launches))
    if run.returncode != 0:
        print(f"manycore check: the script itself exited with status {run.returncode}")
    return checking.exit_status(run)


def _tool(name: str):
    """A module of manycore.tools, imported when its command runs."""
    import importlib

    return importlib.import_module(f"manycore.tools.{name}")


def _parser() -> argparse.ArgumentParser:
    from manycore.tools import tour

    parser = argparse.ArgumentParser(
        prog="manycore",
        description="manycore: one CUDA C++ kernel source, run on every CPU core.",
        epilog="Start with `manycore tour`; `manycore info` is what a bug report needs.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="command")

    p = sub.add_parser("info", help="versions, devices, threads, compiler, cache, CUDA, MPI, SLURM")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("devices", help="the devices and their limits")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("cache", help="the compile cache: info (default), dir, clear")
    p.add_argument("action", nargs="?", default="info", choices=["info", "dir", "clear"],
                   help="info: folder, state, size; dir: the folder alone; clear: remove the "
                        "compiled modules of this version")
    p.set_defaults(func=cmd_cache)
    p = sub.add_parser("tour", help="three kernels checked against NumPy and timed, then a few labs",
                       description=tour.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    tour.add_arguments(p)
    p.set_defaults(func=cmd_tour)
    p = sub.add_parser(
        "check", help="run a script with its kernels checked for out-of-bounds accesses, races, "
                      "barrier divergence and uninitialized reads",
        description="Runs `python script [args]` with every kernel checked and prints the "
                    "findings grouped by kernel. Exit status: 0 no findings, 1 findings, 2 the "
                    "check could not run; with no findings, the script's own failing status.")
    p.add_argument("--sanitizer", action="store_true",
                   help="run under compute-sanitizer (memcheck, racecheck, synccheck, initcheck) "
                        "instead of manycore's checked mode on the CPU")
    p.add_argument("--tool", action="append", choices=["memcheck", "racecheck", "synccheck",
                                                       "initcheck"],
                   help="with --sanitizer: only this tool (repeatable)")
    p.add_argument("--pycuda", action="store_true",
                   help="the script is a PyCUDA program: run it as `manycore pycuda` does")
    p.add_argument("script", help="the Python script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("profile", help="run a script and report each kernel's time, GB/s and "
                                       "%% of peak (--memory: how a GPU would serve its accesses)")
    _tool("profile").add_arguments(p)
    p.set_defaults(func=lambda a: _tool("profile").command(a))
    p = sub.add_parser("peak", help="measure (once, then cached) the device's memory bandwidth "
                                    "and FP32/FP64 rates")
    _tool("peak").add_arguments(p)
    p.set_defaults(func=lambda a: _tool("peak").command(a))
    p = sub.add_parser("scale", help="time a script over thread or rank counts (or sizes): "
                                     "speedup, efficiency, Amdahl and Gustafson fits")
    _tool("scale").add_arguments(p)
    p.set_defaults(func=lambda a: _tool("scale").command(a))
    from manycore.labs import command as labs_command

    labs_command.add_parser(sub)
    # Listed for --help only: main() hands `run`'s arguments to the launcher untouched, since
    # everything after the script belongs to the script.
    sub.add_parser("run", help="run a Python program on N MPI ranks (manycore run -h)",
                   add_help=False)
    from manycore.slurm import _commands as slurm_commands

    slurm_commands.add_commands(sub)
    sub.add_parser("pycuda", help="run a PyCUDA program unmodified (manycore pycuda -h)",
                   add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        from manycore.dist import launcher

        return launcher.main(argv[1:])
    if argv[:1] == ["pycuda"]:
        from manycore.pycuda import _run

        return _run.main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        import manycore as mc

        print(f"manycore {mc.__version__}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2

    import manycore as mc

    try:
        return args.func(args)
    except mc.CompileError as e:
        print(f"manycore {args.command}: {e}", file=sys.stderr)
        return 1
    except (mc.Error, ValueError) as e:
        print(f"manycore {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

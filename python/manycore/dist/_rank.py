# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What each rank of ``manycore run`` executes: ``python -m manycore.dist._rank [--timeout S]
(script.py | -m module) [args...]``.

It makes failures end the whole job: an uncaught exception (or a non-zero sys.exit) prints the
traceback and calls MPI_Abort, so ranks blocked waiting for this one die within seconds instead
of hanging; with ``--timeout`` a watchdog thread prints this rank's Python stack and the MPI
operation it is blocked in, then aborts.
"""

from __future__ import annotations

import faulthandler
import os
import runpy
import sys
import threading
import time
import traceback

_aborting = threading.Lock()

# Seconds a timed-out rank waits between printing its stack and aborting the job.
_REPORT_SECONDS = 2.0
# How often a rank looks whether its launcher is still there.
_ORPHAN_POLL_SECONDS = 1.0


def _rank_text() -> str:
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if var in os.environ:
            return f"rank {os.environ[var]}"
    return "rank ?"


def abort(code: int) -> None:
    """Ends every rank of the job with exit status ``code`` (at least 1)."""
    if not _aborting.acquire(blocking=False):
        return  # another thread is already aborting
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        from mpi4py import MPI

        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.COMM_WORLD.Abort(max(1, code))
    except ImportError:
        pass
    os._exit(max(1, code))


def _excepthook(kind, value, tb) -> None:
    print(f"manycore run: uncaught {kind.__name__} on {_rank_text()}; aborting every rank",
          file=sys.stderr)
    traceback.print_exception(kind, value, tb)
    abort(1)


def _watchdog(seconds: float, done: threading.Event) -> None:
    if done.wait(seconds):
        return
    state = sys.modules.get("manycore.dist._state")
    blocked = getattr(state, "current_operation", None) if state else None
    where = f"blocked in manycore.dist {blocked}" if blocked else "not inside a manycore.dist call"
    print(f"manycore run: --timeout {seconds:g} s reached on {_rank_text()} ({where}); its "
          "Python stack:", file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    # Every rank's watchdog fires at about the same time; the first MPI_Abort kills them all,
    # so give the others a moment to print their stacks too.
    time.sleep(_REPORT_SECONDS)
    abort(124)


def _orphan_watch(parent: int) -> None:
    # The launcher (mpirun, its daemon) was killed outright: nobody is left to end this rank,
    # which would run on, unseen, for as long as its program does.
    while True:
        time.sleep(_ORPHAN_POLL_SECONDS)
        if os.getppid() != parent:
            try:  # the launcher held the other end of stderr: it may be gone too
                print(f"manycore run: the launcher of {_rank_text()} is gone; ending this "
                      "rank", file=sys.stderr, flush=True)
            except OSError:
                pass
            os._exit(1)


def _parse(argv: list[str]) -> tuple[float | None, str | None, str | None, list[str]]:
    timeout: float | None = None
    while argv and argv[0].startswith("--timeout"):
        if argv[0] == "--timeout":
            timeout, argv = float(argv[1]), argv[2:]
        else:
            timeout, argv = float(argv[0].split("=", 1)[1]), argv[1:]
    if not argv:
        raise SystemExit("usage: python -m manycore.dist._rank [--timeout S] (script.py | -m module) [args]")
    if argv[0] == "-m":
        return timeout, None, argv[1], argv[2:]
    return timeout, argv[0], None, argv[1:]


def main(argv: list[str] | None = None) -> None:
    timeout, script, module, args = _parse(list(sys.argv[1:] if argv is None else argv))
    # Whole lines per write, so the launcher's rank prefixes (--tag-output) land at line starts
    # and the output of a rank that is aborted is not lost in a buffer.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True, write_through=False)
    sys.excepthook = _excepthook
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True,
                     name="manycore-run-orphan-watch").start()
    done = threading.Event()
    if timeout is not None and timeout > 0:
        threading.Thread(target=_watchdog, args=(timeout, done), daemon=True,
                         name="manycore-run-watchdog").start()
    try:
        if module is not None:
            sys.argv = [module, *args]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [script, *args]
            sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
            runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code != 0:
            if not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
            # Other ranks may be waiting for this one: end them all, like an exception.
            print(f"manycore run: exit status {code} on {_rank_text()}; aborting every rank",
                  file=sys.stderr)
            abort(code)
        done.set()
        raise
    except BaseException:
        _excepthook(*sys.exc_info())
    done.set()


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 0 of the course (jupytext percent format): `manycore labs open 0` makes the notebook.

# %% [markdown]
# # Lab 0: profiling
#
# Before making a program parallel, find where its time goes: a speed-up of the part that
# takes 10% of the time can never give more than 1.11x overall (Amdahl). This lab measures a
# pure-Python matrix product with the tools Python ships and the two profilers the course
# uses:
#
# | tool | answers |
# |---|---|
# | `time.perf_counter()` | how long did this take (wall clock, highest resolution) |
# | `timeit` | the same, repeated, with the garbage collector off |
# | `cProfile` + `pstats` | which *functions* take the time, and how often they are called |
# | `line_profiler` | which *lines* take the time |
# | `memory_profiler`, `tracemalloc` | where memory grows |
#
# The program has a hidden cost: `report()` calls a helper that computes the product again,
# three times in all. The profile, not the reading of the code, finds it.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import cProfile
import inspect
import pstats
import timeit
import tracemalloc

import numpy as np

from manycore.labs import kit

lab = kit.start(0, size=SIZE, device=DEVICE, result=RESULT)
n, blocks, block_mb = lab.pick(small=(100, 50, 12), default=(150, 100, 12), large=(170, 100, 12))
rng = np.random.default_rng(0)
A_np = rng.integers(0, 10, (n, n))
B_np = rng.integers(0, 10, (n, n))
A, B = A_np.tolist(), B_np.tolist()
C_ref = A_np @ B_np  # small integers: the product is exact
print(f"matmul {n}x{n} ({n**3:,} multiply-adds); memory: {blocks} x {block_mb} MB")

# %% [markdown]
# ## The program

# %%
def matmul(A, B):
    n, m, p = len(A), len(B[0]), len(B)
    C = [[0] * m for _ in range(n)]
    for i in range(n):
        Ai = A[i]
        for j in range(m):
            s = 0
            for k in range(p): s += Ai[k] * B[k][j]  # noqa: E701 -- the hot line
            C[i][j] = s
    return C


def trace(C):
    return sum(C[i][i] for i in range(len(C)))


def normalised(A, B):
    C = matmul(A, B)  # computed again: the cost nobody sees when reading report()
    return [[x / trace(C) for x in row] for row in C[:1]]


def report(A, B):
    C = matmul(A, B)
    t = trace(C)
    first_row = normalised(A, B)
    again = matmul(A, B)  # and once more
    return C, t, first_row, again

# %% [markdown]
# ## perf_counter and timeit

# %%
out = {}
lab.variant("perf_counter", lambda: out.__setitem__("C", matmul(A, B)), runs_as="python",
            size=f"{n}^3", check=lambda: kit.assert_equal(np.array(out["C"]), C_ref))

timeit_best = []
lab.variant("timeit", lambda: timeit_best.append(min(timeit.repeat(lambda: matmul(A, B),
                                                                   number=1, repeat=1))),
            runs_as="python", size=f"{n}^3",
            check=lambda: kit.assert_equal(np.bool_(timeit_best[-1] > 0), np.bool_(True)))

# %% [markdown]
# ## cProfile: which functions, how often
#
# `tottime` is the time in the function itself, `cumtime` includes what it calls, `ncalls`
# counts the calls. One call of `report()` calls `matmul` three times.

# %%
profiles = []


def profile_report():
    prof = cProfile.Profile()
    prof.enable()
    report(A, B)
    prof.disable()
    profiles.append(pstats.Stats(prof))


def function_stats(stats, name):
    for (filename, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        if func == name:
            return nc, tt, ct
    raise AssertionError(f"{name} is not in the profile")


def check_profile():
    stats = profiles[-1]
    # BEGIN SOLUTION: read from the profile how often matmul ran, and its share of the time
    calls, tottime, _ = function_stats(stats, "matmul")
    share = tottime / stats.total_tt
    # END SOLUTION
    assert calls == 3, f"matmul was called {calls} times in one report()"
    assert share >= 0.9, f"matmul has {share:.0%} of the time"


lab.variant("cProfile + pstats", profile_report, runs_as="python", size=f"{n}^3",
            check=check_profile)
profiles[-1].sort_stats("tottime").print_stats(5)

# %% [markdown]
# ## line_profiler: which lines
#
# `LineProfiler(matmul)` times every line of `matmul`. The innermost loop is written on one
# line, so that line gets the time of the loop and its body.

# %%
line_profiler, why_not = kit.optional("line_profiler")
hot_line = next(i for i, text in enumerate(inspect.getsourcelines(matmul)[0])
                if "the hot line" in text) + inspect.getsourcelines(matmul)[1]
line_shares = []


def line_profile():
    lp = line_profiler.LineProfiler(matmul)
    lp.runcall(matmul, A, B)
    timings = next(iter(lp.get_stats().timings.values()))
    total = sum(t for _, _, t in timings)
    line_shares.append(sum(t for line, _, t in timings if line == hot_line) / total)


if line_profiler:
    lab.variant("line_profiler", line_profile, runs_as="python", size=f"{n}^3",
                check=lambda: kit.assert_equal(np.bool_(line_shares[-1] >= 0.9), np.bool_(True),
                                               f"hot line's share {line_shares[-1]:.0%} >= 90%"))
else:
    lab.skip("line_profiler", why_not)

# %% [markdown]
# ## Memory: a loop that keeps what it makes
#
# `grow()` appends a 12 MB array per step and keeps them all; `steady()` keeps only the last.
# `tracemalloc` (standard library) records every allocation, NumPy's included;
# `memory_profiler` samples the process's resident memory.

# %%
def grow():
    kept = []
    for _ in range(blocks):
        kept.append(np.ones(block_mb * 2**20 // 8))
    return len(kept)


def steady():
    last = None
    for _ in range(blocks):
        last = np.ones(block_mb * 2**20 // 8)
    return last.size


expected_growth = blocks * block_mb * 2**20
peaks = {}


def traced(fn, name):
    tracemalloc.start()
    fn()
    peaks[name] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()


def check_traced():
    assert peaks["grow"] >= 0.9 * expected_growth, f"peak {peaks['grow'] / 2**20:.0f} MiB"
    assert peaks["steady"] <= 0.1 * expected_growth, f"peak {peaks['steady'] / 2**20:.0f} MiB"


lab.variant("tracemalloc", lambda: (traced(grow, "grow"), traced(steady, "steady")),
            runs_as="python", size=f"{blocks}x{block_mb} MB", check=check_traced)

memory_profiler, why_not = kit.optional("memory_profiler")
rss = {}


def sampled():
    base = memory_profiler.memory_usage(-1, interval=0.01, timeout=0.05, max_usage=True)
    rss["grow"] = memory_profiler.memory_usage((grow, (), {}), interval=0.01, max_usage=True) - base
    rss["steady"] = memory_profiler.memory_usage((steady, (), {}), interval=0.01, max_usage=True) - base


def check_sampled():
    growth = expected_growth / 2**20  # MiB, memory_profiler's unit
    assert rss["grow"] >= 0.7 * growth, f"grow() added {rss['grow']:.0f} MiB"
    assert rss["steady"] <= 0.2 * growth, f"steady() added {rss['steady']:.0f} MiB"


if memory_profiler:
    lab.variant("memory_profiler", sampled, runs_as="python", size=f"{blocks}x{block_mb} MB",
                check=check_sampled)
else:
    lab.skip("memory_profiler", why_not)

# %% [markdown]
# ## What the profile says

# %%
calls, tottime, _ = function_stats(profiles[-1], "matmul")
lab.claim("cProfile finds the repeated product: matmul runs 3 times per report()", calls == 3,
          f"{calls} calls, {tottime / profiles[-1].total_tt:.0%} of the time")
if line_shares:
    lab.claim("the line profile attributes at least 90% of matmul's time to the hot line",
              min(line_shares) >= 0.9, f"{min(line_shares):.1%} at least, line {hot_line}")
lab.claim("memory grows by the blocks kept, not by the blocks made",
          peaks["grow"] >= 0.9 * expected_growth > 10 * peaks["steady"],
          f"{peaks['grow'] / 2**20:.0f} MiB kept vs {peaks['steady'] / 2**20:.0f} MiB")
lab.finish()

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 2 of the course (jupytext percent format): `manycore labs open 2` makes the notebook.

# %% [markdown]
# # Lab 2: threads vs processes for CPU work
#
# Is a 15-digit number prime? Trial division tries every odd factor up to its square root:
# pure Python arithmetic, no I/O, no NumPy, nothing that releases the **GIL** (the lock that
# lets only one thread run Python bytecode at a time). So:
#
# - **threads** do not speed it up: they take turns holding the GIL;
# - **processes** do: each has its own interpreter and its own GIL, at the price of starting
#   them and pickling the arguments and results;
# - `Pool.map`'s **chunksize** decides how many numbers travel in one message: one number per
#   message costs a round trip each;
# - a **kernel** tests each number in its own thread, compiled, on every core; a second one
#   gives each number a block of threads that share its divisions, as a GPU needs.
#
# The numbers are products of three primes of 4 to 5 digits, so a test stops at the smallest
# factor and one run stays within a few million Python operations; the known cases include a
# 15-digit prime, which a trial division must run to the end.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import multiprocessing as mp
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import manycore as mc
from manycore.labs import kit
from manycore.labs.workers import count_primes, is_prime

lab = kit.start(2, size=SIZE, device=DEVICE, result=RESULT)
count, low_factor, high_factor = lab.pick(small=(200, 1_000, 30_000),
                                          default=(400, 1_000, 60_000),
                                          large=(800, 1_000, 100_000))
KNOWN_PRIME, KNOWN_COMPOSITE = 112272535095293, 1099726899285419

# %% [markdown]
# ## The numbers
#
# Each is p·q·r with p < q, r primes, p between the bounds above, and the product in
# [10^14, 5·10^14); the known composite (3306091 · 332636809) joins them. The answer for each
# is known by construction: every one is composite.

# %%
def primes_below(n):
    sieve = np.ones(n, dtype=bool)
    sieve[:2] = False
    for f in range(2, int(n ** 0.5) + 1):
        if sieve[f]:
            sieve[f * f::f] = False
    return np.flatnonzero(sieve)


rng = np.random.default_rng(2)
small_primes = primes_below(200_000)
numbers, smallest = [], []
while len(numbers) < count:
    p = int(rng.choice(small_primes[(small_primes >= low_factor) & (small_primes < high_factor)]))
    q = int(rng.choice(small_primes[small_primes > p]))
    r_low, r_high = -(-10**14 // (p * q)), (5 * 10**14 - 1) // (p * q)
    candidates = small_primes[(small_primes > p) & (small_primes >= r_low) & (small_primes <= r_high)]
    if candidates.size:
        numbers.append(p * q * int(rng.choice(candidates)))
        smallest.append(p)
numbers.append(KNOWN_COMPOSITE)
smallest.append(3306091)
expected = [False] * len(numbers)
work = sum(smallest) // 2  # odd trial factors up to the smallest prime factor
print(f"{len(numbers)} numbers, about {work:,} trial divisions per run")

# %% [markdown]
# The known cases, once (the prime takes 5 million divisions: a couple of seconds):

# %%
# BEGIN SOLUTION: check the trial division on the two known cases
assert is_prime(KNOWN_PRIME), "112272535095293 is prime"
assert not is_prime(KNOWN_COMPOSITE), "1099726899285419 = 3306091 * 332636809"
# END SOLUTION
assert is_prime(2) and is_prime(3) and not is_prime(1) and not is_prime(9)

# %% [markdown]
# ## Serial, threads, processes

# %%
answers = {}


def record(name, result):
    answers[name] = list(result)


def check(name):
    return lambda: kit.assert_equal(np.array(answers[name]), np.array(expected), name)


lab.variant("serial", lambda: record("serial", count_primes(numbers)), runs_as="python",
            workers=1, size=f"{len(numbers)} numbers", check=check("serial"))

for workers in (2, 4):
    with ThreadPoolExecutor(workers) as pool:
        name = f"threads x{workers}"
        lab.variant(name, lambda: record(name, pool.map(is_prime, numbers)), runs_as="threads",
                    workers=workers, baseline="serial", size=f"{len(numbers)} numbers",
                    check=check(name))

# %%
procs = min(4, os.cpu_count() or 1)
with mp.get_context("spawn").Pool(procs) as pool:
    pool.map(abs, range(procs))  # the workers have started before the timing
    for chunk in (1, None):
        name = f"processes x{procs}, chunksize {chunk or 'auto'}"
        lab.variant(name, lambda: record(name, pool.map(is_prime, numbers, chunksize=chunk)),
                    runs_as="processes", workers=procs, baseline="serial",
                    size=f"{len(numbers)} numbers", check=check(name))
    name = f"processes x{procs}, one list each"
    parts = [numbers[k::procs] for k in range(procs)]

    def by_lists():
        got = pool.map(count_primes, parts)
        out = [None] * len(numbers)
        for k, part in enumerate(got):
            out[k::procs] = part
        record(name, out)

    lab.variant(name, by_lists, runs_as="processes", workers=procs, baseline="serial",
                size=f"{len(numbers)} numbers", check=check(name))

# %% [markdown]
# ## A kernel: one number per thread
#
# 64-bit unsigned arithmetic (`unsigned long long`): the numbers do not fit 32 bits. The
# kernel gets the known prime too.

# %%
SOURCE = r"""
__global__ void trial_division(int n, const unsigned long long* numbers, int* prime) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned long long x = numbers[i];
    int answer = x >= 2;
    if (x > 2 && x % 2 == 0) answer = 0;
    for (unsigned long long f = 3; answer && f * f <= x; f += 2)
        if (x % f == 0) answer = 0;
    prime[i] = answer;
}
"""
module = lab.compile(SOURCE)
trial_division = module.get_function("trial_division")
all_numbers = np.array(numbers + [KNOWN_PRIME], dtype=np.uint64)
d_numbers = mc.to_device(all_numbers, lab.device)
d_prime = mc.zeros(all_numbers.size, np.int32, lab.device)
lab.variant("manycore kernel", lambda: trial_division(all_numbers.size, d_numbers, d_prime,
                                                      grid=((all_numbers.size + 63) // 64,),
                                                      block=(64,)),
            runs_as=f"manycore {lab.device.kind}", kernels=[trial_division], compiled="kernels",
            baseline="serial", size=f"{all_numbers.size} numbers",
            check=lambda: kit.assert_equal(d_prime, np.array(expected + [True], dtype=np.int32)))

# %% [markdown]
# ## A kernel: one number per block
#
# One thread per number gives a GPU a few hundred threads, a few per multiprocessor, and leaves
# the known prime's 5 million divisions to one of them: a GPU thread is much slower than a CPU
# core (a 64-bit `%` is a sequence of instructions there), so that one thread decides the time.
# Here a block of 256 threads shares each number: in each round its threads try 256
# consecutive odd factors, and `__syncthreads_or` tells all of them whether one found a
# divisor, so the block stops together after the round that found it.

# %%
SPLIT_SOURCE = r"""
__global__ void trial_division_split(const unsigned long long* numbers, int* prime) {
    unsigned long long x = numbers[blockIdx.x];
    int composite = x < 2 || (x > 2 && x % 2 == 0);
    for (unsigned long long base = 3; !composite && base * base <= x; base += 2ull * blockDim.x) {
        unsigned long long f = base + 2ull * threadIdx.x;
        composite = __syncthreads_or(f * f <= x && x % f == 0);
    }
    if (threadIdx.x == 0) prime[blockIdx.x] = !composite;
}
"""
trial_division_split = lab.compile(SPLIT_SOURCE, "split").get_function("trial_division_split")
d_prime_split = mc.zeros(all_numbers.size, np.int32, lab.device)
lab.variant("manycore kernel, a block per number",
            lambda: trial_division_split(d_numbers, d_prime_split, grid=(all_numbers.size,), block=(256,)),
            runs_as=f"manycore {lab.device.kind}", kernels=[trial_division_split], compiled="split",
            baseline="serial", size=f"{all_numbers.size} numbers",
            check=lambda: kit.assert_equal(d_prime_split, np.array(expected + [True], dtype=np.int32)))

# %% [markdown]
# ## What the numbers say

# %%
# Best runs: the least disturbed by whatever else the machine does.
serial, threads = lab.best("serial"), lab.best("threads x2")
best_processes = min(lab.best(v.name) for v in lab.variants if v.name.startswith("processes"))
lab.claim("threads do not speed up CPU-bound Python (the GIL): 2 threads are at most 1.5x "
          "faster than serial", serial / threads <= 1.5, f"speed-up {serial / threads:.2f}x")
lab.claim("processes beat threads by at least 1.3x on CPU-bound work", threads / best_processes >= 1.3,
          f"{threads / best_processes:.2f}x", skip=kit.busy(2))
one_thread, split = lab.best("manycore kernel"), lab.best("manycore kernel, a block per number")
lab.claim("the kernel is faster than serial Python", one_thread < serial, f"{serial / one_thread:.0f}x",
          skip="" if lab.device.kind == "cpu" else
          "on a GPU one thread alone runs the known prime's 5 million divisions, slower than a CPU core")
lab.claim("a block per number is faster than serial Python", split < serial, f"{serial / split:.0f}x")
lab.finish()

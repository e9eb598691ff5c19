# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 3 of the course (jupytext percent format): `manycore labs open 3` makes the notebook.

# %% [markdown]
# # Lab 3: synchronisation
#
# Several threads add 1 to one shared counter. `counter += 1` is three steps: read, add,
# write. When a thread is switched out between its read and its write, another thread's
# increments in the meantime are overwritten: **lost updates**. The fixes make the three
# steps one, by mutual exclusion (`Lock`, `RLock`, a `Semaphore` of one), by giving the
# counter to one owner and sending it messages (`Queue`), by letting each thread count
# privately and combining after a `Barrier`, or, in a kernel, by an atomic operation. Two
# locks taken in opposite orders **deadlock**; here every wait has a timeout, so the demo
# reports the deadlock instead of hanging.
#
# Each correct variant must give the exact count. The unsafe one reads the counter, lets the
# interpreter switch threads (`time.sleep(0)`, standing for any work between the read and
# the write), then writes: its count comes out short.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import multiprocessing as mp
import queue
import threading
import time

import numpy as np

import manycore as mc
from manycore.labs import kit

lab = kit.start(3, size=SIZE, device=DEVICE, result=RESULT)
increments, slow_increments = lab.pick(small=(10**5, 2 * 10**3), default=(10**6, 10**4),
                                       large=(10**6, 10**4))
threads = 4
print(f"{threads} threads x {increments:,} increments ({slow_increments:,} for the slow variants)")


def run_threads(target, count=threads, args=()):
    ts = [threading.Thread(target=target, args=(k, *args)) for k in range(count)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


class Counter:
    value = 0


counter = Counter()


def exact(total):
    return lambda: kit.assert_equal(np.int64(counter.value), np.int64(total), "count")

# %% [markdown]
# ## No lock: lost updates

# %%
def unsafe(k, n):
    for _ in range(n):
        v = counter.value
        time.sleep(0)  # a thread switch lands here, as it could after any bytecode
        counter.value = v + 1


def reset():
    counter.value = 0


lost = []


def unsafe_run():
    run_threads(unsafe, args=(slow_increments,))
    lost.append(threads * slow_increments - counter.value)


lab.variant("no lock (lost updates)", unsafe_run, reset=reset, runs_as="threads", workers=threads,
            size=f"{threads}x{slow_increments:,}",
            check=lambda: kit.assert_equal(np.bool_(0 < counter.value <= threads * slow_increments),
                                           np.bool_(True), "count in range"))
print(f"lost updates per run: {lost}")

# %% [markdown]
# ## Mutual exclusion: Lock, RLock, Semaphore
#
# `RLock` may be taken again by the thread that holds it (a function that locks calling
# another that locks); `Semaphore(1)` is a lock anyone may release.

# %%
def locked(k, n, lock):
    for _ in range(n):
        # BEGIN SOLUTION: make the read-add-write one step
        with lock:
            counter.value += 1
        # END SOLUTION


for name, lock in (("Lock", threading.Lock()), ("RLock", threading.RLock()),
                   ("Semaphore(1)", threading.Semaphore(1))):
    lab.variant(name, lambda: run_threads(locked, args=(increments, lock)), reset=reset,
                runs_as="threads", workers=threads, size=f"{threads}x{increments:,}",
                check=exact(threads * increments))

for workers in (1, 2, 8):
    lock = threading.Lock()
    lab.variant(f"Lock x{workers}", lambda: run_threads(locked, workers, (increments, lock)),
                reset=reset, runs_as="threads", workers=workers, baseline="Lock x1",
                size=f"{workers}x{increments:,}", check=exact(workers * increments))

# %% [markdown]
# ## One owner: a Queue
#
# Only the consumer thread touches the counter; the others send it messages. No lock in
# sight (the queue has one inside), and the count is exact.

# %%
def with_queue():
    q = queue.Queue()

    def consumer():
        while q.get() is not None:
            counter.value += 1

    owner = threading.Thread(target=consumer)
    owner.start()
    run_threads(lambda k: [q.put(1) for _ in range(slow_increments)])
    q.put(None)
    owner.join()


lab.variant("Queue", with_queue, reset=reset, runs_as="threads", workers=threads,
            size=f"{threads}x{slow_increments:,}", check=exact(threads * slow_increments))

# %% [markdown]
# ## Private counts, a Barrier, then one sum
#
# Each thread counts in its own slot, all meet at the barrier, and thread 0 adds the slots:
# no sharing while counting.

# %%
def with_barrier():
    slots = [0] * threads
    barrier = threading.Barrier(threads, timeout=60)

    def work(k):
        for _ in range(increments):
            slots[k] += 1
        if barrier.wait() == 0:  # one thread (whichever) is told it is 0
            counter.value = sum(slots)

    run_threads(work)


lab.variant("Barrier", with_barrier, reset=reset, runs_as="threads", workers=threads,
            size=f"{threads}x{increments:,}", check=exact(threads * increments))

# %% [markdown]
# ## Event: start together
#
# The threads wait for one `Event` and start counting (under a lock) when it is set.

# %%
def with_event():
    go, lock = threading.Event(), threading.Lock()

    def work(k):
        assert go.wait(timeout=60)
        locked(k, increments, lock)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    go.set()
    for t in ts:
        t.join()


lab.variant("Event", with_event, reset=reset, runs_as="threads", workers=threads,
            size=f"{threads}x{increments:,}", check=exact(threads * increments))

# %% [markdown]
# ## Processes: a shared Value, a Manager
#
# Processes share nothing unless asked: `mp.Value` puts an integer in shared memory, with
# its own lock; a `Manager` keeps the object in a server process and every access is a
# message to it (much slower).

# %%
from manycore.labs import workers as lab_workers

spawn = mp.get_context("spawn")
procs = 2
value = spawn.Value("q", 0)
with spawn.Pool(procs, lab_workers.share_value, (value,)) as pool:
    pool.map(abs, range(procs))
    lab.variant("processes, Value with its lock",
                lambda: pool.map(lab_workers.increment_value, [slow_increments] * procs),
                reset=lambda: setattr(value, "value", 0), runs_as="processes", workers=procs,
                size=f"{procs}x{slow_increments:,}",
                check=lambda: kit.assert_equal(np.int64(value.value), np.int64(procs * slow_increments)))
with spawn.Manager() as manager:
    shared = manager.Value("q", 0)
    mlock = manager.Lock()
    few = max(slow_increments // 10, 100)
    with spawn.Pool(procs) as pool:
        pool.map(abs, range(procs))
        lab.variant("processes, Manager",
                    lambda: pool.starmap(lab_workers.increment_proxy, [(shared, mlock, few)] * procs),
                    reset=lambda: shared.set(0), runs_as="processes", workers=procs,
                    size=f"{procs}x{few:,}",
                    check=lambda: kit.assert_equal(np.int64(shared.get()), np.int64(procs * few)))

# %% [markdown]
# ## A kernel: atomicAdd
#
# Every thread of the grid adds 1 to one counter with `atomicAdd`, which does the
# read-add-write as one indivisible step in hardware.

# %%
SOURCE = r"""
__global__ void count(int n, unsigned long long* counter) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    // BEGIN SOLUTION: add 1 for every thread with i < n, safely
    if (i < n) atomicAdd(counter, 1ULL);
    // END SOLUTION
}
"""
count_kernel = lab.compile(SOURCE).get_function("count")
n_kernel = threads * increments + 3
d_counter = mc.zeros(1, np.uint64, lab.device)
lab.variant("kernel atomicAdd",
            lambda: count_kernel(n_kernel, d_counter, grid=((n_kernel + 255) // 256,), block=(256,)),
            reset=lambda: mc.copy(d_counter, np.zeros(1, np.uint64)), runs_as=f"manycore {lab.device.kind}",
            kernels=[count_kernel], compiled="kernels", size=f"{n_kernel:,} threads",
            check=lambda: kit.assert_equal(d_counter, np.array([n_kernel], np.uint64)))

# %% [markdown]
# ## Deadlock, stopped by a timeout
#
# Thread A takes lock 1 then lock 2; thread B takes lock 2 then lock 1. If each gets its
# first lock, each waits for the other forever. With `acquire(timeout=...)` the wait ends and
# the program can say so. Taking the locks in one global order is the fix.

# %%
def two_threads(crossed):
    """A takes lock 1 then lock 2; B the other way round when ``crossed``. Returns whether
    each got its second lock within the timeout."""
    l1, l2 = threading.Lock(), threading.Lock()
    holding = threading.Barrier(2, timeout=10) if crossed else None
    got = {}

    def worker(name, first, second):
        with first:
            if holding:
                holding.wait()  # both hold their first lock now
            got[name] = second.acquire(timeout=0.2)
            if holding:
                holding.wait()  # both have tried before either lets its first lock go
            if got[name]:
                second.release()

    ts = [threading.Thread(target=worker, args=("A", l1, l2)),
          threading.Thread(target=worker, args=("B", *((l2, l1) if crossed else (l1, l2))))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return [got["A"], got["B"]]


results = {}
lab.variant("deadlock (opposite orders), detected",
            lambda: results.__setitem__("crossed", two_threads(crossed=True)),
            runs_as="threads", workers=2,
            check=lambda: kit.assert_equal(np.array(results["crossed"]),
                                           np.array([False, False]), "second locks acquired"))
lab.variant("same order, no deadlock",
            lambda: results.__setitem__("ordered", two_threads(crossed=False)),
            runs_as="threads", workers=2,
            check=lambda: kit.assert_equal(np.array(results["ordered"]),
                                           np.array([True, True]), "second locks acquired"))

# %% [markdown]
# ## What the numbers say

# %%
lab.claim("without a lock updates are lost", min(lost) > 0, f"lost per run: {lost}")
lab.claim("crossed lock orders deadlock (stopped by the timeout); one global order does not",
          results["crossed"] == [False, False] and results["ordered"] == [True, True],
          f"second locks taken: crossed {results['crossed']}, ordered {results['ordered']}")
lab.finish()

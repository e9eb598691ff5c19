# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 10 of the course (jupytext percent format): `manycore labs open 10` makes the notebook.

# %% [markdown]
# # Lab 10: MPI basics with mpi4py
#
# An MPI program is N copies of one program, the **ranks**, that share nothing and talk by
# messages. In a notebook a cell that starts with `%%mpirun -n 2` runs as such a job (each
# rank a separate process, so variables do not come back); as a script, `manycore run -n 2
# script.py` does the same.
#
# mpi4py has two spellings of every call:
#
# | lowercase: `comm.send(obj)`, `comm.bcast(obj)` | uppercase: `comm.Send(buf)`, `comm.Bcast(buf)` |
# |---|---|
# | any Python object, **pickled** | a buffer (NumPy array), sent as raw bytes |
# | the receiver gets a new object | the receiver passes the array to fill |
# | convenient, slow for big data | fast: no copy into a pickle, no new object |
#
# With buffers the **datatype** must match the data: `[a, MPI.DOUBLE]` for float64; sending
# float64 data declared as `MPI.FLOAT` silently reinterprets the bytes.
#
# Point to point: `ssend` completes only when the receiver has started receiving. If Alice
# and Bob both `ssend` first and `recv` second, each waits for the other forever — a
# **deadlock**. The fixes: a nonblocking `isend` (post, then receive, then wait), or
# `sendrecv`, which does both at once.

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
# %load_ext manycore.dist.magic
from manycore.labs import kit

lab = kit.start(10, size=SIZE, device=DEVICE, result=RESULT)
parts = lab.mpi_context()

# %% [markdown]
# ## Hello, collectives, ping-pong
#
# The whole program below runs on every rank; `comm.rank` tells them apart.

# %%
# %%mpirun -n 2 --timeout 300
import socket
import time

import numpy as np
from mpi4py import MPI

from manycore.labs import kit

lab = kit.join("basics")
comm = MPI.COMM_WORLD
rank, size = comm.rank, comm.size
other = (rank + 1) % size
print(f"hello from rank {rank} of {size} on {socket.gethostname()}")

hello = {}
lab.variant("hello (gather of rank numbers)",
            lambda: hello.__setitem__("ranks", comm.gather(rank, root=0)), runs_as="mpi",
            workers=size,
            check=lambda: rank != 0 or kit.assert_equal(np.array(hello["ranks"]), np.arange(size)))

# Collectives, lowercase (objects) and uppercase (buffers).
n = lab.pick(small=10**6 + 1, default=10**7 + 1, large=10**8 + 1)
payload = np.arange(n, dtype=np.float64) if rank == 0 else None
box = {}


def bcast_lower():
    box["obj"] = comm.bcast(payload, root=0)


def bcast_upper():
    buf = payload if rank == 0 else np.empty(n, np.float64)
    # BEGIN SOLUTION: broadcast the float64 buffer from rank 0, with the right datatype
    comm.Bcast([buf, MPI.DOUBLE], root=0)
    # END SOLUTION
    box["buf"] = buf


expected = np.arange(n, dtype=np.float64)
lab.variant("bcast (lowercase, pickled)", bcast_lower, runs_as="mpi", workers=size,
            size=f"{n:,} float64", work=kit.Work(bytes=8 * n),
            check=lambda: kit.assert_equal(box["obj"], expected))
lab.variant("Bcast (uppercase, buffer)", bcast_upper, runs_as="mpi", workers=size,
            size=f"{n:,} float64", work=kit.Work(bytes=8 * n),
            baseline="bcast (lowercase, pickled)",
            check=lambda: kit.assert_equal(box["buf"], expected))

part = np.full(1000, rank, dtype=np.int64)
gathered = {}


def gather_upper():
    out = np.empty((size, 1000), np.int64) if rank == 0 else None
    comm.Gather([part, MPI.INT64_T], [out, MPI.INT64_T] if rank == 0 else None, root=0)
    gathered["upper"] = out


lab.variant("gather (lowercase)", lambda: gathered.__setitem__("lower", comm.gather(part, root=0)),
            runs_as="mpi", workers=size,
            check=lambda: rank != 0 or kit.assert_equal(np.array(gathered["lower"]),
                                                        np.repeat(np.arange(size), 1000).reshape(size, 1000)))
lab.variant("Gather (uppercase)", gather_upper, runs_as="mpi", workers=size,
            check=lambda: rank != 0 or kit.assert_equal(gathered["upper"],
                                                        np.repeat(np.arange(size), 1000).reshape(size, 1000)))
total = {}


def allreduce_upper():
    out = np.empty(1, np.int64)
    comm.Allreduce(np.array([rank + 1], np.int64), out, op=MPI.SUM)
    total["upper"] = int(out[0])


lab.variant("allreduce (lowercase)", lambda: total.__setitem__("lower", comm.allreduce(rank + 1)),
            runs_as="mpi", workers=size,
            check=lambda: kit.assert_equal(np.int64(total["lower"]), np.int64(size * (size + 1) // 2)))
lab.variant("Allreduce (uppercase)", allreduce_upper, runs_as="mpi", workers=size,
            check=lambda: kit.assert_equal(np.int64(total["upper"]), np.int64(size * (size + 1) // 2)))

# Ping-pong between ranks 0 and 1: one message there, one back.
sizes = lab.pick(small=[10**3, 10**4, 10**5, 10**6], default=[10**3, 10**4, 10**5, 10**6, 10**7],
                 large=[10**3, 10**4, 10**5, 10**6, 10**7])
for count in sizes:
    label = f"10^{len(str(count)) - 1}"
    data = np.arange(count, dtype=np.int64) * (rank + 1)
    checksum = {}

    def pingpong_pickled():
        if rank == 0:
            comm.send(data, dest=1)
            got = comm.recv(source=1)
        elif rank == 1:
            got = comm.recv(source=0)
            comm.send(got, dest=0)
        else:
            got = data
        checksum["sum"] = int(got.sum())

    def pingpong_buffer():
        got = np.empty(count, np.int64)
        if rank == 0:
            comm.Send([data, MPI.INT64_T], dest=1)
            comm.Recv([got, MPI.INT64_T], source=1)
        elif rank == 1:
            comm.Recv([got, MPI.INT64_T], source=0)
            comm.Send([got, MPI.INT64_T], dest=0)
        else:
            got = data
        checksum["sum"] = int(got.sum())

    want = count * (count - 1) // 2  # rank 0's payload, there and back
    for kind, fn in (("pickled", pingpong_pickled), ("buffer", pingpong_buffer)):
        lab.variant(f"ping-pong {label} ints, {kind}", fn, group="ping-pong", runs_as="mpi",
                    workers=2, size=f"{count:,} int64", work=kit.Work(bytes=2 * 8 * count),
                    baseline=f"ping-pong {label} ints, pickled" if kind == "buffer" else None,
                    check=lambda: rank != 0 or kit.assert_equal(np.int64(checksum["sum"]), np.int64(want)))

# Alice and Bob: both ssend first. issend is ssend that returns at once: its request completes
# only when the other side has started to receive, which here never happens on its own.
message = np.arange(1000, dtype=np.int64)
state = {}


def both_ssend_first():
    comm.Barrier()
    req = comm.Issend([message, MPI.INT64_T], dest=other)
    deadline = time.perf_counter() + 0.2
    while not req.Test() and time.perf_counter() < deadline:
        time.sleep(0.001)
    state["stuck"] = not req.Test()
    comm.Barrier()  # both have looked before either starts to receive
    got = np.empty_like(message)
    comm.Recv([got, MPI.INT64_T], source=other)  # now receive, so both sends complete
    req.Wait()
    comm.Barrier()


def isend_then_recv():
    req = comm.Isend([message, MPI.INT64_T], dest=other)
    got = np.empty_like(message)
    comm.Recv([got, MPI.INT64_T], source=other)
    req.Wait()
    state["got"] = got


def sendrecv():
    got = np.empty_like(message)
    comm.Sendrecv([message, MPI.INT64_T], dest=other, recvbuf=[got, MPI.INT64_T], source=other)
    state["got"] = got


lab.variant("ssend both first (would deadlock)", both_ssend_first, group="deadlock",
            runs_as="mpi", workers=size,
            check=lambda: kit.assert_equal(np.bool_(state["stuck"]), np.bool_(True),
                                           "neither ssend completed before a receive"))
lab.variant("fixed: isend, recv, wait", isend_then_recv, group="deadlock", runs_as="mpi",
            workers=size, check=lambda: kit.assert_equal(state["got"], message))
lab.variant("fixed: sendrecv", sendrecv, group="deadlock", runs_as="mpi", workers=size,
            check=lambda: kit.assert_equal(state["got"], message))
lab.finish()

# %%
names = ["hello (gather of rank numbers)", "bcast (lowercase, pickled)", "Bcast (uppercase, buffer)",
         "gather (lowercase)", "Gather (uppercase)", "allreduce (lowercase)", "Allreduce (uppercase)",
         "ssend both first (would deadlock)", "fixed: isend, recv, wait", "fixed: sendrecv"]
lab.collect("basics", names)

# %% [markdown]
# ## A real deadlock, stopped by a timeout
#
# Now with blocking `ssend`. The job would hang forever; `--timeout 5` makes the launcher
# print where every rank is blocked and end the job. Each rank leaves a file before and after
# its send, so we can tell afterwards how far it got.

# %%
# %%mpirun -n 2 --timeout 5
import numpy as np
from mpi4py import MPI

from manycore.labs import kit

parts = kit.join("deadlock").parts
comm = MPI.COMM_WORLD
other = 1 - comm.rank
(parts / f"deadlock-{comm.rank}-sending").touch()
comm.ssend(np.arange(10), dest=other)  # both ranks wait here for a receive that never comes
comm.recv(source=other)
(parts / f"deadlock-{comm.rank}-done").touch()

# %%
sending = sorted(p.name for p in parts.glob("deadlock-*-sending"))
done = sorted(p.name for p in parts.glob("deadlock-*-done"))
lab.claim("both ranks block in ssend and the timeout ends the job", len(sending) == 2 and not done,
          f"started: {sending}, finished: {done}")

# %% [markdown]
# ## What the numbers say

# %%
pingpongs = [v.name for v in lab.variants if v.group == "ping-pong" and v.name.endswith("pickled")]
label = max(pingpongs, key=lambda name: int(name.split("^")[1].split()[0])).split()[1]
pickled, buffered = lab.best(f"ping-pong {label} ints, pickled"), lab.best(f"ping-pong {label} ints, buffer")
lab.claim(f"buffers beat pickles for {label} ints", buffered < pickled,
          f"{pickled * 1e3:.2f} ms pickled, {buffered * 1e3:.2f} ms buffer")
lab.finish()

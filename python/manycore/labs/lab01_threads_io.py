# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
# Lab 1 of the course (jupytext percent format): `manycore labs open 1` makes the notebook.

# %% [markdown]
# # Lab 1: threads for I/O
#
# A program that waits — for a disk, a network, a database — spends its time doing nothing.
# Waiting releases the GIL, so **threads** help here even in Python: while one waits for its
# answer, the others send their requests. `asyncio` does the same in one thread, by
# switching at every `await`. Processes work too but cost more to start.
#
# The server is local (127.0.0.1 only; nothing leaves the machine) and adds a fixed latency
# before every answer, as a remote server would. Fetching N files one after the other costs
# N latencies; with T threads about N/T.
#
# Two rules of honest timing: wait for **every** future (a `pool.map` whose results are never
# read has not finished), and check **every** file (here by its SHA-256).

# %% tags=["parameters"]
SIZE = "default"   # small | default | large | auto
DEVICE = None      # None: the first GPU, else the CPU; or "cpu", "cuda", "cuda:1"
RESULT = ""        # a file for the JSON result ("" for none)

# %%
import asyncio
import hashlib
import http.server
import multiprocessing as mp
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from manycore.labs import kit
from manycore.labs import workers as lab_workers

lab = kit.start(1, size=SIZE, device=DEVICE, result=RESULT)
files, megabytes, latency = lab.pick(small=(32, 1, 0.05), default=(64, 1, 0.05),
                                     large=(128, 4, 0.05))
print(f"{files} files x {megabytes} MB, {latency * 1000:.0f} ms latency per request")

# %% [markdown]
# ## The files and the server

# %%
folder = lab.workdir / "files"
folder.mkdir()
rng = np.random.default_rng(1)
digests = {}
for k in range(files):
    data = rng.integers(0, 256, megabytes * 2**20, dtype=np.uint8).tobytes()
    name = f"file{k:03d}.bin"
    (folder / name).write_bytes(data)
    digests[name] = hashlib.sha256(data).hexdigest()


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        time.sleep(latency)  # the network and the far server, as one fixed delay
        super().do_GET()

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # Connections waiting to be accepted. The default, 5, makes the 6th simultaneous client
    # wait a second for its connection to be retried: many clients at once need a longer
    # queue.
    request_queue_size = 256


server = Server(("127.0.0.1", 0), partial(SlowHandler, directory=str(folder)))
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_address[1]}"
urls = [f"{base}/{name}" for name in digests]
print("serving", folder, "at", base)

# %% [markdown]
# ## Serial, then thread pools

# %%
got = {}


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return url.rsplit("/", 1)[1], hashlib.sha256(r.read()).hexdigest()


def check():
    assert got == digests, (f"{len(got)} of {len(digests)} files, "
                            f"{sum(got.get(k) != v for k, v in digests.items())} wrong or missing")


def serial():
    got.clear()
    for url in urls:
        name, digest = fetch(url)
        got[name] = digest


lab.variant("serial", serial, runs_as="python", workers=1, size=f"{files} files", check=check)

for workers in (2, 4, 8, 16):
    with ThreadPoolExecutor(workers) as pool:
        def threaded(pool=pool):
            got.clear()
            # BEGIN SOLUTION: fetch every URL on the pool, and wait for every result
            for name, digest in pool.map(fetch, urls):
                got[name] = digest
            # END SOLUTION

        lab.variant(f"threads x{workers}", threaded, runs_as="threads", workers=workers,
                    baseline="serial", size=f"{files} files", check=check)

# %% [markdown]
# ## asyncio: one thread, many waits
#
# A minimal HTTP/1.0 client on `asyncio.open_connection`: each `await` lets another request
# go on. `asyncio.run` needs a thread with no running event loop; a notebook already has
# one, so the coroutine runs on a helper thread.

# %%
async def fetch_async(url):
    host, port_path = url[len("http://"):].split(":", 1)
    port, path = port_path.split("/", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, body = response.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.0 200"), head[:40]
    return path, hashlib.sha256(body).hexdigest()


async def fetch_all():
    return await asyncio.gather(*(fetch_async(u) for u in urls))


def with_asyncio():
    got.clear()
    with ThreadPoolExecutor(1) as helper:
        got.update(helper.submit(asyncio.run, fetch_all()).result())


lab.variant("asyncio", with_asyncio, runs_as="asyncio", baseline="serial",
            size=f"{files} files", check=check)

# %% [markdown]
# ## Processes
#
# Also concurrent, but each worker is a new interpreter: their start is timed apart here
# (before the variant), and every answer is pickled back.

# %%
procs = 4
with mp.get_context("spawn").Pool(procs) as pool:
    pool.map(abs, range(procs))

    def with_processes():
        got.clear()
        got.update(pool.map(lab_workers.fetch_digest, urls))

    lab.variant(f"processes x{procs}", with_processes, runs_as="processes", workers=procs,
                baseline="serial", size=f"{files} files", check=check)
server.shutdown()
server.server_close()

# %% [markdown]
# ## What the numbers say

# %%
floor = files * latency
lab.claim("serial fetching costs at least one latency per file", lab.best("serial") >= floor,
          f"{lab.best('serial'):.2f} s >= {floor:.2f} s")
lab.claim("8 threads are at least 3x faster than serial (the waits overlap)",
          lab.best("serial") / lab.best("threads x8") >= 3,
          f"{lab.best('serial') / lab.best('threads x8'):.1f}x")
lab.claim("asyncio overlaps the waits too (at least 3x faster than serial)",
          lab.best("serial") / lab.best("asyncio") >= 3,
          f"{lab.best('serial') / lab.best('asyncio'):.1f}x")
lab.finish()

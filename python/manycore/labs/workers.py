# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What the labs' worker processes run.

A process pool started with "spawn" (the default on macOS and Windows, and the safe choice
beside threads that are already running) sends each worker a function by its module and
name, so a function defined in a notebook cannot be sent. These are the labs' functions,
importable by every worker.
"""

from __future__ import annotations

from multiprocessing import shared_memory

import numpy as np

__all__ = ["fetch_digest", "share_value", "increment_value", "increment_proxy", "attach", "add_slice", "sum_slice", "is_prime", "count_primes", "count_in_circle", "keep_points", "kmeans_slice",
           "matmul_rows", "matmul_k", "shift_rows", "blobs"]


def _attach(name: str, shape: tuple[int, ...], dtype: str) -> tuple[shared_memory.SharedMemory, np.ndarray]:
    shm = shared_memory.SharedMemory(name=name)
    return shm, np.ndarray(shape, dtype=dtype, buffer=shm.buf)


# The shared arrays this worker process has mapped (by attach, the pool's initializer).
_shared: list[np.ndarray] = []
_blocks: list[shared_memory.SharedMemory] = []


def attach(names: tuple[str, ...], shape: tuple[int, ...], dtype: str) -> None:
    """Pool initializer: maps the shared-memory blocks ``names`` once per worker process."""
    for name in names:
        shm, arr = _attach(name, shape, dtype)
        _blocks.append(shm)  # kept open: the arrays point into it
        _shared.append(arr.reshape(-1))


def add_slice(start: int, stop: int) -> int:
    """c[start:stop] = a[start:stop] + b[start:stop] on the arrays ``attach`` mapped: only two
    integers travel to the worker, never the data."""
    a, b, c = _shared
    np.add(a[start:stop], b[start:stop], out=c[start:stop])
    return stop - start


_value = None


def share_value(value) -> None:
    """Pool initializer: keeps the shared ``multiprocessing.Value`` (it cannot be pickled
    into a task, only handed to a process as it starts)."""
    global _value
    _value = value


def increment_value(n: int) -> int:
    """Adds 1 to the shared Value ``n`` times, each under the Value's own lock."""
    for _ in range(n):
        with _value.get_lock():
            _value.value += 1
    return n


def increment_proxy(value, lock, n: int) -> int:
    """Adds 1 to a Manager's Value ``n`` times under a Manager's Lock: two messages to the
    manager's process for each."""
    for _ in range(n):
        with lock:
            value.set(value.get() + 1)
    return n


def sum_slice(start: int, stop: int) -> int:
    """The uint64 sum of elements [start, stop) of the first array ``attach`` mapped."""
    return int(np.sum(_shared[0][start:stop], dtype=np.uint64))


def is_prime(n: int) -> bool:
    """Trial division by 2 and odd numbers up to sqrt(n): pure Python, CPU-bound."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    f = 3
    while f * f <= n:
        if n % f == 0:
            return False
        f += 2
    return True


def count_primes(numbers: list[int]) -> list[bool]:
    return [is_prime(n) for n in numbers]


def count_in_circle(seed, samples: int) -> int:
    """Points of ``samples`` uniform draws in the unit square that fall in the quarter circle,
    from the stream of ``seed`` (an int or a ``numpy.random.SeedSequence``: children of one
    SeedSequence give independent streams)."""
    rng = np.random.default_rng(seed)
    inside = 0
    chunk = 1 << 20
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        x = rng.random(m)
        y = rng.random(m)
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
    return inside


_points: np.ndarray | None = None


def keep_points(points: np.ndarray) -> None:
    """Pool initializer: the points this worker process assigns (sent once, at its start)."""
    global _points
    _points = points


def kmeans_slice(first: int, last: int, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Lloyd step's share of points [first, last): the labels, and per cluster the
    coordinate sums (float64) and counts."""
    points = _points[first:last]
    d = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    labels = d.argmin(axis=1)
    k = centroids.shape[0]
    sums = np.stack([np.bincount(labels, weights=points[:, d], minlength=k)
                     for d in range(points.shape[1])], axis=1)
    return labels, sums, np.bincount(labels, minlength=k)


def matmul_rows(a_rows: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row split: a block of A's rows times the whole of B (B is pickled to every worker)."""
    return a_rows @ b


def matmul_k(a_cols: np.ndarray, b_rows: np.ndarray) -> np.ndarray:
    """k split: a slab of A's columns times the matching slab of B's rows; the partial
    products are summed by the caller."""
    return a_cols @ b_rows


def fetch_digest(url: str) -> tuple[str, str]:
    """Fetches ``url`` and returns (its file name, the SHA-256 of its body)."""
    import hashlib
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as r:
        return url.rsplit("/", 1)[1], hashlib.sha256(r.read()).hexdigest()


def shift_rows(first: int, last: int, n: int) -> np.ndarray:
    """Rows [first, last) of the n x n shift matrix (ones just below the diagonal: M e_k =
    e_(k+1)), float64. Lab 11's serial version and its ranks build the same matrix."""
    rows = np.zeros((last - first, n))
    r = np.arange(first, last)
    keep = r >= 1
    rows[np.flatnonzero(keep), r[keep] - 1] = 1.0
    return rows


def blobs(n: int, k: int, seed: int = 13) -> tuple[np.ndarray, np.ndarray]:
    """Lab 13's data: n 2-D points around k random centres, and k of them as the start."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, (k, 2))
    points = centres[rng.integers(0, k, n)] + rng.standard_normal((n, 2))
    return points, points[rng.choice(n, k, replace=False)].copy()


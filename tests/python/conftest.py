# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Shared fixtures: every kernel test runs on every device, GPUs marked ``gpu``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Kernels the tests compile go to a cache of the project's own, never the user's.
os.environ.setdefault("MANYCORE_CACHE_DIR", str(Path(__file__).resolve().parents[2] / "build" / "test-cache"))

import manycore as mc  # noqa: E402  (after the cache folder is chosen)


def _device_params() -> list:
    params = [pytest.param(mc.Device("cpu"), id="cpu")]
    gpus = [d for d in mc.devices() if d.kind != "cpu"]
    for d in gpus:
        params.append(pytest.param(d, id=str(d), marks=pytest.mark.gpu))
    if not gpus:
        reason = "no GPU on this machine"
        if os.environ.get("MANYCORE_REQUIRE_GPU") == "1":
            params.append(pytest.param(None, id="cuda", marks=pytest.mark.gpu))
        else:
            params.append(
                pytest.param(None, id="cuda", marks=[pytest.mark.gpu, pytest.mark.skip(reason=reason)])
            )
    return params


@pytest.fixture(params=_device_params())
def device(request: pytest.FixtureRequest) -> mc.Device:
    """Each device of the machine in turn (CUDA cases skip with the reason where there is none)."""
    if request.param is None:
        pytest.fail("MANYCORE_REQUIRE_GPU=1 but no GPU is visible to manycore")
    return request.param


@pytest.fixture(params=["fission", "fibers"])
def scheme(request: pytest.FixtureRequest, device: mc.Device):
    """For kernels that synchronise: each CPU scheme in turn (modules built in the test use it),
    as the execution mode the test's kernels must get; on a GPU once, as "gpu"."""
    if device.kind != "cpu":
        if request.param == "fibers":
            pytest.skip("CPU schemes do not apply to a GPU")
        yield "gpu"
        return
    previous = mc.cpu_scheme()
    mc.set_cpu_scheme("auto" if request.param == "fission" else "fibers")
    try:
        yield request.param
    finally:
        mc.set_cpu_scheme(previous)


@pytest.fixture
def cpu() -> mc.Device:
    return mc.Device("cpu")


# --- MPI (the pytest-mpi convention): tests marked `mpi` run only under mpiexec with
# --with-mpi; `mpi(min_size=N)` also needs at least N ranks. tests/python/test_dist_launch.py
# starts those runs itself, so a plain `pytest tests/python` covers them.


def pytest_addoption(parser: pytest.Parser) -> None:
    if parser.getgroup("mpi").options or _has_pytest_mpi(parser):
        return  # pytest-mpi is installed and owns the option
    parser.getgroup("mpi").addoption(
        "--with-mpi", action="store_true", default=False,
        help="run the tests marked mpi (start pytest under mpiexec / manycore run)",
    )


def _has_pytest_mpi(parser: pytest.Parser) -> bool:
    import importlib.util

    return importlib.util.find_spec("pytest_mpi") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    with_mpi = bool(config.getoption("--with-mpi", default=False))
    size = None
    for item in items:
        marker = item.get_closest_marker("mpi")
        if marker is None:
            continue
        if not with_mpi:
            item.add_marker(pytest.mark.skip(reason="MPI test: run under `manycore run -n N -m pytest --with-mpi -m mpi` (test_dist_launch.py does)"))
            continue
        min_size = marker.kwargs.get("min_size")
        if min_size is None:
            continue
        if size is None:
            from mpi4py import MPI

            size = MPI.COMM_WORLD.Get_size()
        if size < min_size:
            item.add_marker(pytest.mark.skip(reason=f"needs at least {min_size} MPI ranks, this run has {size}"))

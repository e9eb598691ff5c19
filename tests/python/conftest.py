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


@pytest.fixture
def cpu() -> mc.Device:
    return mc.Device("cpu")

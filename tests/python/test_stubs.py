# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""The extension's type stubs: generated at build time, installed with py.typed, and equal to
the reference copy in tests/python/golden/_core.pyi."""

from __future__ import annotations

import difflib
import pathlib

import pytest

import manycore
from manycore import _core

GOLDEN = pathlib.Path(__file__).parent / "golden" / "_core.pyi"
PACKAGE = pathlib.Path(manycore.__file__).parent


def test_the_stub_and_the_typed_marker_are_installed_beside_the_extension():
    assert (PACKAGE / "_core.pyi").is_file()
    assert (PACKAGE / "py.typed").is_file()


def test_the_generated_stub_is_the_reference_copy():
    if not hasattr(_core, "mpi_allreduce"):
        pytest.skip("this build has no MPI binding (mpi4py's headers were missing at build "
                    "time); the reference stub is of a build with it")
    generated = (PACKAGE / "_core.pyi").read_text()
    golden = GOLDEN.read_text()
    if generated != golden:
        diff = "".join(difflib.unified_diff(golden.splitlines(True), generated.splitlines(True),
                                            "golden/_core.pyi", "generated _core.pyi", n=1))
        pytest.fail("the extension's interface changed; if that was meant, copy the generated "
                    f"stub over the reference: cp {PACKAGE / '_core.pyi'} {GOLDEN}\n{diff}")


def test_a_launch_shows_its_keywords_in_its_signature():
    doc = _core.Function.__call__.__doc__ or ""
    first = doc.splitlines()[0]
    for keyword in ("grid:", "block:", "shared: int = 0", "stream: Stream | None = None",
                    "lint: bool = True"):
        assert keyword in first, first

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore.hpp is the whole C++ API in one include: it includes every public header."""

from __future__ import annotations

import pathlib
import re

INCLUDE = pathlib.Path(__file__).resolve().parents[2] / "include" / "manycore"


def test_manycore_hpp_includes_every_public_header():
    umbrella = (INCLUDE / "manycore.hpp").read_text()
    included = set(re.findall(r'#include "manycore/([a-z_]+\.hpp)"', umbrella))
    public = {p.name for p in INCLUDE.glob("*.hpp")} - {"manycore.hpp"}
    assert public, INCLUDE
    assert public - included == set(), "manycore.hpp misses these headers"

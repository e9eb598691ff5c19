# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``import pycuda.autoprimaryctx``: the default device's primary context made current."""

from __future__ import annotations

from .autoinit import context, device  # noqa: F401 - one context per device here

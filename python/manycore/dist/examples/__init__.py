# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Worked examples of manycore.dist; run them with ``manycore run -n 4 -m manycore.dist.examples.heat2d``."""

# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""What this rank is doing in MPI right now, for the launcher's ``--timeout`` report.

Kept in a module of its own, with no imports, so the watchdog can read it even while the main
thread is blocked inside MPI and whatever else failed to import.
"""

from __future__ import annotations

#: The manycore.dist operation this rank is blocked in; str() of it reads e.g. "allreduce(op='sum',
#: 8 x float64) on a communicator of 4 ranks (this is rank 0)". None outside manycore.dist's
#: MPI calls.
current_operation: object | None = None

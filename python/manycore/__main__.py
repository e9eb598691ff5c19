# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""``python -m manycore``: the same as the ``manycore`` command."""

import sys

from manycore.cli import main

if __name__ == "__main__":
    sys.exit(main())

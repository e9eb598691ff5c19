# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore on a SLURM cluster: write and submit job scripts, watch and cancel jobs.

SLURM does all the scheduling; this package writes the job script (resources, the site's
set-up lines, the submitting Python environment, ``manycore info``, then the program through
``manycore run``) and reads SLURM's answers. The ``manycore submit``, ``jobs``, ``wait`` and
``cancel`` commands are built on it (docs/slurm.md)::

    from manycore import slurm
    o = slurm.load_site_profile().apply(slurm.SubmitOptions(ntasks=4, time="10:00",
                                                            script="heat.py"))
    print(slurm.job_script(o))
    job_id = slurm.submit(o)
    j = slurm.wait_until_finished(job_id, None, interval=5)
    j.state, j.exit_status(), j.output
"""

from ._jobscript import SiteProfile, SubmitOptions, job_script, load_site_profile, site_profile_path
from ._scheduler import Job, SlurmError, cancel, job, jobs, last_submitted, submit, wait_until_finished

__all__ = ["SubmitOptions", "SiteProfile", "load_site_profile", "site_profile_path", "job_script",
           "SlurmError", "Job", "submit", "job", "jobs", "cancel", "wait_until_finished",
           "last_submitted"]

"""Options of the commands that run a grid: where the cells run, and the report."""

from __future__ import annotations

from typing import Annotated

import typer

WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="Local: processes training cells at once (torch threads are divided among them). Ray: most tasks in flight (default: the cluster's CPUs).", rich_help_panel="Backend"),
]
# The backslash before "[ray]" keeps Rich from reading it as markup and dropping it.
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="local (this machine) or ray (Ray tasks; needs pip install 'badlabels\\[ray]').", rich_help_panel="Backend"),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option("--ray-address", help="Join the Ray cluster at this address (default: start a local Ray).", rich_help_panel="Backend"),
]
NoReportOpt = Annotated[
    bool, typer.Option("--no-report", help="Do not write OUT/report.html at the end.")
]

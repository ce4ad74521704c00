"""Run settings: where and how an experiment's cells train, resolved once and recorded.

Built once at the top of :func:`badlabels.experiment.run_experiment` from its arguments and the
environment (``BADLABELS_PRECISION``), written to ``config.json`` as they ran, and the resolved
device is what every cell is trained on.

Assumption: with the ``ray`` backend the cells may run on other machines, so the device is
left for each worker to resolve (``"auto"`` stays ``"auto"``); each record's ``device`` says
what ran there.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RunSettings:
    """Device, engine, precision and backend of one experiment.

    Attributes
    ----------
    device_requested : str
        What the caller asked for (``auto``, ``cpu``, ``cuda``, ``cuda:N``).
    device : str
        The device the cells train on (``cpu``, ``cuda``, ``cuda:N``), or ``auto`` where Ray
        workers resolve it.
    engine : {"auto", "plain", "stacked"}
    precision : str
        The stacked engine's precision as requested (``BADLABELS_PRECISION``, default ``auto``).
    precision_resolved : str or None
        What ``precision`` means on ``device`` (None where workers resolve the device).
    backend : {"local", "ray"}
    workers : int or None
    ray_address : str or None
    """

    device_requested: str
    device: str
    engine: str
    precision: str
    precision_resolved: str | None
    backend: str
    workers: int | None
    ray_address: str | None

    @classmethod
    def resolve(
        cls,
        device: str = "auto",
        *,
        engine: str = "auto",
        backend: str = "local",
        workers: int | None = None,
        ray_address: str | None = None,
    ) -> RunSettings:
        """Resolve ``device`` (unless Ray workers will) and the stacked precision for it.

        Raises
        ------
        BadInputError
            An unknown device, or CUDA asked for where there is none.
        """
        from badlabels.training.stacked.precision import resolve_precision
        from badlabels.training.trainer import resolve_device

        precision = os.environ.get("BADLABELS_PRECISION") or "auto"
        if backend == "ray":
            resolved, prec = str(device), None
        else:
            dev = resolve_device(device)
            resolved = str(dev)
            try:
                prec = resolve_precision(precision, dev)
            except ValueError:  # reported by the stacked engine, which reads it too
                prec = None
        return cls(
            device_requested=str(device), device=resolved, engine=engine, precision=precision,
            precision_resolved=prec, backend=backend, workers=workers, ray_address=ray_address,
        )  # fmt: skip

    def to_dict(self) -> dict:
        """JSON-friendly form (``config.json``)."""
        return asdict(self)

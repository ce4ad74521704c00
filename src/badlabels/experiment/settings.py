"""Run settings: where and how an experiment's cells train, resolved once and recorded.

Built once at the top of :func:`badlabels.experiment.run_experiment` from its arguments and the
environment (``BADLABELS_PRECISION``, ``BADLABELS_MAX_K``), written to ``config.json`` as they
ran, and passed whole down to the runner, the backends and the engines: nothing below reads
the environment or resolves ``"auto"`` again.

Assumption: with the ``ray`` backend the cells may run on other machines, so the device is
left for each worker to resolve (``"auto"`` stays ``"auto"`` until :meth:`RunSettings.here`
runs on the worker); each record's ``device`` and ``precision`` say what ran there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


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
    max_k : int
        Most LSTM cells one stacked unit trains together (``BADLABELS_MAX_K``, else per device).
    """

    device_requested: str
    device: str
    engine: str
    precision: str
    precision_resolved: str | None
    backend: str
    workers: int | None
    ray_address: str | None
    max_k: int

    @classmethod
    def resolve(
        cls,
        device: str = "auto",
        *,
        engine: str = "auto",
        backend: str = "local",
        workers: int | None = None,
        ray_address: str | None = None,
        precision: str | None = None,
    ) -> RunSettings:
        """Resolve ``device`` (unless Ray workers will) and the stacked precision for it.

        ``precision`` defaults to ``BADLABELS_PRECISION`` (else ``auto``).

        Raises
        ------
        BadInputError
            An unknown device or engine, CUDA asked for where there is none, or a bad
            ``BADLABELS_MAX_K``.
        """
        from badlabels.engine.stacked.precision import (
            PRECISION_ENV,
            PRECISIONS,
            requested_precision,
            resolve_precision,
        )
        from badlabels.engine.trainer import resolve_device
        from badlabels.errors import BadInputError
        from badlabels.methods.stacking import check_engine, max_k

        check_engine(engine)
        precision = precision or requested_precision()
        if precision not in PRECISIONS:
            raise BadInputError(
                f"{PRECISION_ENV}={precision!r} is not a precision; choose one of: "
                + ", ".join(PRECISIONS)
            )
        if backend == "ray":
            resolved, prec = str(device), None
        else:
            dev = resolve_device(device)
            resolved = str(dev)
            prec = resolve_precision(precision, dev)
        return cls(
            device_requested=str(device), device=resolved, engine=engine, precision=precision,
            precision_resolved=prec, backend=backend, workers=workers, ray_address=ray_address,
            max_k=max_k(resolved),
        )  # fmt: skip

    def here(self) -> RunSettings:
        """These settings with the device resolved on this machine (a Ray worker's own GPU or
        CPU); unchanged where it already is."""
        if self.precision_resolved is not None:
            return self
        from badlabels.engine.stacked.precision import resolve_precision
        from badlabels.engine.trainer import resolve_device

        dev = resolve_device(self.device)
        prec = resolve_precision(self.precision, dev)
        return replace(self, device=str(dev), precision_resolved=prec)

    def to_dict(self) -> dict:
        """JSON-friendly form (``config.json``)."""
        return asdict(self)

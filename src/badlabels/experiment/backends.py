"""Where units of cells run: in this process, in a local process pool, or as Ray tasks.

The runner plans *units* (:func:`badlabels.experiment.engines.plan_units`; a unit is one or
several cells trained together) and hands them to :func:`execute`, which yields each unit's
records as soon as the unit finishes, so the caller can put them in the store at once.

Backends
--------
``local`` with ``workers=1`` (the default)
    One unit after another in this process; epoch progress is reported.
``local`` with ``workers=N > 1``
    A :class:`concurrent.futures.ProcessPoolExecutor` of N "spawn" processes (PyTorch and
    ``fork`` do not mix). The prepared data are sent once per worker (pool initializer), each
    worker sets ``torch.set_num_threads(max(1, cores // N))``. Big units (stacked LSTM cells)
    are split (:func:`balance_units`) so that there are at least N of them.
``ray``
    Ray tasks (one CPU each). With no ``ray_address`` a local Ray instance is started (and
    shut down at the end); with one, the existing cluster is joined (every node needs
    badlabels installed). The prepared data are ``ray.put`` once and cached in each Ray
    worker process.

Assumption: a cell's result depends only on the cell (every random draw is seeded from it),
never on the backend, the number of workers, or which other cells share a process or a unit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from badlabels.errors import BadInputError
from badlabels.experiment.engines import run_unit
from badlabels.experiment.grid import Cell
from badlabels.experiment.runner_core import Prepared, Progress
from badlabels.experiment.settings import RunSettings

BACKENDS = ("local", "ray")
RAY_MISSING = "Ray is not installed: pip install 'badlabels[ray]'"

Unit = list[Cell]
OnStart = Callable[[Unit], None]


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_backend(backend: str, workers: int | None = None, ray_address: str | None = None) -> None:
    """Raise :class:`BadInputError` for an unknown backend, a bad worker count, or missing Ray."""
    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise BadInputError(f"--workers must be at least 1 (got {workers})")
    if ray_address and backend != "ray":
        raise BadInputError("--ray-address needs --backend ray")
    if backend == "ray":
        _import_ray()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise BadInputError(RAY_MISSING) from None
    return ray


def execute(
    units: list[Unit],
    prepared: Prepared,
    settings: RunSettings | None = None,
    *,
    progress: Progress | None = None,
    on_start: OnStart | None = None,
) -> Iterator[tuple[Unit, list[dict]]]:
    """Run ``units`` and yield ``(unit, records)`` for each unit as soon as it finishes.

    Parameters
    ----------
    units : list of list of Cell
        From :func:`~badlabels.experiment.engines.plan_units`.
    prepared : Prepared
        The split data, shared by every unit.
    settings : RunSettings, optional
        Resolved once by the caller (default: :meth:`RunSettings.resolve`, local, one
        worker) and passed whole to every unit. ``settings.backend``: ``local`` or ``ray``;
        ``settings.workers``: local, the number of processes (1 = in this process); Ray, the
        most tasks in flight at once (default: the cluster's CPUs); ``settings.ray_address``:
        a running Ray cluster to join (else a local Ray instance is started).
    progress : callable, optional
        Epoch events; only the in-process path reports them.
    on_start : callable, optional
        ``on_start(unit)`` just before a unit starts training in this process (in-process
        path only: parallel units start out of sight).

    Yields
    ------
    (unit, records) : one record per cell of the unit, in the unit's order. Order of the
    units is completion order for the parallel backends.
    """
    settings = settings or RunSettings.resolve()
    workers = settings.workers
    check_backend(settings.backend, workers, settings.ray_address)
    if not units:
        return
    if settings.backend == "ray":
        yield from _run_ray(units, prepared, settings)
    elif (workers or 1) > 1 and sum(map(len, units)) > 1:
        units = balance_units(units, int(workers))
        yield from _run_pool(units, prepared, settings)
    else:
        for unit in units:
            if on_start is not None:
                on_start(unit)
            yield unit, run_unit(unit, prepared, settings, progress=progress)


def balance_units(units: list[Unit], slots: int) -> list[Unit]:
    """Split the largest units in halves until there are at least ``slots`` units (or every
    unit is a single cell), so that a few big stacked units still keep every worker busy.

    Deterministic, and safe because a cell's result does not depend on which cells share its
    unit (see :mod:`badlabels.experiment.engines`). Order of the cells is kept.
    """
    out = [list(u) for u in units if u]
    while len(out) < slots:
        i = max(range(len(out)), key=lambda k: len(out[k]), default=None)
        if i is None or len(out[i]) < 2:
            break
        unit = out[i]
        half = (len(unit) + 1) // 2
        out[i : i + 1] = [unit[:half], unit[half:]]
    return out


# -- local process pool ---------------------------------------------------------------------

_WORKER_PREPARED: Prepared | None = None


def _init_worker(prepared: Prepared, threads: int) -> None:
    """Pool initializer: keep the data for every unit this worker runs; share the cores."""
    global _WORKER_PREPARED
    import torch

    torch.set_num_threads(threads)
    _WORKER_PREPARED = prepared


def _pool_unit(unit: Unit, settings: RunSettings) -> list[dict]:
    assert _WORKER_PREPARED is not None, "worker not initialised"
    return run_unit(unit, _WORKER_PREPARED, settings, progress=None)


def _run_pool(units, prepared, settings: RunSettings):
    import multiprocessing

    workers = min(int(settings.workers), len(units))
    threads = max(1, available_cores() // workers)
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(prepared, threads)
    )
    try:
        yield from _drain(
            units, workers, lambda u: pool.submit(_pool_unit, u, settings), _wait_futures
        )
    finally:
        # On an error or interrupt, drop the queued units; the ones running finish or die.
        pool.shutdown(wait=True, cancel_futures=True)


def _wait_futures(pending):
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    return [(f, f.result()) for f in done]


def _drain(units, in_flight, submit, wait_some):
    """Keep at most ``in_flight`` units submitted; yield each as it completes."""
    queue = list(units)
    pending = {}
    while queue or pending:
        while queue and len(pending) < in_flight:
            unit = queue.pop(0)
            pending[submit(unit)] = unit
        for handle, records in wait_some(list(pending)):
            yield pending.pop(handle), records


# -- Ray ------------------------------------------------------------------------------------

_RAY_CACHE: dict[str, Prepared] = {}


def _ray_unit(box: list, unit: Unit, settings: RunSettings) -> list[dict]:
    """Body of a Ray task. ``box`` holds the ObjectRef of the Prepared data (kept in a list
    so Ray does not fetch it for every task); each worker process fetches it once."""
    import ray

    ref = box[0]
    key = ref.hex()
    if key not in _RAY_CACHE:
        _RAY_CACHE.clear()  # one sweep's data at a time
        _RAY_CACHE[key] = ray.get(ref)
    return run_unit(unit, _RAY_CACHE[key], settings, progress=None)  # resolves "auto" there


def _run_ray(units, prepared, settings: RunSettings):
    ray = _import_ray()
    workers, ray_address = settings.workers, settings.ray_address
    started = False
    if not ray.is_initialized():
        kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if ray_address:
            ray.init(address=ray_address, **kw)
        else:
            ray.init(num_cpus=workers or available_cores(), **kw)
        started = True
    try:
        in_flight = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        units = balance_units(units, in_flight)
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_unit)
        box = [ray.put(prepared)]

        running = set()

        def submit(unit):
            ref = task.remote(box, unit, settings)
            running.add(ref)
            return ref

        def wait_some(pending):
            done, _ = ray.wait(pending, num_returns=1)
            running.difference_update(done)
            return [(r, ray.get(r)) for r in done]

        try:
            yield from _drain(units, in_flight, submit, wait_some)
        finally:
            for ref in running:  # after an error or interrupt: drop what is still running
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # finished meanwhile
                    pass
    finally:
        if started:
            ray.shutdown()

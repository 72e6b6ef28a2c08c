"""Dask back end of :func:`theorylab.core.executors.map_unordered`.

Uses an existing scheduler (``address``, e.g. one started by dask-jobqueue on
a SLURM cluster) or starts a ``LocalCluster`` of single-threaded worker
processes.  Dask reschedules the tasks of a worker that dies on the remaining
workers (up to ``distributed.scheduler.allowed-failures`` times), so a lost
worker costs time, not results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import ConfigError


def _import_dask():
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ConfigError(
            "executor", "dask", "needs the dask extra: pip install 'theorylab[dask]'"
        ) from exc
    return Client, LocalCluster, as_completed


@contextlib.contextmanager
def dask_client(workers: int | None = None, address: str | None = None):
    """A ``dask.distributed.Client``: connected to ``address`` or to a new LocalCluster."""
    Client, LocalCluster, _ = _import_dask()
    from .executors import default_workers

    if address:
        try:
            client = Client(address, timeout="20s")
        except OSError as exc:
            raise ConfigError("address", address, f"no Dask scheduler reachable ({exc})") from exc
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    # Dask's nanny exports MALLOC_TRIM_THRESHOLD_ to its workers; setting it at all
    # freezes glibc's mmap threshold, so every NumPy temporary above 128 KiB is
    # mmapped and page-faulted afresh (measured: the rf_ensembles theory ran 5x
    # slower).  Start local workers without it.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def dask_map_unordered(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    *,
    workers: int | None = None,
    address: str | None = None,
    client=None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, fn(*task))`` as Dask futures complete."""
    _, _, as_completed = _import_dask()
    ctx = contextlib.nullcontext(client) if client is not None else dask_client(workers, address)
    with ctx as cl:
        futures = [cl.submit(fn, *task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

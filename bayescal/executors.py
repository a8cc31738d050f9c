"""Executors that run forward evaluations: in-process, a process pool, or a Dask cluster.

All are :class:`concurrent.futures.Executor` instances, so the calibration loop is the same
whichever runs the work. :func:`split_batch` cuts a batch of parameter sets into one chunk per
worker: the in-process executor gets one chunk, so a batched forward model sees the whole batch.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from bayescal.errors import InputDataError

__all__ = ["InlineExecutor", "executor_workers", "make_executor", "split_batch"]

logger = logging.getLogger(__name__)


class InlineExecutor(Executor):
    """Run each task at submission, in this process (the default: no pickling, no overhead)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now and return a finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make_executor(*, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Build the executor for a run.

    Parameters
    ----------
    workers : int, optional
        Number of local worker processes; ``None`` or 1 runs in-process.
    scheduler : str, optional
        Address of a Dask ``distributed`` scheduler (``tcp://host:8786``), or ``"local"`` for a
        local Dask cluster; needs ``pip install bayescal[dask]``.

    Returns
    -------
    concurrent.futures.Executor
    """
    if scheduler is not None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise InputDataError(
                "scheduler given but dask.distributed is not installed; "
                "pip install 'bayescal[dask]'."
            ) from exc
        if scheduler == "local":
            client = Client(
                LocalCluster(
                    n_workers=workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
        else:
            client = Client(scheduler)
        executor = client.get_executor()
        executor.bayescal_workers = max(1, len(client.scheduler_info().get("workers", {})))
        executor.bayescal_client = client
        return executor
    if workers is None or workers <= 1:
        return InlineExecutor()
    if workers < 1:
        raise InputDataError(f"workers must be >= 1; got {workers}.")
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def executor_workers(executor: Executor) -> int:
    """How many chunks to cut a batch into for ``executor``."""
    if isinstance(executor, InlineExecutor):
        return 1
    if isinstance(executor, ProcessPoolExecutor):
        return executor._max_workers  # type: ignore[attr-defined]  # private, not in typeshed
    return int(getattr(executor, "bayescal_workers", 1))


def split_batch(theta: np.ndarray, n_chunks: int) -> list[np.ndarray]:
    """Index arrays cutting ``len(theta)`` rows into at most ``n_chunks`` contiguous chunks."""
    n = len(theta)
    return [
        idx for idx in np.array_split(np.arange(n), min(max(n_chunks, 1), max(n, 1))) if idx.size
    ]

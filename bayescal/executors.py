"""Executors that run forward evaluations: in-process, a process pool, or a Dask cluster.

All are :class:`concurrent.futures.Executor` instances, so the calibration loop is the same
whichever runs the work. :func:`split_batch` cuts a batch of parameter sets into one chunk per
worker: the in-process executor gets one chunk, so a batched forward model sees the whole batch.

Process-pool workers ignore SIGINT and SIGTERM (the parent saves the current batch and stops, see
:func:`bayescal.study.calibrate`) and die with their parent, even when it is killed with SIGKILL
(:func:`watch_parent`).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import numpy as np

from bayescal.errors import InputDataError

__all__ = ["InlineExecutor", "executor_workers", "make_executor", "split_batch", "watch_parent"]

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
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Make this worker process die with ``parent_pid`` and leave signals to the parent.

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); elsewhere,
    and as a second line, a daemon thread exits the process once its parent changes (the
    orphan is re-parented). SIGINT and SIGTERM are ignored: the parent handles them.

    Parameters
    ----------
    parent_pid : int
        The pid of the process that made the pool.
    interval : float
        Seconds between checks of the parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - libc without prctl
            pass
    if os.getppid() != parent_pid:  # the parent died before the call above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="bayescal-parent-watch", daemon=True).start()


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

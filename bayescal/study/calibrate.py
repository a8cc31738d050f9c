"""Run a study's EGO search over K seeds, storing every evaluation before the next round.

K independent EGO runs (seeds from ``SeedSequence(study.run.seed).spawn(K)``) advance in rounds:
each active run asks for its next batch of q points, all K x q points are evaluated together (one
batched forward call in-process, or chunks on a process pool or Dask cluster), every run is told
its results, and the round is appended to ``DIR/evaluations.nc`` atomically. Restarting on the
same directory rebuilds each run from the stored evaluations; since every proposal is a
deterministic function of the seed and the history, the resumed run continues exactly as an
uninterrupted one would.

When the reference has R realizations (a ``realization`` dim), seed ``k`` is compared with
realization ``k % R`` throughout, and each evaluation records it in ``realization(eval)``.

The run holds the directory's lock (:class:`bayescal.run_lock.RunLock`) throughout. SIGINT and
SIGTERM stop it after the batch being evaluated is saved (a second signal stops at once; the file
still holds the last complete batch).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import signal
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import cast

import numpy as np
import xarray as xr

from bayescal.compared_outputs import residuals_from_outputs
from bayescal.errors import (
    ForwardModelError,
    InputDataError,
    InputDataWarning,
    RunInterrupted,
    StudyDefinitionError,
)
from bayescal.executors import InlineExecutor, executor_workers, split_batch
from bayescal.io import (
    PER_REALIZATION_ATTR,
    EvaluationStore,
    provenance_attrs,
    remove_stale_temporaries,
)
from bayescal.optimize import EGO, EGOOptions, EvalStatus
from bayescal.optimize.gauss_newton import GaussNewtonOptions, GaussNewtonPolish
from bayescal.run_lock import RunLock
from bayescal.study.evaluate import evaluate
from bayescal.study.load import StudySpec
from bayescal.study.study import Study

__all__ = ["calibrate", "evaluation_record", "seed_sequences"]

logger = logging.getLogger(__name__)


def seed_sequences(root: int, k: int) -> list[np.random.SeedSequence]:
    """The K independent seeds of a study, ``SeedSequence(root).spawn(k)``."""
    return np.random.SeedSequence(root).spawn(k)


def calibrate(
    study: Study,
    out: str | Path | None,
    *,
    budget: int | None = None,
    seeds: int | None = None,
    batch_size: int | None = None,
    executor: Executor | None = None,
    spec: StudySpec | None = None,
    timeout: float | None = None,
    progress: bool = False,
    callback: Callable[[xr.Dataset], None] | None = None,
) -> xr.Dataset:
    """Search the study's parameters with EGO; return all evaluations.

    A *seed* is one independent EGO run with its own random stream
    (``SeedSequence(study.run.seed).spawn(K)[k]``). When ``study.reference`` has a ``realization``
    dim of size R, seed ``k`` calibrates against realization ``k % R`` only, so with
    ``seeds = R`` a seed is a data realization: its evaluations, its EGO optimum and, in the
    posterior (:mod:`bayescal.infer`, per-seed parameters pooled hierarchically), its
    ``<name>_seed`` parameters belong to that realization, and the pooled parameters describe the
    population the realizations were drawn from. With ``seeds`` a multiple of R several seeds
    share a realization.

    Parameters
    ----------
    study : Study
        The problem.
    out : path or None
        Output directory; ``out/evaluations.nc`` is created or resumed. None keeps the
        evaluations in memory (a notebook; nothing survives the process).
    budget : int, optional
        Forward evaluations per seed (default ``study.run.budget``).
    seeds : int, optional
        Number of independent EGO runs (default ``study.run.seeds``, which defaults to the number of
        realizations); fewer than the realizations warns that some are left out.
    batch_size : int, optional
        Points per EGO round q (default ``study.run.ego.batch_size``).
    executor : concurrent.futures.Executor, optional
        Where evaluations run (default: in-process, one batched call per round).
    spec : StudySpec, optional
        How workers rebuild the study (needed with a process pool or Dask: a study made in a
        notebook is sent by pickle instead, which fails for lambdas).
    timeout : float, optional
        Seconds to wait for a chunk of evaluations; late chunks are recorded as ``TIMEOUT``.
    progress : bool
        Show a progress bar (tqdm) with evaluations, best discrepancy and ETA.
    callback : callable, optional
        Called with the evaluations of each round after they are stored.

    Returns
    -------
    xarray.Dataset
        The contents of ``out/evaluations.nc``.

    Raises
    ------
    InputDataError
        Non-positive budget, seeds or batch size; ``out`` is not a writable directory; or ``out``
        holds evaluations of a different problem (:meth:`Study.fingerprint_parts`) or whose
        realization of a seed differs from ``seed % R``.
    RunLockedError
        Another process is running in ``out``.
    CorruptStoreError
        ``out/evaluations.nc`` cannot be read or holds impossible values.
    StudyDefinitionError
        The forward model's output does not match the reference (grid, strain range); nothing
        of that batch is stored.
    ForwardModelError
        The forward model has a programming error or fails everywhere (after saving the batch).
    RunInterrupted
        SIGINT or SIGTERM arrived; the batch then being evaluated was saved first.
    """
    budget = int(budget or study.run.budget)
    n_seeds = int(seeds or cast(int, study.run.seeds))  # Study.__post_init__ fills seeds
    q = int(batch_size or study.run.ego.batch_size)
    if budget < 1 or n_seeds < 1 or q < 1:
        raise InputDataError(
            f"budget, seeds and batch_size must be >= 1; got {budget}, {n_seeds}, {q}."
        )
    if n_seeds < study.realizations:
        warnings.warn(
            f"seeds={n_seeds} is less than the {study.realizations} realizations of the "
            f"reference; realizations {list(range(n_seeds, study.realizations))} are not "
            "calibrated.",
            InputDataWarning,
            stacklevel=2,
        )
    executor = executor or InlineExecutor()
    options = dataclasses.replace(study.run.ego, batch_size=q).for_budget(budget)
    lock = contextlib.nullcontext() if out is None else RunLock(out)
    with lock, _deferred_signals() as stop:
        if out is not None:
            remove_stale_temporaries(out)
        store = EvaluationStore(out, study.names, _store_attrs(study, spec, n_seeds))
        return _search(
            study,
            store,
            options,
            budget,
            n_seeds,
            executor,
            spec,
            timeout,
            progress,
            callback,
            stop,
        )


def _search(
    study: Study,
    store: EvaluationStore,
    options: EGOOptions,
    budget: int,
    n_seeds: int,
    executor: Executor,
    spec: StudySpec | None,
    timeout: float | None,
    progress: bool,
    callback: Callable[[xr.Dataset], None] | None,
    stop: threading.Event,
) -> xr.Dataset:
    """The EGO rounds of :func:`calibrate` on an opened store."""
    _check_stored_realizations(study, store)
    composite = options.surrogate == "composite"
    parts = study.discrepancy.residual_parts(study.reference_for(0)) if composite else None
    runs = [
        EGO(
            study.dim,
            options=options,
            seed=ss,
            feasible=study.feasible_unit,
            residual_parts=parts,
        )
        for ss in seed_sequences(study.run.seed, n_seeds)
    ]
    rounds = [
        _replay(run, store.for_seed(k), study if composite else None) for k, run in enumerate(runs)
    ]
    polishers: list[GaussNewtonPolish | None] = [None] * n_seeds
    bar = _progress_bar(progress, n_seeds * budget, len(store), study.name)
    try:
        while True:
            asks = _collect_asks(runs, budget, options, polishers)
            if not asks:
                break
            if stop.is_set():
                where = "kept in memory" if store.path is None else f"saved in {store.path}"
                raise RunInterrupted(
                    f"interrupted: {len(store)} evaluations are {where}; rerun the same "
                    f"command to resume."
                )
            seed_idx = np.concatenate([np.full(len(u), k) for k, u, _ in asks])
            unit = np.concatenate([u for _, u, _ in asks])
            real = study.realization_of(seed_idx)
            polishing = any(polish for _, _, polish in asks)
            result = _run_batch(
                study, study.from_unit(unit), real, executor, spec, timeout, polishing or composite
            )
            y = np.where(
                result["status"].values == EvalStatus.OK, result["discrepancy"].values, np.nan
            )
            residual = result["residual"].values if "residual" in result else None
            result = result.drop_vars("residual", errors="ignore").drop_dims(
                "residual_dim", errors="ignore"
            )
            for k, _, polish in asks:
                mine = seed_idx == k
                told = residual[mine] if composite and residual is not None else None
                runs[k].tell(unit[mine], y[mine], result["status"].values[mine], told)
                if polish:
                    # _collect_asks created this seed's polisher before its polish ask
                    polisher = cast(GaussNewtonPolish, polishers[k])
                    rows = (
                        residual[mine] if residual is not None else np.full((mine.sum(), 1), np.nan)
                    )
                    polisher.tell(unit[mine], y[mine], rows)
            batch_no = np.array([rounds[k] for k in seed_idx])
            for k, _, _ in asks:
                rounds[k] += 1
            record = evaluation_record(result, unit, study, seed_idx, batch_no, real)
            store.append(record)
            if callback is not None:
                callback(record)
            _update_bar(bar, record, store)
            _stop_on_bug(result, store)
    finally:
        if bar is not None:
            bar.close()
    data = store.data
    if data is None:  # every seed evaluates at least once (budget, seeds >= 1)
        raise RuntimeError("calibrate stored no evaluations.")
    return data


@contextlib.contextmanager
def _deferred_signals():
    """Turn the first SIGINT/SIGTERM into a stop request (an Event); a second one interrupts.

    Outside the main thread (signal handlers cannot be set there) the Event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        logger.warning(
            "%s: stopping after the current batch is saved (again to stop now)",
            signal.Signals(signum).name,
        )

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _replay(run: EGO, stored: xr.Dataset | None, study: Study | None = None) -> int:
    """Tell a fresh EGO run its stored history, round by round; return the next round index.

    With ``study`` (composite EGO) the residual vectors are recomputed from the kept outputs.
    """
    if stored is None:
        return 0
    residuals = None if study is None else _stored_residuals(study, stored)
    batches = stored["batch"].values
    for b in np.unique(batches):
        sel = batches == b
        status = stored["status"].values[sel]
        y = np.where(status == EvalStatus.OK, stored["discrepancy"].values[sel], np.nan)
        rows = None if residuals is None else residuals[sel]
        run.tell(stored["unit"].values[sel], y, status, rows)
    return int(batches.max()) + 1


def _stored_residuals(study: Study, stored: xr.Dataset) -> np.ndarray | None:
    """Residual vectors of stored evaluations from their kept outputs (None: not kept)."""
    n = stored.sizes["eval"]
    real = stored["realization"].values if "realization" in stored else np.zeros(n, dtype=int)
    try:
        out = None
        for r in np.unique(real):
            sel = np.flatnonzero(real == r)
            rows = residuals_from_outputs(
                study.discrepancy, study.reference_for(int(r)), stored.isel(eval=sel)
            )
            out = np.full((n, rows.shape[1]), np.nan) if out is None else out
            out[sel] = rows
    except InputDataError as exc:
        logger.warning("stored evaluations without kept outputs (%s): scalar EGO steps", exc)
        return None
    return out


def _check_stored_realizations(study: Study, store: EvaluationStore) -> None:
    """A resumed directory must pair every seed with the realization this study gives it."""
    data = store.data
    if data is None or "realization" not in data:
        return
    seed = data["seed"].values
    stored = data["realization"].values
    expected = study.realization_of(seed)
    if (stored != expected).any():
        i = int(np.flatnonzero(stored != expected)[0])
        raise InputDataError(
            f"{store.path}: evaluation {i} of seed {int(seed[i])} was compared with realization "
            f"{int(stored[i])}, but this study ({study.realizations} realization(s)) assigns "
            f"realization {int(expected[i])}; use another --out directory."
        )


def _collect_asks(
    runs: list[EGO],
    budget: int,
    options: EGOOptions,
    polishers: list[GaussNewtonPolish | None],
) -> list[tuple[int, np.ndarray, bool]]:
    """Next points per seed ``(seed, unit points, from the polish)``.

    A seed entering its last ``options.polish_evaluations(budget)`` evaluations starts a
    Gauss–Newton polish from its incumbent (after a resume, a fresh one that re-evaluates the
    incumbent); once the polish stops, or asks for more points than the budget has left, the
    seed goes back to EGO.
    """
    asks = []
    for k, run in enumerate(runs):
        done = len(run.history[1])
        if done >= budget or (done and run.should_stop):
            continue
        n_polish = options.polish_evaluations(budget)
        if n_polish and done >= budget - n_polish and run.best is not None:
            polisher = polishers[k]
            if polisher is None:
                gn = GaussNewtonOptions(fd_step=options.polish_fd_step)
                polisher = polishers[k] = GaussNewtonPolish(run.best[0], gn)
            unit = polisher.ask()
            if 0 < len(unit) <= budget - done:
                asks.append((k, unit, True))
                continue
            polisher.should_stop = True
        unit = np.atleast_2d(run.ask())[: budget - done]
        asks.append((k, unit, False))
    return asks


def _run_batch(
    study, theta, realization, executor, spec, timeout, residuals: bool = False
) -> xr.Dataset:
    target = spec if spec is not None else study
    chunks = split_batch(theta, executor_workers(executor))
    kw = {"residuals": True} if residuals else {}
    if isinstance(executor, InlineExecutor):
        futures = [
            executor.submit(evaluate, study, theta[idx], realization[idx], **kw) for idx in chunks
        ]
    elif spec is not None:
        futures = [
            executor.submit(spec.evaluate, theta[idx], realization[idx], **kw) for idx in chunks
        ]
    else:
        futures = [
            executor.submit(evaluate, target, theta[idx], realization[idx], **kw) for idx in chunks
        ]
    parts = []
    for idx, fut in zip(chunks, futures, strict=True):
        try:
            parts.append(fut.result(timeout=timeout))
        except StudyDefinitionError:  # the model's output does not fit the reference
            raise
        except FutureTimeout:
            fut.cancel()
            parts.append(_failed_part(len(idx), EvalStatus.TIMEOUT, f"no result in {timeout} s"))
        except Exception as exc:  # a worker died or could not run the study
            logger.warning("evaluation chunk failed: %s", exc)
            parts.append(_failed_part(len(idx), EvalStatus.FAILED, f"{type(exc).__name__}: {exc}"))
    out = xr.concat(parts, dim="sample", data_vars="all", coords="minimal", join="outer")
    tracebacks = [p.attrs["forward_traceback"] for p in parts if "forward_traceback" in p.attrs]
    out.attrs = {"forward_traceback": tracebacks[0]} if tracebacks else {}
    return out


def _stop_on_bug(result: xr.Dataset, store: EvaluationStore) -> None:
    """Stop the run when the forward model has a bug or fails wherever it runs.

    Raises
    ------
    ForwardModelError
        A programming error in the forward model (with its traceback); or a batch whose run
        evaluations all failed, when it ran at least 4 or nothing stored so far is OK after at
        least 3 runs (with the first message). The batch is saved first.
    """
    saved = "in memory" if store.path is None else f"in {store.path}"
    where = f"the batch is saved {saved}; fix the model and rerun to resume"
    if "forward_traceback" in result.attrs:
        raise ForwardModelError(
            f"the forward model raised a programming error ({where}):\n"
            + result.attrs["forward_traceback"]
        )
    status = result["status"].values
    ran = status != EvalStatus.INFEASIBLE
    if not ran.any() or np.any(status[ran] != EvalStatus.FAILED):
        return
    stored = store.data
    stored_status = np.empty(0) if stored is None else stored["status"].values
    stored_ran = stored_status[stored_status != EvalStatus.INFEASIBLE]
    never_ok = stored_ran.size >= 3 and not np.any(stored_ran == EvalStatus.OK)
    if ran.sum() >= 4 or never_ok:
        first = str(result["message"].values[np.flatnonzero(ran)[0]])
        raise ForwardModelError(
            f"every evaluation of a batch of {int(ran.sum())} failed"
            + (f", and none of the {stored_ran.size} so far worked" if never_ok else "")
            + f" ({where}); the first: {first}"
        )


def _failed_part(n: int, status: EvalStatus, message: str) -> xr.Dataset:
    return xr.Dataset(
        {
            "discrepancy": (("sample",), np.full(n, np.nan)),
            "stress_term": (("sample",), np.full(n, np.nan)),
            "status": (("sample",), np.full(n, int(status), dtype=np.int8)),
            "message": (("sample",), np.full(n, message)),
            "wall_s": (("sample",), np.zeros(n)),
        }
    )


def evaluation_record(
    result: xr.Dataset,
    unit: np.ndarray,
    study: Study,
    seed_idx: np.ndarray,
    batch_no: np.ndarray,
    realization: np.ndarray,
) -> xr.Dataset:
    """Rows of ``evaluations.nc`` from :func:`evaluate`'s result (dim ``sample`` -> ``eval``).

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`bayescal.study.evaluate`.
    unit : ndarray, shape (n, d)
        The points in the unit cube.
    study : Study
        Gives the physical parameters and their names.
    seed_idx, batch_no, realization : ndarray of int, shape (n,)
        EGO seed, round of that seed (negative: refinement) and data realization of each row.
    """
    record = result.rename({"sample": "eval"})
    record["theta"] = (("eval", "param"), study.from_unit(unit), {"long_name": "parameters"})
    record["unit"] = (("eval", "param"), unit, {"long_name": "parameters in the unit cube"})
    record["seed"] = (("eval",), seed_idx.astype(np.int32))
    record["batch"] = (("eval",), batch_no.astype(np.int32))
    record["realization"] = (
        ("eval",),
        np.asarray(realization).astype(np.int32),
        {"long_name": "index of the reference realization compared with"},
    )
    now = np.datetime64(int(time.time() * 1e6), "us").astype("datetime64[ns]")
    record["finished_at"] = (("eval",), np.full(len(unit), now))
    record["status"].attrs = {
        "flag_values": [int(s) for s in EvalStatus],
        "flag_meanings": " ".join(s.name.lower() for s in EvalStatus),
    }
    return record.assign_coords(param=list(study.names))


def _store_attrs(study: Study, spec: StudySpec | None, n_seeds: int) -> dict:
    attrs = provenance_attrs(
        study_name=study.name,
        study_fingerprint=study.fingerprint(),
        study_fingerprint_parts=json.dumps(study.fingerprint_parts(), sort_keys=True),
        root_seed=int(study.run.seed),
        n_seeds=int(n_seeds),
        n_realizations=int(study.realizations),
        description=study.description,
    )
    attrs[PER_REALIZATION_ATTR] = int(study.forward_per_realization)
    attrs["param_units"] = [p.units for p in study.parameters]
    attrs["param_lower"] = [p.lower for p in study.parameters]
    attrs["param_upper"] = [p.upper for p in study.parameters]
    if spec is not None:
        attrs["study_path"] = spec.path
        attrs["study_options"] = repr(dict(spec.options))
    return attrs


def _progress_bar(enabled: bool, total: int, initial: int, name: str):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, initial=initial, desc=name, unit="eval", dynamic_ncols=True)


def _update_bar(bar, record: xr.Dataset, store: EvaluationStore) -> None:
    if bar is None:
        return
    bar.update(record.sizes["eval"])
    data = cast(xr.Dataset, store.data)  # called right after store.append(record)
    ok = data["status"].values == EvalStatus.OK
    if ok.any():
        bar.set_postfix(
            best=f"{np.nanmin(data['discrepancy'].values[ok]):.4f}", failed=int((~ok).sum())
        )
